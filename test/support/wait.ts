// Polling for integration tests: the cluster is eventually consistent, so tests wait for a state.
import { setTimeout as sleep } from 'node:timers/promises';

import { type KubeConfig, type V1Pod, type V1PodCondition, Watch } from '@kubernetes/client-node';

/** Polls `probe` until it returns a value other than undefined, or fails after `seconds`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  seconds = 60,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out after ${seconds}s waiting for ${what}${cause}`);
    }
    await sleep(intervalMs);
  }
}

/** True when the error is the apiserver's 404. */
export function isNotFound(error: unknown): boolean {
  const e = error as { code?: number; statusCode?: number; body?: unknown };
  return e?.code === 404 || e?.statusCode === 404;
}

/** Records every version of one pod from a watch, so a condition that lives briefly is not missed. */
export async function recordPod(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): Promise<{ seen: V1Pod[]; deleted: Promise<void>; stop: () => void }> {
  const seen: V1Pod[] = [];
  let markDeleted!: () => void;
  const deleted = new Promise<void>((resolve) => {
    markDeleted = resolve;
  });
  const controller = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { fieldSelector: `metadata.name=${name}` },
    (phase, pod: V1Pod) => {
      seen.push(pod);
      if (phase === 'DELETED') markDeleted();
    },
    () => {},
  );
  return { seen, deleted, stop: () => controller.abort() };
}

/** The DisruptionTarget condition in any recorded version of a pod. */
export function disruptionOf(seen: V1Pod[]): V1PodCondition | undefined {
  for (const pod of seen) {
    const condition = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    if (condition) return condition;
  }
  return undefined;
}

/** Awaits a promise, or fails after `seconds` naming what was awaited. */
export async function withTimeout<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${seconds}s waiting for ${what}`)),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
