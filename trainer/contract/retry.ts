// Backoff and retries, written once for both sides (and the local kubelet): the object store's body
// reads, the operator's work queue, informers and restart backoff, the kubelet's API writes. Shared
// code rather than a schema, kept here because the contract is the one module both sides may import.

/** A doubling delay: baseMs before the first retry, twice that before the next, never more than maxMs. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** The delay before retry `retry` (1 = the first): base * 2^(retry-1), at most max; none before the first. */
export function backoffDelay(retry: number, backoff: Backoff): number {
  if (retry <= 0) return 0;
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(retry - 1, 40));
}

export interface RetryOptions extends Backoff {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Whether an error may pass on a later attempt; every error by default. */
  retryable?: (error: unknown) => boolean;
  /** Told before each wait, e.g. to log the failure. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
  /**
   * Random numbers in [0, 1): when given, each delay is drawn from the upper half of its window, so
   * clients that failed together do not retry together.
   */
  jitter?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The result of `operation`, called again after a backoff while it throws a retryable error. The last
 * error is thrown, its message prefixed with `what` and the number of attempts when there was more than one.
 */
export async function retry<T>(what: string, operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= options.attempts || !(options.retryable?.(error) ?? true)) {
        if (attempt > 1 && error instanceof Error) {
          error.message = `${what}: ${error.message} (after ${attempt} attempts)`;
        }
        throw error;
      }
      const window = backoffDelay(attempt, options);
      const delay = options.jitter ? Math.round(window / 2 + (options.jitter() * window) / 2) : window;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}
