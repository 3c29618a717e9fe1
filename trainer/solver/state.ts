// The solver state that survives a restart, and its conversion to and from the SolverState message
// (SolverState in BVLC/caffe src/caffe/proto/caffe.proto; src/caffe/solvers/sgd_solver.cpp), so a
// .solverstate written by Caffe resumes here and the reverse.
import { BadInputError } from '../contract/errors.js';
import type { LossWindowState } from './smoothed-loss.js';

/** One history blob: shaped like its parameter. */
export interface HistoryBlob {
  shape: number[];
  data: Float32Array;
}

export interface SolverStateRecord {
  /** Updates done. */
  iter: number;
  /** The model file written with this state (SolverState.learned_net). */
  learnedNet?: string;
  /** Every parameter's history slot 0 in parameter order, then slot 1, ... (Caffe's layout). */
  history: HistoryBlob[];
  /** The multistep position (SolverState.current_step). */
  currentStep: number;
  /**
   * The smoothed-loss window. Not part of a .solverstate (Caffe does not keep it): present only when a
   * state is handed over in memory, so the displayed loss continues as if training never stopped.
   */
  lossWindow?: LossWindowState;
}

/** The SolverState message as trainer/proto types it (BlobProto with shape or legacy 4-D dims). */
export interface SolverStateMessage {
  iter?: number;
  learnedNet?: string;
  history?: HistoryBlobMessage[];
  currentStep?: number;
}

export interface HistoryBlobMessage {
  num?: number;
  channels?: number;
  height?: number;
  width?: number;
  data: Float32Array | number[];
  shape?: { dim: number[] };
  doubleData?: Float64Array | number[];
}

/** The message Caffe writes: iter, learned_net, history (shape + data), current_step (always set). */
export function toSolverStateMessage(record: SolverStateRecord): SolverStateMessage {
  return {
    iter: record.iter,
    learnedNet: record.learnedNet ?? '',
    history: record.history.map((blob) => ({ shape: { dim: [...blob.shape] }, data: blob.data })),
    currentStep: record.currentStep,
  };
}

/** Reads a decoded SolverState; `where` names the file in errors. */
export function fromSolverStateMessage(
  message: SolverStateMessage,
  where = 'solverstate',
): SolverStateRecord {
  const history = (message.history ?? []).map((blob, index) =>
    historyBlob(blob, `${where}: history[${index}]`),
  );
  for (const field of ['iter', 'currentStep'] as const) {
    const value = message[field] ?? 0;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new BadInputError(
        `${field === 'iter' ? 'iter' : 'current_step'}: expected a count, received ${value}`,
        where,
      );
    }
  }
  return {
    iter: message.iter ?? 0,
    ...(message.learnedNet ? { learnedNet: message.learnedNet } : {}),
    history,
    currentStep: message.currentStep ?? 0,
  };
}

// Blob shape precedence as Caffe's Blob::FromProto: any legacy dim present means the 4-D legacy shape;
// double_data wins over data when non-empty.
function historyBlob(blob: HistoryBlobMessage, where: string): HistoryBlob {
  const legacy = [blob.num, blob.channels, blob.height, blob.width];
  const shape = legacy.some((d) => d !== undefined)
    ? legacy.map((d) => d ?? 0)
    : [...(blob.shape?.dim ?? [])];
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new BadInputError(`expected a shape of counts, received [${shape.join(', ')}]`, where);
  }
  const source = blob.doubleData && blob.doubleData.length > 0 ? blob.doubleData : blob.data;
  const data = Float32Array.from(source);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new BadInputError(
      `expected ${count} values for shape [${shape.join(', ')}], received ${data.length}`,
      where,
    );
  }
  return { shape, data };
}
