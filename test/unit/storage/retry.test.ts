import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoffDelay, isRetryable, withRetries } from '../../../trainer/storage/retry.js';

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

test('backoff doubles per attempt up to the cap, jittered within the upper half', () => {
  const options = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(
    backoffDelay(1, options, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(1, options, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, options, () => 1),
    400,
  );
  assert.equal(
    backoffDelay(10, options, () => 1),
    1000,
  );
});

test('withRetries retries throttling until success and sleeps between attempts', async () => {
  const sleeps: number[] = [];
  let calls = 0;
  const result = await withRetries(
    'get x',
    async () => {
      calls++;
      if (calls < 3) throw awsError('SlowDown', 503);
      return 'ok';
    },
    {
      attempts: 5,
      baseDelayMs: 10,
      maxDelayMs: 100,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 1,
    },
  );
  assert.equal(result, 'ok');
  assert.equal(calls, 3);
  assert.deepEqual(sleeps, [10, 20]);
});

test('withRetries gives up after the last attempt and names the operation', async () => {
  let calls = 0;
  await assert.rejects(
    withRetries(
      'get x',
      async () => {
        calls++;
        throw awsError('SlowDown', 503);
      },
      { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} },
    ),
    /get x: SlowDown \(after 3 attempts\)/,
  );
  assert.equal(calls, 3);
});

test('withRetries does not retry an error no retry can fix', async () => {
  let calls = 0;
  await assert.rejects(
    withRetries('get x', async () => {
      calls++;
      throw awsError('AccessDenied', 403);
    }),
    /AccessDenied/,
  );
  assert.equal(calls, 1);
});
