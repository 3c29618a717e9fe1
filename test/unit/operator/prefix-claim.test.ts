// Which live training job may write under a snapshot prefix: the pure claim decision.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  type PrefixClaimant,
  prefixClaim,
  prefixesOverlap,
} from '../../../operator/training/prefix-claim.js';

const job = (overrides: Partial<PrefixClaimant> = {}): PrefixClaimant => ({
  namespace: 'team-a',
  name: 'caffenet',
  createdAt: '2026-12-01T10:00:00Z',
  prefix: 's3://bkt/team-a/caffenet/snap',
  finished: false,
  started: false,
  ...overrides,
});

describe('whether two snapshot prefixes overlap', () => {
  const cases: [string, string, string, boolean][] = [
    ['the same prefix', 's3://b/x/snap', 's3://b/x/snap', true],
    ['one inside the other, as a folder', 's3://b/x', 's3://b/x/snap', true],
    [
      'one inside the other, as a string (a listing of the first returns the second)',
      's3://b/x/snap',
      's3://b/x/snap2',
      true,
    ],
    ['a trailing slash is ignored', 's3://b/x/', 's3://b/x', true],
    ['siblings', 's3://b/x/a', 's3://b/x/b', false],
    ['other buckets', 's3://b1/x', 's3://b2/x', false],
    ['a path and an s3 URI', '/data/x', 's3://b/data/x', false],
  ];
  for (const [name, a, b, expected] of cases) {
    test(name, () => {
      assert.equal(prefixesOverlap(a, b), expected);
      assert.equal(prefixesOverlap(b, a), expected, 'overlap is symmetric');
    });
  }
});

describe('claiming a snapshot prefix', () => {
  const older = job({ namespace: 'team-b', name: 'first', createdAt: '2026-12-01T09:00:00Z' });

  test('a job alone holds its prefix', () => {
    const self = job();
    assert.deepEqual(prefixClaim(self, [self]), { held: true });
  });

  test('a later job on a live job’s prefix, in another namespace, is refused and names that job', () => {
    const self = job({ prefix: older.prefix });
    assert.deepEqual(prefixClaim(self, [older, self]), {
      held: false,
      holder: { namespace: 'team-b', name: 'first', prefix: older.prefix },
    });
  });

  test('the earlier job keeps its claim when the later one appears', () => {
    const later = job({ prefix: older.prefix });
    assert.deepEqual(prefixClaim(older, [older, later]), { held: true });
  });

  test('a prefix inside a live job’s prefix is refused', () => {
    const wide = job({
      namespace: 'team-b',
      name: 'wide',
      createdAt: older.createdAt,
      prefix: 's3://bkt/team-a',
    });
    const self = job();
    const verdict = prefixClaim(self, [wide, self]);
    assert.equal(verdict.held, false);
    assert.equal(!verdict.held && verdict.holder.name, 'wide');
  });

  test('a finished job holds no claim: a new job on its prefix may start (and resumes from it)', () => {
    for (const finished of [older]) {
      const self = job({ prefix: finished.prefix });
      assert.deepEqual(prefixClaim(self, [{ ...finished, finished: true }, self]), { held: true });
    }
  });

  test('a job that has started comes before an older one that has not (a writing pod is never overtaken)', () => {
    const running = job({ name: 'running', createdAt: '2026-12-01T11:00:00Z', started: true });
    const waiting = job({ name: 'waiting', createdAt: '2026-12-01T09:00:00Z' });
    assert.deepEqual(prefixClaim(running, [running, waiting]), { held: true });
    assert.equal(prefixClaim(waiting, [running, waiting]).held, false);
  });

  test('created in the same second: namespace/name decides, the same way for both', () => {
    const a = job({ namespace: 'a', name: 'j' });
    const b = job({ namespace: 'b', name: 'j' });
    assert.deepEqual(prefixClaim(a, [a, b]), { held: true });
    assert.equal(prefixClaim(b, [a, b]).held, false);
  });

  test('of several jobs ahead, the verdict names the first', () => {
    const oldest = job({ namespace: 'x', name: 'oldest', createdAt: '2026-12-01T08:00:00Z' });
    const self = job();
    const verdict = prefixClaim(self, [older, self, oldest]);
    assert.equal(!verdict.held && `${verdict.holder.namespace}/${verdict.holder.name}`, 'x/oldest');
  });

  test('jobs on other prefixes do not matter', () => {
    const self = job();
    const elsewhere = job({
      namespace: 'team-b',
      name: 'other',
      createdAt: older.createdAt,
      prefix: 's3://bkt/team-b/snap',
    });
    assert.deepEqual(prefixClaim(self, [elsewhere, self]), { held: true });
  });
});
