// SGD with momentum (BVLC/caffe src/caffe/solvers/sgd_solver.cpp): V ← momentum·V + local_rate·g; W ← W − V.
import { axpby, registerUpdateRule, type UpdateInput, type UpdateStep } from './registry.js';

export function sgdStep({ diff, history, localRate, settings }: UpdateInput): UpdateStep {
  const velocity = axpby(localRate, diff, settings.momentum, history[0]!);
  return { step: velocity, history: [velocity] };
}

registerUpdateRule({ type: 'SGD', historySlots: 1, computeStep: sgdStep });
