// When a quiet watch counts as stalled, and when to look again if it does not yet.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { watchLiveness } from '../../../operator/runtime/watch-liveness.js';

const MAX_QUIET = 150_000;
const cases: [string, number, number, ReturnType<typeof watchLiveness>][] = [
  [
    'a watch that just started is looked at again once the limit has passed',
    0,
    0,
    { stalled: false, checkAgainInMs: 150_001 },
  ],
  [
    'a bookmark a minute ago leaves it alive, to be looked at when it would stall',
    100_000,
    160_000,
    { stalled: false, checkAgainInMs: 90_001 },
  ],
  ['quiet exactly as long as the limit is still alive', 0, 150_000, { stalled: false, checkAgainInMs: 1 }],
  ['quiet a millisecond past the limit is stalled', 0, 150_001, { stalled: true, quietMs: 150_001 }],
  [
    'quiet for ten minutes is stalled, with how long it was quiet',
    5_000,
    605_000,
    { stalled: true, quietMs: 600_000 },
  ],
  [
    'a clock that went back is read as just heard from',
    10_000,
    9_000,
    { stalled: false, checkAgainInMs: 150_001 },
  ],
];
for (const [name, lastHeardAt, now, expected] of cases) {
  test(name, () => assert.deepEqual(watchLiveness(lastHeardAt, now, MAX_QUIET), expected));
}
