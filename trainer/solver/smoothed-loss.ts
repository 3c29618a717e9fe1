// The smoothed loss Caffe displays: the mean of the last `average_loss` iteration losses, updated the way
// Caffe updates it (float32 arithmetic, a ring of past losses indexed from the iteration the run started).

/** The window's contents; carried in an exported solver state so a resumed run displays the same. */
export interface LossWindowState {
  losses: number[];
  smoothedLoss: number;
  /** The iteration the window's ring is indexed from (Caffe's start_iter of the Step call). */
  startIter: number;
}

export class SmoothedLoss {
  private losses: number[] = [];
  private smoothed = 0;
  private startIter = 0;

  constructor(private readonly averageLoss: number) {}

  /** Empties the window, as Caffe does at the start of each Step call. */
  reset(startIter: number): void {
    this.losses = [];
    this.smoothed = 0;
    this.startIter = startIter;
  }

  /** Adds the loss of iteration `iter` and returns the new smoothed value. */
  add(loss: number, iter: number): number {
    const f = Math.fround;
    if (this.losses.length < this.averageLoss) {
      this.losses.push(f(loss));
      const size = this.losses.length;
      this.smoothed = f(f(f(this.smoothed * (size - 1)) + f(loss)) / size);
    } else {
      const slot = (iter - this.startIter) % this.averageLoss;
      const leaving = this.losses[slot] ?? 0;
      this.smoothed = f(this.smoothed + f(f(f(loss) - leaving) / this.averageLoss));
      this.losses[slot] = f(loss);
    }
    return this.smoothed;
  }

  get value(): number {
    return this.smoothed;
  }

  exportState(): LossWindowState {
    return { losses: [...this.losses], smoothedLoss: this.smoothed, startIter: this.startIter };
  }

  restoreState(state: LossWindowState): void {
    this.losses = state.losses.slice(0, this.averageLoss).map(Math.fround);
    this.smoothed = Math.fround(state.smoothedLoss);
    this.startIter = state.startIter;
  }
}
