// What every layer is: a named computation from bottom tensors to top tensors, built once at set-up from the
// layer's spec (its parameters and the shapes trainer/net/spec worked out), holding its parameter blobs.
import * as tf from '@tensorflow/tfjs-core';

import './tfjs-gradients.js';
import { BadInputError } from '../../contract/errors.js';
import type { FillerParameter } from '../../proto/messages.js';
import type { Rng } from '../../rng.js';
import { fillBlob } from '../fillers.js';
import type { LayerSpec } from '../spec/types.js';

/** What a layer needs besides its spec. */
export interface LayerContext {
  /** The net's generator: fillers at set-up and random masks (Dropout) during forward draw from it. */
  rng: Rng;
}

/** How many bottoms or tops a layer takes, inclusive. `max: Infinity` for "any number". */
export interface BlobCount {
  min: number;
  max: number;
}

export const exactly = (n: number): BlobCount => ({ min: n, max: n });
export const atLeast = (n: number): BlobCount => ({ min: n, max: Number.POSITIVE_INFINITY });

/**
 * A layer. Subclasses declare their bottom and top counts, check their parameters in the constructor (never
 * in forward), create their blobs, and implement `forward` with tfjs ops only, so tf.grads and
 * tf.variableGrads give the backward pass.
 *
 * Data source hook: a layer with no bottoms (Input, DummyData, and the data helper's Data/ImageData layers,
 * registered with registerLayer like any other) produces its tops itself in `forward([], phase)`.
 */
export abstract class Layer {
  readonly name: string;
  readonly type: string;
  readonly spec: LayerSpec;
  /**
   * Parameter blobs in Caffe's order and shapes (weights, then bias; BatchNorm: mean, variance, scale factor).
   * The Net may replace an entry with another layer's variable to share a parameter, or assign loaded
   * weights. Variables whose values are statistics rather than learned (BatchNorm) are not trainable.
   */
  readonly blobs: tf.Variable[] = [];

  protected constructor(spec: LayerSpec, counts: { bottoms: BlobCount; tops: BlobCount }) {
    this.spec = spec;
    this.name = spec.name;
    this.type = spec.type;
    checkCount('bottom', spec.bottoms.length, counts.bottoms, this.where);
    checkCount('top', spec.tops.length, counts.tops, this.where);
  }

  /** Computes the tops. `phase` is Phase.TRAIN or Phase.TEST (Dropout and BatchNorm depend on it). */
  abstract forward(bottoms: tf.Tensor[], phase: number): tf.Tensor[];

  /** Loss weight of each top: the net's loss is the sum over tops of weight × sum of the top's values. */
  get lossWeights(): number[] {
    return this.spec.lossWeights;
  }

  /** How errors name this layer: `layer "conv1" (Convolution)`. */
  get where(): string {
    return `layer "${this.spec.name}" (${this.spec.type})`;
  }

  /** Frees the layer's blobs (shared blobs are freed by the layer that owns them). */
  dispose(): void {
    for (const blob of this.blobs) blob.dispose();
  }

  /** Creates a parameter blob filled by Caffe's filler, and appends it to `blobs`. */
  protected addFilledBlob(
    shape: readonly number[],
    filler: FillerParameter | undefined,
    fillerField: string,
    rng: Rng,
    trainable = true,
  ): tf.Variable {
    const values = fillBlob(filler, shape, rng, `${this.where} ${fillerField}`);
    return this.addBlob(values, shape, trainable);
  }

  protected addBlob(values: Float32Array, shape: readonly number[], trainable: boolean): tf.Variable {
    const initial = tf.tensor(values, [...shape], 'float32');
    // Unnamed: tfjs names must be unique per process, and a train and a test net hold equal layer names.
    const blob = tf.variable(initial, trainable);
    initial.dispose();
    this.blobs.push(blob);
    return blob;
  }

  /** The spec's parameter shape `index`, which trainer/net/spec computed. */
  protected paramShape(index: number): number[] {
    const shape = this.spec.paramShapes[index];
    if (!shape) {
      throw new BadInputError(
        `expected a shape for parameter blob ${index} from the net spec, received none`,
        this.where,
      );
    }
    return shape;
  }

  protected bottomShape(index: number): number[] {
    const shape = this.spec.bottomShapes[index];
    if (!shape) throw new BadInputError(`expected a shape for bottom ${index}, received none`, this.where);
    return shape;
  }

  protected topShape(index: number): number[] {
    const shape = this.spec.topShapes[index];
    if (!shape) throw new BadInputError(`expected a shape for top ${index}, received none`, this.where);
    return shape;
  }
}

function checkCount(kind: 'bottom' | 'top', received: number, expected: BlobCount, where: string): void {
  if (received >= expected.min && received <= expected.max) return;
  const range =
    expected.min === expected.max
      ? `exactly ${expected.min}`
      : expected.max === Number.POSITIVE_INFINITY
        ? `at least ${expected.min}`
        : `${expected.min} to ${expected.max}`;
  throw new BadInputError(`expected ${range} ${kind} blob(s), received ${received}`, where);
}
