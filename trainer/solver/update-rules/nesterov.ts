// Nesterov's accelerated gradient (BVLC/caffe src/caffe/solvers/nesterov_solver.cpp): the step looks ahead
// along the new velocity, step = (1 + momentum)·V_new − momentum·V_old.
import { axpby, registerUpdateRule, type UpdateInput, type UpdateStep } from './registry.js';

export function nesterovStep({ diff, history, localRate, settings }: UpdateInput): UpdateStep {
  const { momentum } = settings;
  const previous = history[0]!;
  const velocity = axpby(localRate, diff, momentum, previous);
  return { step: axpby(1 + momentum, velocity, -momentum, previous), history: [velocity] };
}

registerUpdateRule({ type: 'Nesterov', historySlots: 1, computeStep: nesterovStep });
