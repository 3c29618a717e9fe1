// TypeScript shapes of Caffe's messages, with protobufjs's camelCase field names.
//
// A field that is absent in the file is absent (undefined) here: proto2 writes exactly the fields that are
// set, so an explicit default such as `encoded: false` survives a read and a write. Repeated fields may be
// absent when empty. Enums are numbers; the constant objects below name them.

export const Phase = { TRAIN: 0, TEST: 1 } as const;
export const VarianceNorm = { FAN_IN: 0, FAN_OUT: 1, AVERAGE: 2 } as const;
export const DimCheckMode = { STRICT: 0, PERMISSIVE: 1 } as const;
export const NormalizationMode = { FULL: 0, VALID: 1, BATCH_SIZE: 2, NONE: 3 } as const;
export const Engine = { DEFAULT: 0, CAFFE: 1, CUDNN: 2 } as const;
export const DB = { LEVELDB: 0, LMDB: 1 } as const;
export const EltwiseOp = { PROD: 0, SUM: 1, MAX: 2 } as const;
export const NormRegion = { ACROSS_CHANNELS: 0, WITHIN_CHANNEL: 1 } as const;
export const PoolMethod = { MAX: 0, AVE: 1, STOCHASTIC: 2 } as const;
export const RoundMode = { CEIL: 0, FLOOR: 1 } as const;
export const SnapshotFormat = { HDF5: 0, BINARYPROTO: 1 } as const;
export const SolverMode = { CPU: 0, GPU: 1 } as const;
export const SolverType = { SGD: 0, NESTEROV: 1, ADAGRAD: 2, RMSPROP: 3, ADADELTA: 4, ADAM: 5 } as const;

export interface BlobShape {
  dim: number[];
}

/** A blob: `shape` (current form) or the legacy 4-D num/channels/height/width, and its values. */
export interface BlobProto {
  num?: number;
  channels?: number;
  height?: number;
  width?: number;
  /** Decoded blobs always carry a Float32Array (possibly empty). */
  data: Float32Array | number[];
  diff?: Float32Array | number[];
  shape?: BlobShape;
  doubleData?: Float64Array | number[];
  doubleDiff?: Float64Array | number[];
}

export interface BlobProtoVector {
  blobs?: BlobProto[];
}

/** One image record in an LMDB. Raw: planar BGR bytes in `data`; encoded: a JPEG/PNG file in `data`. */
export interface Datum {
  /** 0 when absent (Caffe leaves channels/height/width unset for encoded datums). */
  channels: number;
  height: number;
  width: number;
  data?: Uint8Array;
  label: number;
  floatData?: number[];
  /** Absent when the file does not set it (reads as false). convert_imageset always sets it. */
  encoded?: boolean;
}

export interface FillerParameter {
  type?: string;
  value?: number;
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  sparse?: number;
  varianceNorm?: number;
}

export interface NetState {
  phase?: number;
  level?: number;
  stage?: string[];
}

export interface NetStateRule {
  phase?: number;
  minLevel?: number;
  maxLevel?: number;
  stage?: string[];
  notStage?: string[];
}

export interface ParamSpec {
  name?: string;
  shareMode?: number;
  lrMult?: number;
  decayMult?: number;
}

export interface TransformationParameter {
  scale?: number;
  mirror?: boolean;
  cropSize?: number;
  meanFile?: string;
  meanValue?: number[];
  forceColor?: boolean;
  forceGray?: boolean;
}

export interface LossParameter {
  ignoreLabel?: number;
  normalize?: boolean;
  normalization?: number;
}

export interface AccuracyParameter {
  topK?: number;
  axis?: number;
  ignoreLabel?: number;
}

export interface ConcatParameter {
  concatDim?: number;
  axis?: number;
}

export interface ConvolutionParameter {
  numOutput?: number;
  biasTerm?: boolean;
  pad?: number[];
  kernelSize?: number[];
  group?: number;
  stride?: number[];
  weightFiller?: FillerParameter;
  biasFiller?: FillerParameter;
  padH?: number;
  padW?: number;
  kernelH?: number;
  kernelW?: number;
  strideH?: number;
  strideW?: number;
  engine?: number;
  axis?: number;
  forceNdIm2col?: boolean;
  dilation?: number[];
}

export interface DataParameter {
  source?: string;
  scale?: number;
  meanFile?: string;
  batchSize?: number;
  cropSize?: number;
  mirror?: boolean;
  randSkip?: number;
  backend?: number;
  forceEncodedColor?: boolean;
  prefetch?: number;
}

export interface DropoutParameter {
  dropoutRatio?: number;
}

export interface DummyDataParameter {
  dataFiller?: FillerParameter[];
  num?: number[];
  channels?: number[];
  height?: number[];
  width?: number[];
  shape?: BlobShape[];
}

export interface EltwiseParameter {
  operation?: number;
  coeff?: number[];
  stableProdGrad?: boolean;
}

export interface FlattenParameter {
  axis?: number;
  endAxis?: number;
}

export interface ImageDataParameter {
  source?: string;
  scale?: number;
  meanFile?: string;
  batchSize?: number;
  cropSize?: number;
  mirror?: boolean;
  randSkip?: number;
  shuffle?: boolean;
  newHeight?: number;
  newWidth?: number;
  isColor?: boolean;
  rootFolder?: string;
}

export interface InnerProductParameter {
  numOutput?: number;
  biasTerm?: boolean;
  weightFiller?: FillerParameter;
  biasFiller?: FillerParameter;
  axis?: number;
  transpose?: boolean;
}

export interface InputParameter {
  shape?: BlobShape[];
}

export interface LRNParameter {
  localSize?: number;
  alpha?: number;
  beta?: number;
  normRegion?: number;
  k?: number;
  engine?: number;
}

export interface MemoryDataParameter {
  batchSize?: number;
  channels?: number;
  height?: number;
  width?: number;
}

export interface PoolingParameter {
  pool?: number;
  kernelSize?: number;
  stride?: number;
  pad?: number;
  kernelH?: number;
  kernelW?: number;
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  engine?: number;
  globalPooling?: boolean;
  roundMode?: number;
}

export interface ReLUParameter {
  negativeSlope?: number;
  engine?: number;
}

export interface EngineOnlyParameter {
  engine?: number;
}

export interface SoftmaxParameter {
  engine?: number;
  axis?: number;
}

export interface BatchNormParameter {
  useGlobalStats?: boolean;
  movingAverageFraction?: number;
  eps?: number;
}

export interface ScaleParameter {
  axis?: number;
  numAxes?: number;
  filler?: FillerParameter;
  biasTerm?: boolean;
  biasFiller?: FillerParameter;
}

/** Parameters of layer kinds this trainer does not model: kept as the raw bytes of their message. */
export type OpaqueParameter = Uint8Array;

export interface LayerParameter {
  name?: string;
  type?: string;
  bottom?: string[];
  top?: string[];
  lossWeight?: number[];
  param?: ParamSpec[];
  blobs?: BlobProto[];
  include?: NetStateRule[];
  exclude?: NetStateRule[];
  phase?: number;
  propagateDown?: boolean[];
  transformParam?: TransformationParameter;
  lossParam?: LossParameter;
  accuracyParam?: AccuracyParameter;
  concatParam?: ConcatParameter;
  convolutionParam?: ConvolutionParameter;
  dataParam?: DataParameter;
  dropoutParam?: DropoutParameter;
  dummyDataParam?: DummyDataParameter;
  eltwiseParam?: EltwiseParameter;
  imageDataParam?: ImageDataParameter;
  innerProductParam?: InnerProductParameter;
  lrnParam?: LRNParameter;
  memoryDataParam?: MemoryDataParameter;
  poolingParam?: PoolingParameter;
  reluParam?: ReLUParameter;
  sigmoidParam?: EngineOnlyParameter;
  softmaxParam?: SoftmaxParameter;
  tanhParam?: EngineOnlyParameter;
  flattenParam?: FlattenParameter;
  batchNormParam?: BatchNormParameter;
  scaleParam?: ScaleParameter;
  inputParam?: InputParameter;
  // The other `*_param` fields of caffe.proto, kept as the raw bytes of their messages.
  argmaxParam?: OpaqueParameter;
  contrastiveLossParam?: OpaqueParameter;
  expParam?: OpaqueParameter;
  hdf5DataParam?: OpaqueParameter;
  hdf5OutputParam?: OpaqueParameter;
  hingeLossParam?: OpaqueParameter;
  infogainLossParam?: OpaqueParameter;
  mvnParam?: OpaqueParameter;
  powerParam?: OpaqueParameter;
  sliceParam?: OpaqueParameter;
  thresholdParam?: OpaqueParameter;
  windowDataParam?: OpaqueParameter;
  pythonParam?: OpaqueParameter;
  preluParam?: OpaqueParameter;
  sppParam?: OpaqueParameter;
  reshapeParam?: OpaqueParameter;
  logParam?: OpaqueParameter;
  reductionParam?: OpaqueParameter;
  embedParam?: OpaqueParameter;
  tileParam?: OpaqueParameter;
  eluParam?: OpaqueParameter;
  biasParam?: OpaqueParameter;
  cropParam?: OpaqueParameter;
  parameterParam?: OpaqueParameter;
  recurrentParam?: OpaqueParameter;
  swishParam?: OpaqueParameter;
  clipParam?: OpaqueParameter;
}

/** The pre-2015 layer format, read only to be upgraded. */
export interface V1LayerParameter {
  layer?: OpaqueParameter;
  bottom?: string[];
  top?: string[];
  name?: string;
  type?: number;
  blobs?: BlobProto[];
  blobsLr?: number[];
  weightDecay?: number[];
  include?: NetStateRule[];
  exclude?: NetStateRule[];
  lossWeight?: number[];
  param?: string[];
  blobShareMode?: number[];
  concatParam?: ConcatParameter;
  convolutionParam?: ConvolutionParameter;
  dataParam?: DataParameter;
  dropoutParam?: DropoutParameter;
  imageDataParam?: ImageDataParameter;
  innerProductParam?: InnerProductParameter;
  lrnParam?: LRNParameter;
  poolingParam?: PoolingParameter;
  memoryDataParam?: MemoryDataParameter;
  eltwiseParam?: EltwiseParameter;
  dummyDataParam?: DummyDataParameter;
  accuracyParam?: AccuracyParameter;
  reluParam?: ReLUParameter;
  transformParam?: TransformationParameter;
  tanhParam?: EngineOnlyParameter;
  sigmoidParam?: EngineOnlyParameter;
  softmaxParam?: SoftmaxParameter;
  lossParam?: LossParameter;
  hdf5DataParam?: OpaqueParameter;
  hdf5OutputParam?: OpaqueParameter;
  infogainLossParam?: OpaqueParameter;
  windowDataParam?: OpaqueParameter;
  powerParam?: OpaqueParameter;
  argmaxParam?: OpaqueParameter;
  thresholdParam?: OpaqueParameter;
  hingeLossParam?: OpaqueParameter;
  sliceParam?: OpaqueParameter;
  mvnParam?: OpaqueParameter;
  contrastiveLossParam?: OpaqueParameter;
  expParam?: OpaqueParameter;
}

export interface NetParameter {
  name?: string;
  layers?: V1LayerParameter[];
  input?: string[];
  inputDim?: number[];
  forceBackward?: boolean;
  state?: NetState;
  debugInfo?: boolean;
  inputShape?: BlobShape[];
  layer?: LayerParameter[];
}

export interface SolverParameter {
  trainNet?: string;
  testNet?: string[];
  testIter?: number[];
  testInterval?: number;
  baseLr?: number;
  display?: number;
  maxIter?: number;
  lrPolicy?: string;
  gamma?: number;
  power?: number;
  momentum?: number;
  weightDecay?: number;
  stepsize?: number;
  snapshot?: number;
  snapshotPrefix?: string;
  snapshotDiff?: boolean;
  solverMode?: number;
  deviceId?: number;
  testComputeLoss?: boolean;
  randomSeed?: number;
  trainNetParam?: NetParameter;
  testNetParam?: NetParameter[];
  debugInfo?: boolean;
  net?: string;
  netParam?: NetParameter;
  trainState?: NetState;
  testState?: NetState[];
  snapshotAfterTrain?: boolean;
  regularizationType?: string;
  solverType?: number;
  delta?: number;
  testInitialization?: boolean;
  averageLoss?: number;
  stepvalue?: number[];
  clipGradients?: number;
  iterSize?: number;
  snapshotFormat?: number;
  rmsDecay?: number;
  momentum2?: number;
  type?: string;
  layerWiseReduce?: boolean;
  weights?: string[];
}

export interface SolverState {
  iter?: number;
  learnedNet?: string;
  history?: BlobProto[];
  currentStep?: number;
}
