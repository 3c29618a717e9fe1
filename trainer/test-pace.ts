// A floor on how long each unit of work takes, set only by tests through an environment variable.
// Integration tests of the operator must see a trainer or a prep worker in the middle of its work (live
// status while it runs, a preemption inside a shard); on a fast backend or a fast machine the work is
// over before the cluster reacts, and the test would depend on the machine's speed. A floor, not a
// delay: work that is already slower than the floor is not slowed further.
import { setTimeout as sleep } from 'node:timers/promises';

/** `caffe train`: each iteration takes at least this many milliseconds. */
export const MIN_ITERATION_MS = 'BREWERY_TEST_MIN_ITERATION_MS';
/** `caffe imagenet prep`: each image takes at least this many milliseconds. */
export const MIN_IMAGE_MS = 'BREWERY_TEST_MIN_IMAGE_MS';

export class Pace {
  private last = Number.NEGATIVE_INFINITY;

  constructor(readonly minMs: number) {}

  /** Waits until at least `minMs` have passed since the previous call returned. */
  async next(): Promise<void> {
    // Node's timers count whole milliseconds on the event loop's cached clock and may fire a fraction of
    // a millisecond early by performance.now(): wait again until the floor has really passed.
    for (let wait = this.last + this.minMs - performance.now(); wait > 0; ) {
      await sleep(Math.ceil(wait));
      wait = this.last + this.minMs - performance.now();
    }
    this.last = performance.now();
  }
}

/**
 * The pace the variable asks for, or undefined when it is unset or 0. A value that is not a whole number
 * of milliseconds is ignored with a warning: this knob must never stop real work.
 */
export function paceFromEnv(
  variable: string,
  unit: string,
  warn: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Pace | undefined {
  const raw = env[variable];
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) {
    warn(`${variable}='${raw}' is not a whole number of milliseconds from 0 to 60000: ignored`);
    return undefined;
  }
  warn(
    `${variable}=${ms}: each ${unit} takes at least ${ms} ms (a setting for tests; unset it for full speed)`,
  );
  return new Pace(ms);
}
