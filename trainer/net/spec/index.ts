// Net spec: the filtered, split-inserted, shape-inferred layer graph the trainer builds tfjs layers on.
import './rules/index.js';

export { buildNetSpec, type NetSpecOptions } from './build.js';
export { filterLayers, layerIsIncluded, type NetStateInput, stateMeetsRule } from './filter.js';
export { formatTopShape, phaseName, setUpLogLines } from './log.js';
export { learnableTotals, type ParamBlob, paramBlobs } from './params.js';
export { knownLayerTypes, registerShapeRule, shapeRuleFor } from './registry.js';
export { pooledSize } from './rules/pooling.js';
export { insertSplits, splitBlobName, splitLayerName } from './splits.js';
export * from './types.js';
export { blobMatchesShape, blobShape, checkWeightsMatch, type WeightsMatch } from './weights.js';
