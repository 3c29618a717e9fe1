// Legacy nets and solvers brought to the current form, as Caffe does every time it reads one:
// V0 `layers { layer { ... } }` → V1 (upgrade-v0.ts), V1 `layers` (numeric types, blobs_lr/weight_decay) →
// `layer`, data-layer transform fields → transform_param, net-level input/input_dim/input_shape → an Input layer, old BatchNorm param specs, and solver_type → type.
// Pure functions: each returns a new message and the list of upgrades it applied.
import { BadInputError } from '../contract/errors.js';
import type {
  LayerParameter,
  NetParameter,
  ParamSpec,
  SolverParameter,
  V1LayerParameter,
} from './messages.js';
import { netNeedsV0Upgrade, upgradeV0Net } from './upgrade-v0.js';

/** V1LayerParameter.LayerType number → current type string. */
export const V1_LAYER_TYPES: Record<number, string> = {
  35: 'AbsVal',
  1: 'Accuracy',
  30: 'ArgMax',
  2: 'BNLL',
  3: 'Concat',
  37: 'ContrastiveLoss',
  4: 'Convolution',
  39: 'Deconvolution',
  5: 'Data',
  6: 'Dropout',
  32: 'DummyData',
  7: 'EuclideanLoss',
  25: 'Eltwise',
  38: 'Exp',
  8: 'Flatten',
  9: 'HDF5Data',
  10: 'HDF5Output',
  28: 'HingeLoss',
  11: 'Im2col',
  12: 'ImageData',
  13: 'InfogainLoss',
  14: 'InnerProduct',
  15: 'LRN',
  29: 'MemoryData',
  16: 'MultinomialLogisticLoss',
  34: 'MVN',
  17: 'Pooling',
  26: 'Power',
  18: 'ReLU',
  19: 'Sigmoid',
  27: 'SigmoidCrossEntropyLoss',
  36: 'Silence',
  20: 'Softmax',
  21: 'SoftmaxWithLoss',
  22: 'Split',
  33: 'Slice',
  23: 'TanH',
  24: 'WindowData',
  31: 'Threshold',
};

const SOLVER_TYPES = ['SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam'];
const V1_DATA_TYPES = new Set([5, 12, 24]); // DATA, IMAGE_DATA, WINDOW_DATA
/** V1 fields that are not copied as they are. */
const V1_SPECIAL_FIELDS = new Set([
  'layer',
  'bottom',
  'top',
  'name',
  'type',
  'blobs',
  'blobsLr',
  'weightDecay',
  'include',
  'exclude',
  'lossWeight',
  'param',
  'blobShareMode',
]);

export interface Upgraded<T> {
  message: T;
  /** What was upgraded, in Caffe's words; empty when the input was already current. */
  upgrades: string[];
}

export function upgradeNetParameter(input: NetParameter, fileName = '<net>'): Upgraded<NetParameter> {
  let net: NetParameter = { ...input };
  const upgrades: string[] = [];
  if (net.layers && net.layers.length > 0) {
    if (netNeedsV0Upgrade(net)) {
      net = upgradeV0Net(net, fileName);
      upgrades.push('V0LayerParameter');
    }
    let layers = net.layers ?? [];
    if (layers.some(needsDataTransformUpgrade)) {
      layers = layers.map(upgradeV1DataTransform);
      upgrades.push('data transformation parameters');
    }
    if (net.layer && net.layer.length > 0) {
      throw new BadInputError("the net has both 'layer' and legacy 'layers' fields", fileName);
    }
    net.layer = layers.map((l, i) => upgradeV1Layer(l, `${fileName}: layers[${i}]`));
    delete net.layers;
    upgrades.push('V1LayerParameter');
  }
  if (net.input?.length || net.inputDim?.length || net.inputShape?.length) {
    net = upgradeInputFields(net, fileName);
    upgrades.push('input fields');
  }
  if (net.layer?.some(isOldBatchNorm)) {
    net.layer = net.layer.map((l) => (isOldBatchNorm(l) ? upgradeBatchNorm(l) : l));
    upgrades.push('batch norm layers');
  }
  return { message: net, upgrades };
}

export function upgradeSolverParameter(
  input: SolverParameter,
  fileName = '<solver>',
): Upgraded<SolverParameter> {
  if (input.solverType === undefined) return { message: input, upgrades: [] };
  if (input.type !== undefined) {
    throw new BadInputError(
      'old solver_type field (enum) and new type field (string) cannot be both specified',
      fileName,
    );
  }
  const type = SOLVER_TYPES[input.solverType];
  if (type === undefined) throw new BadInputError(`unknown solver_type ${input.solverType}`, fileName);
  const { solverType: _dropped, ...rest } = input;
  return { message: { ...rest, type }, upgrades: ['solver type'] };
}

function upgradeV1Layer(v1: V1LayerParameter, where: string): LayerParameter {
  const layer: LayerParameter = {};
  if (v1.name !== undefined) layer.name = v1.name;
  if (v1.type !== undefined) {
    const type = V1_LAYER_TYPES[v1.type];
    if (type === undefined) throw new BadInputError(`unknown V1 layer type ${v1.type}`, where);
    layer.type = type;
  }
  if (v1.bottom) layer.bottom = [...v1.bottom];
  if (v1.top) layer.top = [...v1.top];
  if (v1.lossWeight) layer.lossWeight = [...v1.lossWeight];
  if (v1.blobs) layer.blobs = v1.blobs;
  if (v1.include) layer.include = v1.include;
  if (v1.exclude) layer.exclude = v1.exclude;
  const params: ParamSpec[] = [];
  const at = (i: number) => {
    while (params.length <= i) params.push({});
    return params[i]!;
  };
  v1.param?.forEach((name, i) => {
    at(i).name = name;
  });
  v1.blobShareMode?.forEach((mode, i) => {
    at(i).shareMode = mode;
  });
  v1.blobsLr?.forEach((lr, i) => {
    at(i).lrMult = lr;
  });
  v1.weightDecay?.forEach((decay, i) => {
    at(i).decayMult = decay;
  });
  if (params.length > 0) layer.param = params;
  // The type-specific parameter messages are the same messages, under the same names.
  const target = layer as Record<string, unknown>;
  for (const [key, value] of Object.entries(v1)) {
    if (!V1_SPECIAL_FIELDS.has(key) && value !== undefined) target[key] = value;
  }
  return layer;
}

function needsDataTransformUpgrade(v1: V1LayerParameter): boolean {
  if (v1.type === undefined || !V1_DATA_TYPES.has(v1.type)) return false;
  const params = [v1.dataParam, v1.imageDataParam, v1.windowDataParam] as (
    | Record<string, unknown>
    | undefined
  )[];
  return params.some((p) => p && ['scale', 'meanFile', 'cropSize', 'mirror'].some((k) => p[k] !== undefined));
}

/** Moves scale/mean_file/crop_size/mirror from data_param, image_data_param or window_data_param into
 * transform_param. */
function upgradeV1DataTransform(v1: V1LayerParameter): V1LayerParameter {
  if (!needsDataTransformUpgrade(v1)) return v1;
  const out = { ...v1 } as Record<string, unknown>;
  const transform: Record<string, unknown> = { ...(v1.transformParam ?? {}) };
  for (const key of ['dataParam', 'imageDataParam', 'windowDataParam']) {
    const source = out[key] as Record<string, unknown> | undefined;
    if (!source) continue;
    const rest = { ...source };
    for (const field of ['scale', 'meanFile', 'cropSize', 'mirror']) {
      if (rest[field] !== undefined) transform[field] = rest[field];
      delete rest[field];
    }
    out[key] = rest;
  }
  out.transformParam = transform;
  return out as V1LayerParameter;
}

/** input/input_dim/input_shape → a first layer named "input" of type Input. */
function upgradeInputFields(net: NetParameter, fileName: string): NetParameter {
  const inputs = net.input ?? [];
  const dims = net.inputDim ?? [];
  let shapes = net.inputShape ?? [];
  if (shapes.length === 0) {
    if (dims.length !== inputs.length * 4) {
      throw new BadInputError(
        `input_dim: expected 4 values per input (${inputs.length * 4}), received ${dims.length}`,
        fileName,
      );
    }
    shapes = inputs.map((_, i) => ({ dim: dims.slice(i * 4, i * 4 + 4) }));
  } else if (shapes.length !== inputs.length) {
    throw new BadInputError(
      `input_shape: expected one shape per input (${inputs.length}), received ${shapes.length}`,
      fileName,
    );
  }
  const { input: _i, inputDim: _d, inputShape: _s, ...rest } = net;
  const inputLayer: LayerParameter = {
    name: 'input',
    type: 'Input',
    top: [...inputs],
    inputParam: { shape: shapes },
  };
  return { ...rest, layer: [inputLayer, ...(net.layer ?? [])] };
}

function isOldBatchNorm(layer: LayerParameter): boolean {
  return layer.type === 'BatchNorm' && layer.param?.length === 3;
}

function upgradeBatchNorm(layer: LayerParameter): LayerParameter {
  return { ...layer, param: layer.param!.map((p) => ({ ...p, lrMult: 0, decayMult: 0 })) };
}
