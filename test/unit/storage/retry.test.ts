// Which object-store failures a retry can fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isRetryable } from '../../../trainer/storage/retry.js';

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

const cases: { name: string; error: unknown; retryable: boolean }[] = [
  {
    name: 'a throttled request (SlowDown, 503) is retried',
    error: awsError('SlowDown', 503),
    retryable: true,
  },
  { name: 'a 429 is retried', error: awsError('TooManyRequests', 429), retryable: true },
  {
    name: 'a reset connection is retried',
    error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    retryable: true,
  },
  {
    name: 'a network error wrapped as a cause is retried',
    error: new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) }),
    retryable: true,
  },
  { name: 'access denied is not retried', error: awsError('AccessDenied', 403), retryable: false },
  { name: 'a missing key is not retried', error: awsError('NoSuchKey', 404), retryable: false },
  { name: 'a non-error is not retried', error: 'boom', retryable: false },
];
for (const c of cases) {
  test(c.name, () => assert.equal(isRetryable(c.error), c.retryable));
}
