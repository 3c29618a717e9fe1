// The one retry helper: its doubling, capped, optionally jittered delays and when it gives up.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoffDelay, retry } from '../../../trainer/contract/retry.js';

const throttled = () => Object.assign(new Error('SlowDown'), { name: 'SlowDown' });

test('backoff doubles per retry up to the cap, with no wait before the first attempt', () => {
  const backoff = { baseMs: 100, maxMs: 1000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 100].map((n) => backoffDelay(n, backoff)),
    [0, 100, 200, 400, 800, 1000, 1000],
  );
});

test('retry calls again until success and sleeps the backoff between attempts', async () => {
  const sleeps: number[] = [];
  const told: [string, number, number][] = [];
  let calls = 0;
  const result = await retry(
    'get x',
    async () => {
      calls++;
      if (calls < 3) throw throttled();
      return 'ok';
    },
    {
      attempts: 5,
      baseMs: 10,
      maxMs: 100,
      sleep: async (ms) => void sleeps.push(ms),
      onRetry: (error, n, ms) => told.push([(error as Error).message, n, ms]),
    },
  );
  assert.equal(result, 'ok');
  assert.equal(calls, 3);
  assert.deepEqual(sleeps, [10, 20]);
  assert.deepEqual(told, [
    ['SlowDown', 1, 10],
    ['SlowDown', 2, 20],
  ]);
});

test('jitter draws each delay from the upper half of its window', async () => {
  for (const [random, expected] of [
    [0, [5, 10, 20]],
    [1, [10, 20, 40]],
  ] as const) {
    const sleeps: number[] = [];
    await assert.rejects(
      retry(
        'get x',
        async () => {
          throw throttled();
        },
        {
          attempts: 4,
          baseMs: 10,
          maxMs: 100,
          jitter: () => random,
          sleep: async (ms) => void sleeps.push(ms),
        },
      ),
    );
    assert.deepEqual(sleeps, expected);
  }
});

test('retry gives up after the last attempt and names the operation', async () => {
  let calls = 0;
  await assert.rejects(
    retry(
      'get x',
      async () => {
        calls++;
        throw throttled();
      },
      { attempts: 3, baseMs: 1, maxMs: 1, sleep: async () => {} },
    ),
    { message: 'get x: SlowDown (after 3 attempts)' },
  );
  assert.equal(calls, 3);
});

test('retry does not call again after an error its predicate says no retry can fix', async () => {
  let calls = 0;
  await assert.rejects(
    retry(
      'get x',
      async () => {
        calls++;
        throw new Error('AccessDenied');
      },
      { attempts: 5, baseMs: 1, maxMs: 1, retryable: (e) => (e as Error).message !== 'AccessDenied' },
    ),
    { message: 'AccessDenied' },
  );
  assert.equal(calls, 1);
});
