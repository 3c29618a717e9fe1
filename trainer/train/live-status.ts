// The live status record of `caffe train --status-file=URI`: one small JSON object, rewritten atomically
// while training runs, that the operator reads to report progress without parsing logs. Writes are
// throttled (at most one every STATUS_INTERVAL_MS from iterations), forced after a test pass, a completed
// snapshot and at the end, and never stop training when they fail.
import { z } from 'zod';

import { BadInputError } from '../errors.js';
import { type Body, storageFor } from '../storage/index.js';

export const LIVE_STATUS_VERSION = 1;
/** The shortest gap between two writes caused by iterations alone. */
export const STATUS_INTERVAL_MS = 10_000;
/** A store that keeps failing is reported at most this often, not on every forced write. */
export const WARNING_INTERVAL_MS = 60_000;

// A diverged run has NaN or infinite losses, which JSON writes as null: read null back as NaN so the
// field stays a number.
const lossValue = z.union([z.number(), z.null().transform(() => Number.NaN)]);
const count = z.number().int().nonnegative();

const testResultSchema = z.object({
  netIndex: count.describe('The test net, numbered as the solver lists them (test_iter order).'),
  iteration: count.describe('The iteration (updates done) at which the test pass ran.'),
  loss: lossValue.optional().describe('The mean test loss; present only with test_compute_loss.'),
  outputs: z
    .array(z.object({ name: z.string(), value: lossValue }))
    .describe('Every element of every output blob, in Caffe\'s "Test net output #k" order.'),
});

export const liveStatusSchema = z.object({
  version: z.literal(LIVE_STATUS_VERSION),
  state: z
    .enum(['running', 'succeeded', 'stopped'])
    .describe('running; succeeded: max_iter reached; stopped: ended by SIGTERM/SIGINT after its snapshot.'),
  iteration: count.describe('Weight updates done so far.'),
  maxIter: count.describe("The solver's max_iter."),
  trainLoss: lossValue.describe('The average_loss-smoothed loss, as in "Iteration N (...), loss = X".'),
  lastLoss: lossValue.describe('The loss of the last iteration.'),
  learningRate: z.number().describe('The learning rate of the last iteration.'),
  imagesPerSecond: z
    .number()
    .nonnegative()
    .describe('Train images per second over the last display interval.'),
  tests: z.array(testResultSchema).describe('The last test pass of each test net.'),
  latestSnapshot: z
    .object({ iteration: count, caffemodel: z.string(), solverstate: z.string() })
    .optional()
    .describe('The newest complete snapshot (its progress record written).'),
  updatedAt: z.iso.datetime({ offset: true }).describe('When this record was written (RFC 3339).'),
});

export type LiveStatus = z.infer<typeof liveStatusSchema>;
export type LiveTestResult = z.infer<typeof testResultSchema>;
/** What the trainer knows at a moment; the writer adds version and updatedAt. */
export type LiveProgress = Omit<LiveStatus, 'version' | 'updatedAt'>;

/** Checks a decoded status record; `where` names the file in the error. */
export function parseLiveStatus(json: unknown, where: string): LiveStatus {
  const result = liveStatusSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : '(record)';
  throw new BadInputError(`${field}: ${issue.message}`, where);
}

export interface LiveStatusWriterOptions {
  uri: string;
  /** What to write; read at the moment each write starts, so a write carries the newest values. */
  progress: () => LiveProgress;
  /** Told about a write that failed; training goes on. */
  warn: (message: string) => void;
  /** Milliseconds since the epoch. */
  clock?: { now(): number };
  intervalMs?: number;
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
      `could not write the status file ${this.options.uri}: ${error.message} ` +
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
