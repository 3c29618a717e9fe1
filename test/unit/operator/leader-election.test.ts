import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  decideLease,
  LEASES,
  LeaderElector,
  type LeaseInput,
} from '../../../operator/runtime/leader-election.js';
import { silentLogger } from '../../../operator/runtime/log.js';
import { FakeClock, FakeKubeClient, settle } from './fakes.js';

const NOW = new Date('2026-01-01T00:00:30Z');
const base: LeaseInput = { identity: 'me', observedAtMs: NOW.getTime(), now: NOW, leaseDurationSeconds: 15 };

describe('decideLease', () => {
  const rows: [string, Partial<LeaseInput>, string][] = [
    ['with no lease, this instance creates it', { current: undefined }, 'create'],
    [
      'a lease another holder renewed 5 s ago (by our clock) is waited for',
      { current: { holderIdentity: 'other', leaseDurationSeconds: 15 }, observedAtMs: NOW.getTime() - 5_000 },
      'wait',
    ],
    [
      'a lease whose holder has not renewed for longer than its duration is taken over',
      {
        current: { holderIdentity: 'other', leaseDurationSeconds: 15 },
        observedAtMs: NOW.getTime() - 16_000,
      },
      'acquire',
    ],
    [
      'a lease this instance holds is renewed',
      { current: { holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 2 } },
      'renew',
    ],
    [
      'a released lease (no holder) is taken at once',
      { current: { holderIdentity: '', leaseDurationSeconds: 1 } },
      'acquire',
    ],
  ];
  for (const [name, fields, action] of rows) {
    test(name, () => assert.equal(decideLease({ ...base, ...fields }).action, action));
  }

  test('taking over counts a transition and stamps acquire and renew times in MicroTime', () => {
    const decision = decideLease({
      ...base,
      current: { holderIdentity: 'other', leaseTransitions: 4 },
      observedAtMs: 0,
    });
    assert.deepEqual(decision, {
      action: 'acquire',
      spec: {
        holderIdentity: 'me',
        leaseDurationSeconds: 15,
        acquireTime: '2026-01-01T00:00:30.000000Z',
        renewTime: '2026-01-01T00:00:30.000000Z',
        leaseTransitions: 5,
      },
    });
  });

  test('renewing keeps the acquire time and transitions', () => {
    const current = {
      holderIdentity: 'me',
      acquireTime: 'then',
      leaseTransitions: 2,
      leaseDurationSeconds: 15,
    };
    const decision = decideLease({ ...base, current });
    assert.deepEqual(decision.action === 'renew' && decision.spec, {
      ...current,
      renewTime: '2026-01-01T00:00:30.000000Z',
    });
  });
});

describe('LeaderElector', () => {
  function elector(client: FakeKubeClient, clock: FakeClock, identity: string) {
    return new LeaderElector({ client, clock, log: silentLogger(), namespace: 'ns', name: 'op', identity });
  }

  test('of two candidates only one leads, and the other takes over after the leader stops', async () => {
    const clock = new FakeClock();
    const client = new FakeKubeClient();
    const a = elector(client, clock, 'a');
    const b = elector(client, clock, 'b');
    const stopA = new AbortController();
    const stopB = new AbortController();
    const leading: string[] = [];
    const lead = (who: string) => async (signal: AbortSignal) => {
      leading.push(`${who} starts`);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      leading.push(`${who} stops`);
    };
    const runA = a.run(stopA.signal, lead('a'));
    await settle();
    const runB = b.run(stopB.signal, lead('b'));
    await clock.advance(30_000);
    assert.deepEqual(leading, ['a starts']);
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    stopA.abort();
    assert.equal(await runA, 'stopped');
    await clock.advance(3_000);
    assert.deepEqual(leading, ['a starts', 'a stops', 'b starts']);
    const lease = (await client.get(LEASES, 'ns', 'op'))?.spec as {
      holderIdentity: string;
      leaseTransitions: number;
    };
    assert.equal(lease.holderIdentity, 'b');
    assert.equal(lease.leaseTransitions, 1);
    stopB.abort();
    assert.equal(await runB, 'stopped');
  });

  test('a leader that cannot renew within the renew deadline stops leading', async () => {
    const clock = new FakeClock();
    const client = new FakeKubeClient();
    const a = elector(client, clock, 'a');
    let stoppedLeading = false;
    const run = a.run(new AbortController().signal, async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      stoppedLeading = true;
    });
    await clock.advance(100);
    assert.equal(a.isLeader, true);
    client.failNext.get = Array.from({ length: 20 }, () => new Error('apiserver unreachable'));
    await clock.advance(12_000);
    assert.equal(await run, 'lost');
    assert.equal(stoppedLeading, true);
  });

  test('a conflicting write (someone else updated the lease first) is a lost round, not an error', async () => {
    const clock = new FakeClock();
    const client = new FakeKubeClient();
    const a = elector(client, clock, 'a');
    assert.equal(await a.tryAcquireOrRenew(), true);
    const lease = (await client.get(LEASES, 'ns', 'op'))!;
    client.seed(LEASES, { ...lease, spec: { ...(lease.spec as object), holderIdentity: 'a' } }); // new resourceVersion
    client.failNext.get = [];
    // Simulate a stale read: return the old object once.
    const original = client.get.bind(client);
    client.get = async () => lease;
    assert.equal(await a.tryAcquireOrRenew(), false);
    client.get = original;
  });
});
