// The solver room: Caffe's solver types, learning-rate policies, training loop, state and log lines.
export {
  LR_POLICIES,
  type LrPolicyName,
  SNAPSHOT_FORMAT,
  SOLVER_TYPES,
  type SolverParameterFields,
  type SolverSettings,
  type SolverTypeName,
  solverSettings,
} from './config.js';
export { clipScale, globalL2Norm, normalizeAndRegularize } from './gradients.js';
export {
  formatDefaultStream,
  formatFloat,
  formatLogLine,
  glogSink,
  type LogLine,
  type LogSink,
  logLines,
  type OutputValue,
} from './log-lines.js';
export { type LearningRate, learningRate } from './lr-policy.js';
export { type LossWindowState, SmoothedLoss } from './smoothed-loss.js';
export {
  type ForwardResult,
  type LearnableParam,
  type NetOutput,
  type SnapshotWriter,
  Solver,
  type SolverAction,
  type SolverObserver,
  type SolverOptions,
  snapshotFilename,
  type TestNet,
  type TrainNet,
  type TrainPass,
} from './solver.js';
export {
  fromSolverStateMessage,
  type HistoryBlob,
  type SolverStateMessage,
  type SolverStateRecord,
  toSolverStateMessage,
} from './state.js';
export {
  applyUpdate,
  type UpdateInput,
  type UpdateOutput,
  type UpdateRule,
  updateRule,
} from './update-rules/index.js';
