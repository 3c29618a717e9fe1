// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules and timings: only one
// operator instance acts at a time. Updates carry the resourceVersion read, so two candidates racing
// for the same lease cannot both win. A lease counts as held until leaseDuration has passed on *our*
// clock since we last saw its record change, so clock skew between instances does not matter.
import type { Logger } from 'pino';

import { type Clock, sleep } from './clock.js';
import { microTime } from './events.js';
import {
  isAlreadyExists,
  isConflict,
  type KubeClient,
  type KubeObject,
  type Resource,
} from './kube-client.js';

export const LEASES: Resource = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
};

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseInput {
  identity: string;
  /** The lease as read, or undefined when there is none. */
  current?: LeaseSpec;
  /** When this instance first saw the current record (ms on its own clock). */
  observedAtMs: number;
  now: Date;
  leaseDurationSeconds: number;
}

export type LeaseDecision =
  | { action: 'create'; spec: LeaseSpec }
  | { action: 'renew'; spec: LeaseSpec }
  | { action: 'acquire'; spec: LeaseSpec }
  | { action: 'wait'; holder: string; expiresInMs: number };

/** What to do with the lease: a pure function of what was read and when. */
export function decideLease(input: LeaseInput): LeaseDecision {
  const { identity, current, now, leaseDurationSeconds } = input;
  const stamp = microTime(now);
  if (!current) {
    return {
      action: 'create',
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: 0,
      },
    };
  }
  const holder = current.holderIdentity ?? '';
  const heldFor = (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
  const expiresInMs = input.observedAtMs + heldFor - now.getTime();
  if (holder !== '' && holder !== identity && expiresInMs > 0) return { action: 'wait', holder, expiresInMs };
  if (holder === identity) {
    return { action: 'renew', spec: { ...current, leaseDurationSeconds, renewTime: stamp } };
  }
  return {
    action: 'acquire',
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: (current.leaseTransitions ?? 0) + 1,
    },
  };
}

export interface LeaderElectorOptions {
  client: KubeClient;
  clock: Clock;
  log: Logger;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export class LeaderElector {
  private readonly options: Required<LeaderElectorOptions>;
  private observed?: { record: string; atMs: number };
  private leader = false;

  constructor(options: LeaderElectorOptions) {
    this.options = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** One attempt to take or keep the lease; true when this instance holds it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, clock, namespace, name, identity, log } = this.options;
    const lease = await client.get(LEASES, namespace, name);
    const current = lease?.spec as LeaseSpec | undefined;
    const now = clock.now();
    const record = JSON.stringify(current ?? null);
    if (this.observed?.record !== record) this.observed = { record, atMs: now.getTime() };
    const decision = decideLease({
      identity,
      current: lease ? (current ?? {}) : undefined,
      observedAtMs: this.observed.atMs,
      now,
      leaseDurationSeconds: Math.round(this.options.leaseDurationMs / 1000),
    });
    try {
      if (decision.action === 'wait') return false;
      if (decision.action === 'create') {
        await client.create(LEASES, namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: decision.spec,
        });
      } else {
        await client.replace(LEASES, namespace, name, { ...(lease as KubeObject), spec: decision.spec });
      }
    } catch (error) {
      // Someone else wrote the lease between our read and our write: they won this round.
      if (isConflict(error) || isAlreadyExists(error)) return false;
      throw error;
    }
    this.observed = { record: JSON.stringify(decision.spec), atMs: now.getTime() };
    if (decision.action === 'acquire' || decision.action === 'create') {
      log.info({ lease: `${namespace}/${name}`, identity }, 'became the leader');
    }
    return true;
  }

  /**
   * Waits for the lease, runs `lead` while holding it, and keeps renewing. Ends when `signal` aborts
   * ('stopped') or when the lease could not be renewed in time ('lost'). Either way the signal given to
   * `lead` aborts and its promise is awaited before the lease is released, so two leaders never act.
   */
  async run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<'lost' | 'stopped'> {
    const { clock, log, retryPeriodMs, renewDeadlineMs } = this.options;
    while (!signal.aborted && !(await this.attempt())) {
      await sleep(clock, jittered(retryPeriodMs), signal);
    }
    if (signal.aborted) return 'stopped';
    this.leader = true;
    const leading = new AbortController();
    const work = lead(leading.signal).catch((error: unknown) => {
      log.error({ err: String(error) }, 'the leader work failed');
    });
    let lastRenewMs = clock.now().getTime();
    let outcome: 'lost' | 'stopped' = 'stopped';
    while (!signal.aborted) {
      await sleep(clock, retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.attempt(renewDeadlineMs)) lastRenewMs = clock.now().getTime();
      if (clock.now().getTime() - lastRenewMs > renewDeadlineMs) {
        log.error({ identity: this.options.identity }, 'could not renew the lease in time: leadership lost');
        outcome = 'lost';
        break;
      }
    }
    leading.abort();
    await work;
    this.leader = false;
    if (outcome === 'stopped') await this.release();
    return outcome;
  }

  /** Gives the lease up so another instance takes over at once instead of after leaseDuration. */
  async release(): Promise<void> {
    const { client, namespace, name, identity, clock, log } = this.options;
    try {
      const lease = await client.get(LEASES, namespace, name);
      const spec = lease?.spec as LeaseSpec | undefined;
      if (!lease || spec?.holderIdentity !== identity) return;
      const stamp = microTime(clock.now());
      await client.replace(LEASES, namespace, name, {
        ...lease,
        spec: { ...spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: stamp, acquireTime: stamp },
      });
      log.info({ lease: `${namespace}/${name}`, identity }, 'released the lease');
    } catch (error) {
      log.warn({ err: String(error) }, 'could not release the lease; it expires by itself');
    }
  }

  // One attempt, bounded in time, with errors logged rather than raised: the loop decides what follows.
  private async attempt(timeoutMs = this.options.retryPeriodMs * 5): Promise<boolean> {
    let cancel = () => {};
    const timeout = new Promise<boolean>((resolve) => {
      cancel = this.options.clock.setTimer(timeoutMs, () => resolve(false));
    });
    try {
      return await Promise.race([this.tryAcquireOrRenew(), timeout]);
    } catch (error) {
      this.options.log.warn({ err: String(error) }, 'lease attempt failed');
      return false;
    } finally {
      cancel();
    }
  }
}

// client-go adds up to 20% so candidates do not retry in lockstep.
function jittered(ms: number): number {
  return ms * (1 + 0.2 * Math.random());
}
