// The learning rate at an iteration, for every lr_policy Caffe has (SGDSolver::GetLearningRate in
// BVLC/caffe src/caffe/solvers/sgd_solver.cpp).
import type { SolverSettings } from './config.js';

/** The settings a policy reads. */
export type LrPolicySettings = Pick<
  SolverSettings,
  'lrPolicy' | 'baseLr' | 'gamma' | 'power' | 'stepsize' | 'stepvalue' | 'maxIter'
>;

export interface LearningRate {
  /** The rate, a float32 value as Caffe stores it. */
  rate: number;
  /** Caffe's current_step after this evaluation (kept in the solver state for `multistep`). */
  currentStep: number;
  /** True when `multistep` moved to its next step here (Caffe logs "MultiStep Status" then). */
  stepAdvanced: boolean;
}

/**
 * The rate for the update that follows `iter` updates. `currentStep` is the solver's current_step before
 * this evaluation: `multistep` advances it by at most one per call, `step` sets it to floor(iter/stepsize),
 * the other policies leave it as it is.
 */
export function learningRate(param: LrPolicySettings, iter: number, currentStep = 0): LearningRate {
  const { baseLr, gamma, power, stepsize } = param;
  const result = (rate: number, step = currentStep, stepAdvanced = false): LearningRate => ({
    rate: Math.fround(rate),
    currentStep: step,
    stepAdvanced,
  });
  switch (param.lrPolicy) {
    case 'fixed':
      return result(baseLr);
    case 'step': {
      const step = Math.floor(iter / stepsize);
      return result(baseLr * gamma ** step, step);
    }
    case 'exp':
      return result(baseLr * gamma ** iter);
    case 'inv':
      return result(baseLr * (1 + gamma * iter) ** -power);
    case 'multistep': {
      const next = param.stepvalue[currentStep];
      const advance = next !== undefined && iter >= next;
      const step = advance ? currentStep + 1 : currentStep;
      return result(baseLr * gamma ** step, step, advance);
    }
    case 'poly':
      // Real division: the rate decays continuously to 0 at max_iter.
      return result(baseLr * (1 - iter / param.maxIter) ** power);
    case 'sigmoid':
      return result(baseLr * (1 / (1 + Math.exp(-gamma * (iter - stepsize)))));
  }
}
