// SIGTERM and SIGINT during `caffe train`: finish the current iteration, snapshot, stop (exit 0). The pod
// is being stopped; the snapshot lets the next pod resume. Further signals change nothing.
import type { SolverAction } from '../solver/index.js';

export interface StopSignals {
  /** The solver's requestedAction hook. */
  requestedAction(): SolverAction;
  /** The signal that asked to stop, if any. */
  readonly received: NodeJS.Signals | undefined;
  dispose(): void;
}

export function listenForStop(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): StopSignals {
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    received ??= signal;
  };
  for (const signal of signals) process.on(signal, handler);
  return {
    requestedAction: () => (received === undefined ? 'none' : 'stop'),
    get received() {
      return received;
    },
    dispose() {
      for (const signal of signals) process.off(signal, handler);
    },
  };
}
