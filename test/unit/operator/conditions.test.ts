import assert from 'node:assert/strict';
import { test } from 'node:test';

import { setCondition, statusChanged } from '../../../operator/runtime/conditions.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:05:00Z');

test('a new condition gets the current time as its lastTransitionTime and the generation', () => {
  const list = setCondition(
    undefined,
    { type: 'Ready', status: 'False', reason: 'Pending', message: 'm' },
    T0,
    3,
  );
  assert.deepEqual(list, [
    {
      type: 'Ready',
      status: 'False',
      reason: 'Pending',
      message: 'm',
      lastTransitionTime: T0.toISOString(),
      observedGeneration: 3,
    },
  ]);
});

test('a condition whose status is unchanged keeps its transition time even when the message changes', () => {
  const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'one' }, T0, 1);
  const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'B', message: 'two' }, T1, 2);
  assert.equal(second[0]?.lastTransitionTime, T0.toISOString());
  assert.equal(second[0]?.reason, 'B');
  assert.equal(second[0]?.observedGeneration, 2);
});

test('a condition whose status flips gets a new transition time, and other types are kept', () => {
  const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'm' }, T0, 1);
  const withOther = setCondition(
    first,
    { type: 'Failed', status: 'False', reason: 'NoFailure', message: 'm' },
    T0,
    1,
  );
  const flipped = setCondition(
    withOther,
    { type: 'Ready', status: 'True', reason: 'Ready', message: 'm' },
    T1,
    1,
  );
  assert.equal(flipped.length, 2);
  assert.equal(flipped[0]?.lastTransitionTime, T1.toISOString());
  assert.equal(flipped[1]?.type, 'Failed');
});

test('statuses that differ only in key order or undefined fields are unchanged', () => {
  assert.equal(statusChanged({ a: 1, b: { c: 2 } }, { b: { c: 2 }, a: 1, d: undefined }), false);
  assert.equal(statusChanged({ a: 1 }, { a: 2 }), true);
  assert.equal(statusChanged({ list: [1, 2] }, { list: [2, 1] }), true);
});
