// Retries with exponential backoff for the failures a retry can fix: throttling, server errors and
// dropped connections. The AWS SDK already retries each request; this covers whole operations that
// span several requests or a streamed body (a download that breaks half-way is started again).

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the second attempt; it doubles each time, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const defaultRetry: RetryOptions = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const THROTTLING_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/** Whether an error is one a later attempt may not meet. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e.code && RETRYABLE_CODES.has(e.code)) return true;
  if (THROTTLING_NAMES.has(e.name)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  const cause = (e as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isRetryable(cause);
}

/** The delay before attempt `attempt` (1 = the first retry): full jitter over a doubling window. */
export function backoffDelay(attempt: number, options: RetryOptions, random = Math.random): number {
  const window = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(window / 2 + (random() * window) / 2);
}

export async function withRetries<T>(
  what: string,
  operation: () => Promise<T>,
  options: RetryOptions = defaultRetry,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= options.attempts || !isRetryable(error)) {
        if (attempt > 1 && error instanceof Error)
          error.message = `${what}: ${error.message} (after ${attempt} attempts)`;
        throw error;
      }
      await sleep(backoffDelay(attempt, options, options.random));
    }
  }
}
