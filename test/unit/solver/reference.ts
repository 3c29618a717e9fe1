// A direct, plain-number (Float64) reading of Caffe's solvers (BVLC/caffe src/caffe/solvers/*_solver.cpp),
// written apart from trainer/solver so the tests compare two independent implementations. Deliberately
// simple: arrays of numbers, no tfjs.

export interface ReferenceSettings {
  type: 'SGD' | 'Nesterov' | 'AdaGrad' | 'RMSProp' | 'AdaDelta' | 'Adam';
  baseLr: number;
  lrPolicy: string;
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
  regularizationType?: 'L1' | 'L2';
  clipGradients?: number;
  iterSize?: number;
}

export interface ReferenceParam {
  value: number[];
  lrMult: number;
  decayMult: number;
}

/** SGDSolver::GetLearningRate (sgd_solver.cpp), returning the rate and the new current_step. */
export function referenceRate(s: ReferenceSettings, iter: number, currentStep: number): [number, number] {
  const gamma = s.gamma ?? 0;
  const power = s.power ?? 0;
  const stepsize = s.stepsize ?? 0;
  if (s.lrPolicy === 'fixed') return [s.baseLr, currentStep];
  if (s.lrPolicy === 'step') {
    const step = Math.floor(iter / stepsize);
    return [s.baseLr * gamma ** step, step];
  }
  if (s.lrPolicy === 'exp') return [s.baseLr * gamma ** iter, currentStep];
  if (s.lrPolicy === 'inv') return [s.baseLr * (1 + gamma * iter) ** -power, currentStep];
  if (s.lrPolicy === 'multistep') {
    const values = s.stepvalue ?? [];
    let step = currentStep;
    if (step < values.length && iter >= (values[step] as number)) step += 1;
    return [s.baseLr * gamma ** step, step];
  }
  if (s.lrPolicy === 'poly') return [s.baseLr * (1 - iter / (s.maxIter ?? 0)) ** power, currentStep];
  if (s.lrPolicy === 'sigmoid') return [s.baseLr / (1 + Math.exp(-gamma * (iter - stepsize))), currentStep];
  throw new Error(`reference: unknown policy ${s.lrPolicy}`);
}

/** Solver::Step's update (solver.cpp) and each solver's ComputeUpdateValue, on plain arrays. */
export class ReferenceSolver {
  iter = 0;
  currentStep = 0;
  /** history[slot][param][element]. */
  history: number[][][];

  readonly s: ReferenceSettings;

  // The settings are float fields in caffe.proto, so Caffe holds their float32 values (1 − 0.999 in
  // float32 terms differs from 0.001 by 1.3e-5 relative); the arithmetic below stays Float64.
  constructor(
    settings: ReferenceSettings,
    readonly params: ReferenceParam[],
  ) {
    this.s = asFloat32(settings);
    const s = this.s;
    const slots = s.type === 'AdaDelta' || s.type === 'Adam' ? 2 : 1;
    this.history = Array.from({ length: slots }, () => params.map((p) => p.value.map(() => 0)));
  }

  /** One ApplyUpdate given the accumulated (summed over iter_size passes) gradients. */
  update(accumulated: number[][]): void {
    const s = this.s;
    const [rate, step] = referenceRate(s, this.iter, this.currentStep);
    this.currentStep = step;
    let grads = accumulated.map((g) => [...g]);
    const clip = s.clipGradients ?? -1;
    if (clip >= 0) {
      let sumsq = 0;
      for (const g of grads) for (const x of g) sumsq += x * x;
      const norm = Math.sqrt(sumsq);
      if (norm > clip) grads = grads.map((g) => g.map((x) => (x * clip) / norm));
    }
    const iterSize = s.iterSize ?? 1;
    this.params.forEach((p, i) => {
      const localDecay = (s.weightDecay ?? 0) * p.decayMult;
      const localRate = rate * p.lrMult;
      const g = (grads[i] as number[]).map((x, j) => {
        const w = p.value[j] as number;
        const normalised = x / iterSize;
        const decay = (s.regularizationType ?? 'L2') === 'L2' ? w : Math.sign(w);
        return normalised + localDecay * decay;
      });
      p.value = p.value.map((w, j) => w - this.stepFor(i, j, g[j] as number, localRate));
    });
    this.iter += 1;
  }

  private stepFor(i: number, j: number, g: number, localRate: number): number {
    const s = this.s;
    const h0 = this.history[0]![i]!;
    const h1 = this.history[1]?.[i];
    const momentum = s.momentum ?? 0;
    const delta = s.delta ?? 1e-8;
    switch (s.type) {
      case 'SGD':
        h0[j] = momentum * h0[j]! + localRate * g;
        return h0[j]!;
      case 'Nesterov': {
        const old = h0[j]!;
        h0[j] = momentum * old + localRate * g;
        return (1 + momentum) * h0[j]! - momentum * old;
      }
      case 'AdaGrad':
        h0[j] = h0[j]! + g * g;
        return (localRate * g) / (Math.sqrt(h0[j]!) + delta);
      case 'RMSProp': {
        const decay = s.rmsDecay ?? 0.99;
        h0[j] = decay * h0[j]! + (1 - decay) * g * g;
        return (localRate * g) / (Math.sqrt(h0[j]!) + delta);
      }
      case 'AdaDelta': {
        h0[j] = momentum * h0[j]! + (1 - momentum) * g * g;
        const u = g * Math.sqrt((h1![j]! + delta) / (h0[j]! + delta));
        h1![j] = momentum * h1![j]! + (1 - momentum) * u * u;
        return localRate * u;
      }
      case 'Adam': {
        const beta1 = momentum;
        const beta2 = s.momentum2 ?? 0.999;
        const t = this.iter + 1;
        h0[j] = beta1 * h0[j]! + (1 - beta1) * g;
        h1![j] = beta2 * h1![j]! + (1 - beta2) * g * g;
        const correction = Math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t);
        return (localRate * correction * h0[j]!) / (Math.sqrt(h1![j]!) + delta);
      }
    }
  }
}

function asFloat32(s: ReferenceSettings): ReferenceSettings {
  const f = (x: number | undefined) => (x === undefined ? undefined : Math.fround(x));
  return {
    ...s,
    baseLr: Math.fround(s.baseLr),
    gamma: f(s.gamma),
    power: f(s.power),
    momentum: f(s.momentum),
    momentum2: f(s.momentum2),
    delta: f(s.delta),
    rmsDecay: f(s.rmsDecay),
    weightDecay: f(s.weightDecay),
    clipGradients: f(s.clipGradients),
  };
}

/** |actual − expected| ≤ 1e-5·|expected| + 1e-7: float32 arithmetic against the Float64 reference. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} values, received ${actual.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= 1e-5 * Math.abs(e) + 1e-7)) {
      throw new Error(`${what}[${i}]: expected ${e}, received ${a} (tolerance 1e-5 relative + 1e-7)`);
    }
  }
}
