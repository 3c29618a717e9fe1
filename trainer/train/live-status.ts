// The live status record of `caffe train --status-file=URI`: one small JSON object, rewritten atomically
// while training runs, that the operator reads to report progress without parsing logs. Writes are
// throttled (at most one every STATUS_INTERVAL_MS from iterations), forced after a test pass, a completed
// snapshot and at the end, and never stop training when they fail.
import { LIVE_STATUS_VERSION, type LiveProgress, type LiveStatus } from '../contract/live-status.js';
import { type Body, storageFor } from '../storage/index.js';

/** The shortest gap between two writes caused by iterations alone. */
export const STATUS_INTERVAL_MS = 10_000;
/** A store that keeps failing is reported at most this often, not on every forced write. */
export const WARNING_INTERVAL_MS = 60_000;

export interface LiveStatusWriterOptions {
  uri: string;
  /** What to write; read at the moment each write starts, so a write carries the newest values. */
  progress: () => LiveProgress;
  /** Told about a write that failed; training goes on. */
  warn: (message: string) => void;
  /** Milliseconds since the epoch. */
  clock?: { now(): number };
  intervalMs?: number;
  /** What a failed write could not do, for the warning: 'write the status file' by default. */
  what?: string;
  /** Stores the record; storageFor(uri).write by default. */
  write?: (uri: string, body: Body) => Promise<void>;
}

export class LiveStatusWriter {
  private readonly clock: { now(): number };
  private readonly intervalMs: number;
  private readonly store: (uri: string, body: Body) => Promise<void>;
  private lastRequestAt: number | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastWarningAt: number | undefined;

  constructor(private readonly options: LiveStatusWriterOptions) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.intervalMs = options.intervalMs ?? STATUS_INTERVAL_MS;
    this.store = options.write ?? ((uri, body) => storageFor(uri).write(uri, body));
  }

  /** After an iteration: writes when the interval has passed since the last write. Does not wait. */
  tick(): void {
    const now = this.clock.now();
    if (this.lastRequestAt !== undefined && now - this.lastRequestAt < this.intervalMs) return;
    void this.write();
  }

  /**
   * Writes now. Resolves once a record at least as new as this call is stored (or its write failed and
   * was reported). Writes never overlap: a request during a write makes one more write afterwards.
   */
  write(): Promise<void> {
    this.lastRequestAt = this.clock.now();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.writeUntilCurrent().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when no write is running. */
  async idle(): Promise<void> {
    await this.running;
  }

  private reportFailure(error: Error): void {
    const now = this.clock.now();
    if (this.lastWarningAt !== undefined && now - this.lastWarningAt < WARNING_INTERVAL_MS) return;
    this.lastWarningAt = now;
    this.options.warn(
      `could not ${this.options.what ?? 'write the status file'} ${this.options.uri}: ${error.message} ` +
        '(training goes on; while this lasts it is reported once a minute)',
    );
  }

  private async writeUntilCurrent(): Promise<void> {
    do {
      this.again = false;
      const record: LiveStatus = {
        version: LIVE_STATUS_VERSION,
        ...this.options.progress(),
        updatedAt: new Date(this.clock.now()).toISOString(),
      };
      try {
        await this.store(this.options.uri, `${JSON.stringify(record)}\n`);
        this.lastWarningAt = undefined;
      } catch (error) {
        this.reportFailure(error as Error);
      }
    } while (this.again);
  }
}
