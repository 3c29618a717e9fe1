// The solver's settings: the SolverParameter fields the solver reads, with Caffe's defaults filled in and
// checked once, before the first iteration.
import { BadInputError } from '../contract/errors.js';

/** Caffe's solver types, by the name `type:` takes. */
export const SOLVER_TYPES = ['SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam'] as const;
export type SolverTypeName = (typeof SOLVER_TYPES)[number];

/** The learning-rate policies `lr_policy:` takes. */
export const LR_POLICIES = ['fixed', 'step', 'exp', 'inv', 'multistep', 'poly', 'sigmoid'] as const;
export type LrPolicyName = (typeof LR_POLICIES)[number];

/** SnapshotFormat enum values. */
export const SNAPSHOT_FORMAT = { HDF5: 0, BINARYPROTO: 1 } as const;

/**
 * The SolverParameter fields the solver reads, camelCase as trainer/proto decodes them; every field is
 * optional (absent = Caffe's default), so a decoded SolverParameter can be passed as is.
 */
export interface SolverParameterFields {
  baseLr?: number;
  lrPolicy?: string;
  gamma?: number;
  power?: number;
  stepsize?: number;
  stepvalue?: number[];
  maxIter?: number;
  momentum?: number;
  momentum2?: number;
  delta?: number;
  rmsDecay?: number;
  weightDecay?: number;
  regularizationType?: string;
  clipGradients?: number;
  iterSize?: number;
  /** The solver type by name (current form). */
  type?: string;
  /** The deprecated SolverType enum: SGD 0, NESTEROV 1, ADAGRAD 2, RMSPROP 3, ADADELTA 4, ADAM 5. */
  solverType?: number;
  averageLoss?: number;
  display?: number;
  testInterval?: number;
  testIter?: number[];
  testInitialization?: boolean;
  testComputeLoss?: boolean;
  snapshot?: number;
  snapshotPrefix?: string;
  snapshotAfterTrain?: boolean;
  snapshotFormat?: number;
}

/** Every setting resolved. Float fields are float32 values, as Caffe holds them. */
export interface SolverSettings {
  baseLr: number;
  lrPolicy: LrPolicyName;
  gamma: number;
  power: number;
  stepsize: number;
  stepvalue: number[];
  maxIter: number;
  momentum: number;
  /** Adam's β2. Default 0.999. */
  momentum2: number;
  /** Numerical guard of AdaGrad, RMSProp, AdaDelta and Adam. Default 1e-8. */
  delta: number;
  /** RMSProp's decay. Default 0.99. */
  rmsDecay: number;
  weightDecay: number;
  regularizationType: 'L1' | 'L2';
  /** Global L2 norm limit of the gradient; negative = off (default -1). */
  clipGradients: number;
  iterSize: number;
  type: SolverTypeName;
  averageLoss: number;
  display: number;
  testInterval: number;
  testIter: number[];
  testInitialization: boolean;
  testComputeLoss: boolean;
  snapshot: number;
  snapshotPrefix: string;
  snapshotAfterTrain: boolean;
  snapshotFormat: number;
}

/** Resolves defaults and checks the settings; errors name the solver field, in Caffe's snake_case. */
export function solverSettings(param: SolverParameterFields): SolverSettings {
  const f = Math.fround;
  const settings: SolverSettings = {
    baseLr: f(param.baseLr ?? 0),
    lrPolicy: checkLrPolicy(param.lrPolicy),
    gamma: f(param.gamma ?? 0),
    power: f(param.power ?? 0),
    stepsize: param.stepsize ?? 0,
    stepvalue: [...(param.stepvalue ?? [])],
    maxIter: param.maxIter ?? 0,
    momentum: f(param.momentum ?? 0),
    momentum2: f(param.momentum2 ?? 0.999),
    delta: f(param.delta ?? 1e-8),
    rmsDecay: f(param.rmsDecay ?? 0.99),
    weightDecay: f(param.weightDecay ?? 0),
    regularizationType: checkRegularization(param.regularizationType),
    clipGradients: f(param.clipGradients ?? -1),
    iterSize: param.iterSize ?? 1,
    type: solverTypeOf(param),
    averageLoss: param.averageLoss ?? 1,
    display: param.display ?? 0,
    testInterval: param.testInterval ?? 0,
    testIter: [...(param.testIter ?? [])],
    testInitialization: param.testInitialization ?? true,
    testComputeLoss: param.testComputeLoss ?? false,
    snapshot: param.snapshot ?? 0,
    snapshotPrefix: param.snapshotPrefix ?? '',
    snapshotAfterTrain: param.snapshotAfterTrain ?? true,
    snapshotFormat: param.snapshotFormat ?? SNAPSHOT_FORMAT.BINARYPROTO,
  };
  checkNumbers(settings);
  if (settings.snapshotFormat !== SNAPSHOT_FORMAT.BINARYPROTO) {
    // See trainer/README.md, "HDF5": refused up front rather than protobuf bytes written into `.h5` files.
    throw new BadInputError(
      settings.snapshotFormat === SNAPSHOT_FORMAT.HDF5
        ? 'HDF5 snapshots are not supported; use BINARYPROTO (the default)'
        : `expected HDF5 or BINARYPROTO, received ${settings.snapshotFormat}`,
      'snapshot_format',
    );
  }
  return settings;
}

/** The name of a solver type given either as `type` or as the deprecated `solver_type` enum. */
export function solverTypeOf(param: Pick<SolverParameterFields, 'type' | 'solverType'>): SolverTypeName {
  let fromEnum: SolverTypeName | undefined;
  if (param.solverType !== undefined) {
    fromEnum = SOLVER_TYPES[param.solverType];
    if (fromEnum === undefined) {
      throw new BadInputError(
        `expected 0..${SOLVER_TYPES.length - 1} (${SOLVER_TYPES.join(', ')}), received ${param.solverType}`,
        'solver_type',
      );
    }
  }
  if (param.type === undefined) return fromEnum ?? 'SGD';
  const named = SOLVER_TYPES.find((name) => name === param.type);
  if (named === undefined) {
    throw new BadInputError(`expected one of ${SOLVER_TYPES.join(', ')}, received "${param.type}"`, 'type');
  }
  if (fromEnum !== undefined && fromEnum !== named) {
    throw new BadInputError(
      `the deprecated solver_type (${fromEnum}) and type ("${named}") disagree; set only type`,
      'solver_type',
    );
  }
  return named;
}

// Caffe compat: Caffe finds an unset or unknown lr_policy only at the first update; we refuse it before
// training starts, with the same meaning.
function checkLrPolicy(policy: string | undefined): LrPolicyName {
  const known = LR_POLICIES.find((name) => name === policy);
  if (known !== undefined) return known;
  const received = policy === undefined ? 'nothing (the field has no default)' : `"${policy}"`;
  throw new BadInputError(`expected one of ${LR_POLICIES.join(', ')}, received ${received}`, 'lr_policy');
}

function checkRegularization(type: string | undefined): 'L1' | 'L2' {
  if (type === undefined || type === 'L2') return 'L2';
  if (type === 'L1') return 'L1';
  throw new BadInputError(`expected "L1" or "L2", received "${type}"`, 'regularization_type');
}

function checkNumbers(s: SolverSettings): void {
  const need = (ok: boolean, field: string, expected: string, received: unknown) => {
    if (!ok) throw new BadInputError(`expected ${expected}, received ${String(received)}`, field);
  };
  need(Number.isInteger(s.iterSize) && s.iterSize >= 1, 'iter_size', 'an integer ≥ 1', s.iterSize);
  need(
    Number.isInteger(s.averageLoss) && s.averageLoss >= 1,
    'average_loss',
    'an integer ≥ 1',
    s.averageLoss,
  );
  need(s.display >= 0, 'display', 'a count ≥ 0', s.display);
  need(s.snapshot >= 0, 'snapshot', 'a count ≥ 0', s.snapshot);
  need(s.testInterval >= 0, 'test_interval', 'a count ≥ 0', s.testInterval);
  need(
    s.testIter.length === 0 || s.testInterval > 0,
    'test_interval',
    '> 0 when test_iter is set',
    s.testInterval,
  );
  for (const [i, n] of s.testIter.entries()) need(n >= 0, `test_iter[${i}]`, 'a count ≥ 0', n);
  const policy = s.lrPolicy;
  if (policy === 'step' || policy === 'sigmoid')
    need(s.stepsize > 0, 'stepsize', `> 0 for lr_policy "${policy}"`, s.stepsize);
  if (policy !== 'fixed' && policy !== 'poly')
    need(s.gamma >= 0, 'gamma', `≥ 0 for lr_policy "${policy}"`, s.gamma);
  if (policy === 'poly') need(s.maxIter > 0, 'max_iter', '> 0 for lr_policy "poly"', s.maxIter);
  if (s.type === 'AdaGrad' || s.type === 'RMSProp') {
    need(s.momentum === 0, 'momentum', `0: momentum cannot be used with ${s.type}`, s.momentum);
  }
  if (s.type === 'RMSProp')
    need(s.rmsDecay >= 0 && s.rmsDecay < 1, 'rms_decay', 'a value in [0, 1)', s.rmsDecay);
}
