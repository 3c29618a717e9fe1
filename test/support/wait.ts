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

/** One Event as the apiserver keeps it (core/v1), with the fields tests read. */
export interface RecordedEvent {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string; uid?: string };
}

/**
 * The Events the apiserver keeps about one object, oldest first. They outlive the objects they are
 * about (an hour by default), so a test counts what happened from them rather than from its own watch.
 */
export async function eventsAbout(
  kubectl: (args: string[]) => Promise<{ stdout: string }>,
  namespace: string,
  name: string,
  reason?: string,
): Promise<RecordedEvent[]> {
  const selector = [`involvedObject.name=${name}`, ...(reason ? [`reason=${reason}`] : [])].join(',');
  const { stdout } = await kubectl([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    selector,
    '-o',
    'json',
  ]);
  const items = (JSON.parse(stdout) as { items: (RecordedEvent & { firstTimestamp?: string })[] }).items;
  return items.sort((a, b) => (a.firstTimestamp ?? '').localeCompare(b.firstTimestamp ?? ''));
}

/** Names of the pods a Job's controller created, from its SuccessfulCreate Events ("Created pod: NAME"). */
export async function podsCreatedBy(
  kubectl: (args: string[]) => Promise<{ stdout: string }>,
  namespace: string,
  job: string,
): Promise<string[]> {
  const events = await eventsAbout(kubectl, namespace, job, 'SuccessfulCreate');
  return events.flatMap((e) => /^Created pod: (\S+)$/.exec(e.message)?.[1] ?? []);
}
