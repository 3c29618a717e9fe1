// NetParameter + NetState → NetSpec: filter the layers, insert splits, then set every layer up in order,
// checking its blob counts and parameters and computing its top and parameter shapes.
import { BadInputError } from '../../contract/errors.js';
import type { LayerParameter, NetParameter } from '../../proto/index.js';
import { describeLayer, filterLayers, type NetStateInput } from './filter.js';
import { shapeRuleFor } from './registry.js';
import { insertedSplitLayers, insertSplits } from './splits.js';
import {
  type DataShapeDefaults,
  DEFAULT_DATA_SHAPE,
  type LayerSpec,
  type NetSpec,
  type Shape,
} from './types.js';

export interface NetSpecOptions {
  /** 0 = TRAIN, 1 = TEST (Phase). */
  phase: number;
  /** Overrides the net file's state.level when given. */
  level?: number;
  /** Added to the net file's state.stage. */
  stages?: string[];
  /** Image size for data layers whose prototxt does not fix it. */
  dataShape?: DataShapeDefaults;
  /** Each Data layer's image size from its database's first record, by layer name (Caffe's source of it);
   * a layer missing here takes `dataShape`. */
  recordShapes?: ReadonlyMap<string, DataShapeDefaults>;
  /** Names the file in errors. */
  fileName?: string;
}

export function buildNetSpec(net: NetParameter, options: NetSpecOptions): NetSpec {
  const fileName = options.fileName ?? '<net>';
  if (net.layers && net.layers.length > 0) {
    throw new BadInputError("legacy 'layers' field: upgrade the net first (upgradeNetParameter)", fileName);
  }
  const state: NetStateInput = {
    phase: options.phase,
    level: options.level ?? net.state?.level ?? 0,
    stages: [...(net.state?.stage ?? []), ...(options.stages ?? [])],
  };
  const layers = insertSplits(filterLayers(net, state, fileName), fileName);
  const blobShapes = new Map<string, Shape>();
  const available = new Set<string>();
  const specs = layers.map((layer, i) =>
    setUpLayer(layer, `${fileName}: ${describeLayer(layer, i)}`, {
      blobShapes,
      available,
      phase: state.phase,
      dataShape: options.dataShape ?? DEFAULT_DATA_SHAPE,
      recordShapes: options.recordShapes ?? new Map(),
    }),
  );
  return {
    name: net.name ?? '',
    phase: state.phase,
    level: state.level,
    stages: state.stages,
    layers: specs,
    blobShapes,
    outputs: [...available].sort(),
  };
}

interface NetInProgress {
  blobShapes: Map<string, Shape>;
  /** Blobs produced and not yet consumed; what is left at the end are the net's outputs. */
  available: Set<string>;
  phase: number;
  dataShape: DataShapeDefaults;
  recordShapes: ReadonlyMap<string, DataShapeDefaults>;
}

function setUpLayer(original: LayerParameter, where: string, net: NetInProgress): LayerSpec {
  const type = original.type;
  if (!type) throw new BadInputError('layer has no type', where);
  const rule = shapeRuleFor(type, where);
  const bottoms = original.bottom ?? [];
  const tops = original.top ?? [];
  checkCount(where, 'bottom', bottoms.length, rule.bottoms);
  checkCount(where, 'top', tops.length, rule.tops);

  const bottomShapes = bottoms.map((blob, j) => {
    const shape = net.blobShapes.get(blob);
    if (!shape) throw new BadInputError(`unknown bottom blob "${blob}" (bottom index ${j})`, where);
    return shape;
  });
  tops.forEach((blob, j) => {
    const inPlace = bottoms[j] === blob;
    if (net.blobShapes.has(blob) && !inPlace) {
      throw new BadInputError(`top blob "${blob}" is produced by more than one layer`, where);
    }
  });

  const layer: LayerParameter = { ...original };
  // Caffe compat: loss layers get loss_weight 1 on their first top, written into the stored parameters.
  if (/Loss$/.test(type) && (layer.lossWeight ?? []).length === 0) layer.lossWeight = [1];
  const lossWeights = tops.map((_, j) => layer.lossWeight?.[j] ?? 0);
  if ((layer.lossWeight ?? []).length > tops.length) {
    throw new BadInputError(
      `loss_weight: expected at most one per top (${tops.length}), received ${layer.lossWeight!.length}`,
      where,
    );
  }

  const result = rule.setUp({
    layer,
    where,
    name: layer.name ?? '',
    bottomShapes,
    topCount: tops.length,
    phase: net.phase,
    dataShape: net.recordShapes.get(layer.name ?? '') ?? net.dataShape,
  });
  if ((layer.param ?? []).length > result.paramShapes.length) {
    throw new BadInputError(
      `param: expected at most ${result.paramShapes.length} ParamSpecs (one per parameter blob), received ${layer.param!.length}`,
      where,
    );
  }
  bottoms.forEach((blob) => {
    net.available.delete(blob);
  });
  tops.forEach((blob, j) => {
    net.blobShapes.set(blob, result.topShapes[j]!);
    net.available.add(blob);
  });
  return {
    name: layer.name ?? '',
    type,
    bottoms,
    tops,
    bottomShapes,
    topShapes: result.topShapes,
    paramShapes: result.paramShapes,
    lossWeights,
    param: layer,
    inserted: insertedSplitLayers.has(original),
  };
}

function checkCount(
  where: string,
  what: string,
  received: number,
  range: { min: number; max: number },
): void {
  if (received >= range.min && received <= range.max) return;
  const expected =
    range.min === range.max
      ? `${range.min}`
      : range.max === Number.POSITIVE_INFINITY
        ? `at least ${range.min}`
        : `${range.min} to ${range.max}`;
  throw new BadInputError(`expected ${expected} ${what} blob(s), received ${received}`, where);
}
