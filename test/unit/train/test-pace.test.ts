// The test pace: a floor on the time between units of work, read from an environment variable.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MIN_ITERATION_MS, Pace, paceFromEnv } from '../../../trainer/test-pace.js';

test('unset, empty or 0 means no pace and no warning', () => {
  const warnings: string[] = [];
  for (const value of [undefined, '', '0']) {
    const env = value === undefined ? {} : { [MIN_ITERATION_MS]: value };
    assert.equal(
      paceFromEnv(MIN_ITERATION_MS, 'iteration', (m) => warnings.push(m), env),
      undefined,
    );
  }
  assert.deepEqual(warnings, []);
});

test('a value is announced in one warning; a bad value is ignored with one naming it', () => {
  const warnings: string[] = [];
  const pace = paceFromEnv(MIN_ITERATION_MS, 'iteration', (m) => warnings.push(m), {
    [MIN_ITERATION_MS]: '25',
  });
  assert.equal(pace?.minMs, 25);
  assert.deepEqual(warnings, [
    'BREWERY_TEST_MIN_ITERATION_MS=25: each iteration takes at least 25 ms (a setting for tests; unset it for full speed)',
  ]);
  for (const bad of ['fast', '-1', '2.5', '600000']) {
    warnings.length = 0;
    assert.equal(
      paceFromEnv(MIN_ITERATION_MS, 'iteration', (m) => warnings.push(m), { [MIN_ITERATION_MS]: bad }),
      undefined,
    );
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      new RegExp(`^BREWERY_TEST_MIN_ITERATION_MS='${bad.replace('.', '\\.')}' is not`),
    );
  }
});

test('calls are spaced at least minMs apart', async () => {
  const pace = new Pace(30);
  await pace.next();
  const first = performance.now();
  await pace.next();
  await pace.next();
  const end = performance.now();
  // A floor: a slow machine only makes the gap longer, so the check cannot depend on its speed.
  assert.ok(end - first >= 60, `two more calls took ${end - first} ms, less than 2 x 30`);
});
