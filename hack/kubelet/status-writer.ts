// Writing a pod's status: only when it changed, one write at a time, retried a few times. The patch
// itself is computed by pod-status.ts; here is the bookkeeping around sending it.

import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';

import { retry } from '../../trainer/contract/retry.js';
import {
  computePodStatus,
  KUBELET_CONDITIONS,
  type PodCondition,
  type PodRecord,
  type PodStatus,
} from './pod-status.js';

/** Writes of one status: 4 attempts, 0.5 s, 1 s and 2 s apart. */
const WRITE_RETRY = { attempts: 4, baseMs: 500, maxMs: 2000 };

/**
 * The strategic merge patch for a pod's status. Only the kubelet's own conditions are sent, so every
 * other condition stays as stored; fields within a condition are merged too, so a reason or message
 * that no longer applies is cleared with an explicit null. `sent` are the conditions of the last
 * patch, which may be newer than what the pod object shows yet.
 */
export function statusPatch(pod: V1Pod, record: PodRecord, sent: PodCondition[], now: Date): PodStatus {
  const stored = (pod.status?.conditions ?? []) as unknown as PodCondition[];
  const others = stored.filter((c) => !sent.some((o) => o.type === c.type));
  const withSent = { ...pod, status: { ...pod.status, conditions: [...others, ...sent] } } as V1Pod;
  const status = computePodStatus(withSent, record, now);
  const owned = new Set([
    ...KUBELET_CONDITIONS,
    ...(record.failure?.disruptionReason ? ['DisruptionTarget'] : []),
  ]);
  const conditions = status.conditions
    .filter((c) => owned.has(c.type))
    .map((c) => ({ reason: null, message: null, ...c }) as unknown as PodCondition);
  return { ...status, conditions };
}

export class StatusWriter {
  private lastSent = '';
  private sentConditions: PodCondition[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (status: PodStatus) => Promise<void>,
    private readonly log: () => Logger,
    private readonly clock: () => Date,
  ) {}

  /** Queues a write of the status computed from the pod and record at the time it is sent. */
  write(current: () => { pod: V1Pod; record: PodRecord } | undefined): Promise<void> {
    this.chain = this.chain.then(() => this.sendNow(current));
    return this.chain;
  }

  private async sendNow(current: () => { pod: V1Pod; record: PodRecord } | undefined): Promise<void> {
    const state = current();
    if (!state) return;
    const patch = statusPatch(state.pod, state.record, this.sentConditions, this.clock());
    const text = JSON.stringify(patch);
    if (text === this.lastSent) return;
    try {
      await retry('write pod status', () => this.send(patch), {
        ...WRITE_RETRY,
        retryable: () => current() !== undefined, // else the pod is gone meanwhile
        onRetry: (error, attempt) => this.log().warn({ err: error, attempt }, 'writing pod status failed'),
      });
      this.lastSent = text;
      this.sentConditions = patch.conditions;
    } catch (error) {
      if (current() !== undefined) this.log().warn({ err: error }, 'writing pod status failed; giving up');
    }
  }
}
