// The operator benchmark's eyes: a watch that keeps the latest copy of each object of one kind in one
// namespace, and waiters that resolve with the wall time of the first event after which a condition
// holds. Times come from the event as it arrives, in milliseconds, not from the objects' timestamps
// (those have whole seconds only).
import { setTimeout as sleep } from 'node:timers/promises';

import type {
  KubeClient,
  KubeObject,
  ListOptions,
  Resource,
  WatchHandle,
} from '../../operator/runtime/kube-client.js';

type Check = (objects: ReadonlyMap<string, KubeObject>) => boolean;

interface Waiter {
  what: string;
  check: Check;
  resolve: (at: number) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class WatchedObjects {
  readonly objects = new Map<string, KubeObject>();
  /** How often the watch ended and was started again from a fresh list. */
  restarts = 0;
  private readonly waiters = new Set<Waiter>();
  private handle: WatchHandle | undefined;
  private ended: Error | undefined;

  private constructor(
    private readonly client: KubeClient,
    private readonly resource: Resource,
    private readonly namespace: string,
    private readonly options: ListOptions,
  ) {}

  /** Lists, then watches from the list's resourceVersion; lists and watches again whenever it ends. */
  static async start(
    client: KubeClient,
    resource: Resource,
    namespace: string,
    labelSelector?: string,
  ): Promise<WatchedObjects> {
    const watched = new WatchedObjects(client, resource, namespace, labelSelector ? { labelSelector } : {});
    await watched.connect();
    return watched;
  }

  private async connect(): Promise<void> {
    const listed = await this.client.list(this.resource, this.options);
    const at = Date.now();
    const listedNames = new Set<string>();
    for (const object of listed.items) {
      if (object.metadata?.namespace !== this.namespace) continue;
      listedNames.add(object.metadata.name ?? '');
      this.objects.set(object.metadata.name ?? '', object);
    }
    for (const name of [...this.objects.keys()]) if (!listedNames.has(name)) this.objects.delete(name);
    this.settle(at);
    this.handle = await this.client.watch(
      this.resource,
      listed.resourceVersion,
      (type, object) => this.apply(type, object),
      this.options,
    );
    // The apiserver (or an idle connection) ends watches now and then, as informers expect.
    const again = () => {
      if (this.ended) return;
      this.restarts++;
      sleep(200)
        .then(() => this.connect())
        .catch((error: unknown) =>
          this.fail(new Error(`could not watch ${this.resource.plural} again: ${String(error)}`)),
        );
    };
    this.handle.done.then(again, again);
  }

  /**
   * Resolves with the time of the first event after which `check` holds (now, if it holds already);
   * rejects after timeoutMs naming what it waited for.
   */
  when(what: string, check: Check, timeoutMs: number): Promise<number> {
    if (check(this.objects)) return Promise.resolve(Date.now());
    if (this.ended) return Promise.reject(this.ended);
    const promise = new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        what,
        check,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
    // A waiter nobody awaits any more (its round failed) must not crash the process when it rejects;
    // whoever awaits it still sees the rejection.
    promise.catch(() => {});
    return promise;
  }

  stop(): void {
    this.ended = new Error(`the watch of ${this.resource.plural} was stopped`);
    this.handle?.abort();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`stopped while waiting for ${waiter.what}`));
    }
    this.waiters.clear();
  }

  private apply(type: string, object: KubeObject): void {
    const at = Date.now();
    if (object.metadata?.namespace !== this.namespace) return;
    const name = object.metadata.name ?? '';
    if (type === 'DELETED') this.objects.delete(name);
    else if (type === 'ADDED' || type === 'MODIFIED') this.objects.set(name, object);
    else return;
    this.settle(at);
  }

  /** Resolves the waiters whose condition now holds, with the given time. */
  private settle(at: number): void {
    for (const waiter of this.waiters) {
      if (!waiter.check(this.objects)) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve(at);
    }
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.ended = error;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${error.message} while waiting for ${waiter.what}`));
    }
    this.waiters.clear();
  }
}

interface PodShape {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    containerStatuses?: {
      state?: { running?: { startedAt?: string }; terminated?: { finishedAt?: string } };
    }[];
  };
}

/** The pod's container has ended (or the whole pod has). */
export function podEnded(object: KubeObject): boolean {
  const status = (object as PodShape).status;
  if (status?.phase === 'Succeeded' || status?.phase === 'Failed') return true;
  return Boolean(status?.containerStatuses?.some((c) => c.state?.terminated));
}

/** The pod's container runs and nobody is deleting it. */
export function podRunning(object: KubeObject): boolean {
  if (object.metadata?.deletionTimestamp) return false;
  const status = (object as PodShape).status;
  return status?.phase === 'Running' && Boolean(status.containerStatuses?.some((c) => c.state?.running));
}

export function nodeOf(object: KubeObject): string | undefined {
  return (object as PodShape).spec?.nodeName;
}

/** The kubelet's own (whole-second) times: when the container started running, or ended. */
export function containerTimes(object: KubeObject): { startedAt?: string; finishedAt?: string } {
  const state = (object as PodShape).status?.containerStatuses?.[0]?.state;
  return {
    ...(state?.running?.startedAt ? { startedAt: state.running.startedAt } : {}),
    ...(state?.terminated?.finishedAt ? { finishedAt: state.terminated.finishedAt } : {}),
  };
}

export interface JobStatusShape {
  phase?: string;
  observedGeneration?: number;
  pod?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

export function jobStatus(object: KubeObject | undefined): JobStatusShape {
  return (object?.status ?? {}) as JobStatusShape;
}
