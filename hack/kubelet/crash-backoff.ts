// The wait before a crashed container is started again (state CrashLoopBackOff), as the kubelet does it:
// doubling from 1 s up to 30 s, and starting over after a run long enough to count as healthy.

import { backoffDelay } from '../../trainer/contract/retry.js';
import type { ContainerRecord } from './pod-status.js';

/** Restarts of a crashing container: 1 s, then doubling up to 30 s. */
const CRASH_BACKOFF = { baseMs: 1000, maxMs: 30_000 };
/** A container that ran this long starts its backoff from the beginning again. */
const BACKOFF_RESET_MS = 10 * 60_000;

/**
 * Records a terminated container's restart (restart count, last state, CrashLoopBackOff) and says how long
 * to wait. `crashes` are the crashes before this one since the backoff last started over; the result
 * counts this one. Undefined for a container that has not terminated: nothing to restart.
 */
export function recordCrash(
  c: ContainerRecord,
  crashes: number,
  podName: string,
): { crashes: number; waitMs: number } | undefined {
  if (c.state.kind !== 'terminated') return undefined;
  const ran = Date.parse(c.state.finishedAt) - Date.parse(c.state.startedAt ?? c.state.finishedAt);
  const crash = ran >= BACKOFF_RESET_MS ? 1 : crashes + 1;
  const waitMs = backoffDelay(crash, CRASH_BACKOFF);
  c.lastTerminated = c.state;
  c.restartCount++;
  c.state = {
    kind: 'waiting',
    reason: 'CrashLoopBackOff',
    message: `back-off ${Math.round(waitMs / 1000)}s restarting failed container=${c.name} pod=${podName}`,
  };
  return { crashes: crash, waitMs };
}
