// The failures of the object store a retry can fix: throttling, server errors and dropped connections.
// The AWS SDK retries every request itself (s3-config.ts: maxAttempts, standard mode), so our own retries
// (s3.ts) cover only what it cannot: a body that breaks after its response arrived.
import type { RetryOptions } from '../contract/retry.js';

/** Retries of a whole body read: a download dropped half-way is started again. */
export const BODY_RETRY: RetryOptions = {
  attempts: 5,
  baseMs: 200,
  maxMs: 10_000,
  jitter: Math.random,
};

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
