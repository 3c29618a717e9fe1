// Progress of a long run: a bar when stderr is a terminal, otherwise one JSON line every few seconds
// (and a last one at the end), e.g.
//   {"progress":{"phase":"prep","split":"train","shard":0,"done":1200,"total":5000,"skipped":3}}
// The line format is documented in trainer/README.md under "Progress lines".

export interface ProgressFields {
  phase: string;
  total: number;
  [key: string]: string | number;
}

export interface ProgressOptions {
  /** Seconds between JSON lines (default 5). */
  intervalSeconds?: number;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

export class Progress {
  private done = 0;
  private skipped = 0;
  private lastWrite = Number.NEGATIVE_INFINITY; // the first tick writes a line at once
  private readonly stream: NodeJS.WriteStream;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly started: number;

  constructor(
    private readonly fields: ProgressFields,
    options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.intervalMs = (options.intervalSeconds ?? 5) * 1000;
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  /** Records one more item handled; `skipped` when it was left out. */
  tick(skipped = false): void {
    this.done++;
    if (skipped) this.skipped++;
    const now = this.now();
    const interval = this.stream.isTTY ? 200 : this.intervalMs;
    if (now - this.lastWrite >= interval) {
      this.lastWrite = now;
      this.write(false);
    }
  }

  /** Writes the final state. */
  finish(): void {
    this.write(true);
  }

  /** The JSON line for the current counts. */
  line(): string {
    const { phase, total, ...rest } = this.fields;
    return JSON.stringify({ progress: { phase, ...rest, done: this.done, total, skipped: this.skipped } });
  }

  private write(last: boolean): void {
    if (!this.stream.isTTY) {
      this.stream.write(`${this.line()}\n`);
      return;
    }
    const { phase, total, ...rest } = this.fields;
    const width = 30;
    const filled = total > 0 ? Math.round((width * this.done) / total) : width;
    const rate = this.done / Math.max(0.001, (this.now() - this.started) / 1000);
    const where = Object.entries(rest)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const text =
      `${phase} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${total}` +
      ` (${where}; ${this.skipped} skipped; ${rate.toFixed(0)}/s)`;
    this.stream.write(`\r${text}${last ? '\n' : ''}`);
  }
}
