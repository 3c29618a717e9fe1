// What a net spec is: the layer graph Caffe would build from a NetParameter for one NetState, with every
// blob's shape and every layer's learnable blob shapes worked out, before any tensor exists.
import type { LayerParameter } from '../../proto/index.js';

/** A blob shape, outermost axis first (N, C, H, W). `[]` is a scalar; its count is 1. */
export type Shape = number[];

export interface LayerSpec {
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
  bottomShapes: Shape[];
  topShapes: Shape[];
  /** Shapes of the layer's parameter blobs (weights then bias), in Caffe's order. */
  paramShapes: Shape[];
  /** Loss weight of each top (0 for tops that add nothing to the loss). */
  lossWeights: number[];
  /** The layer's parameters after filtering: `phase` filled in, default loss_weight added for loss layers. */
  param: LayerParameter;
  /** True for Split layers that insertSplits added. */
  inserted: boolean;
}

export interface NetSpec {
  name: string;
  phase: number;
  level: number;
  stages: string[];
  layers: LayerSpec[];
  /** Every blob's shape by name (an in-place layer keeps its blob's shape). */
  blobShapes: Map<string, Shape>;
  /** Blobs produced but never consumed, in alphabetical order (Caffe's net outputs). */
  outputs: string[];
}

/** Image sizes for data layers whose shape is not in the prototxt (a Data layer without crop_size). */
export interface DataShapeDefaults {
  channels: number;
  height: number;
  width: number;
}

export const DEFAULT_DATA_SHAPE: DataShapeDefaults = { channels: 3, height: 256, width: 256 };

/** What a shape rule sees at set-up. */
export interface SetUpContext {
  layer: LayerParameter;
  /** Names the layer in errors: `train_val.prototxt: layer "conv1" (Convolution)`. */
  where: string;
  name: string;
  bottomShapes: Shape[];
  topCount: number;
  phase: number;
  dataShape: DataShapeDefaults;
}

export interface SetUpResult {
  topShapes: Shape[];
  paramShapes: Shape[];
}

/** One layer type's shape rule: how many blobs it takes and gives, and what shapes it makes. */
export interface ShapeRule {
  type: string;
  bottoms: { min: number; max: number };
  tops: { min: number; max: number };
  /** Validates the layer's parameters and computes top and parameter shapes. Throws BadInputError. */
  setUp(context: SetUpContext): SetUpResult;
}

export function count(shape: Shape): number {
  return shape.reduce((n, d) => n * d, 1);
}
