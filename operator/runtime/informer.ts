// An informer: a local cache of one kind, kept current by list + watch, that tells handlers what
// changed. Ours rather than client-node's, whose informer stops for good on most errors: this one
// relists after any error (with backoff), restarts a watch that has heard nothing for too long
// (watch-liveness.ts), relists periodically as a further watchdog, and re-delivers every object on each
// relist so level-triggered controllers catch up.
import type { Logger } from 'pino';

import { backoffDelay } from '../../trainer/contract/retry.js';
import { type Clock, sleep } from './clock.js';
import {
  httpStatusOf,
  type KubeClient,
  type KubeObject,
  type ListOptions,
  type Resource,
  type WatchHandle,
} from './kube-client.js';
import { DEFAULT_WATCH_MAX_QUIET_MS, watchLiveness } from './watch-liveness.js';

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';
export type InformerHandler = (event: InformerEvent, object: KubeObject) => void;

export interface InformerOptions extends ListOptions {
  client: KubeClient;
  resource: Resource;
  clock: Clock;
  log: Logger;
  /** Relist this often even when the watch looks healthy. */
  relistIntervalMs?: number;
  /** Backoff after an error: doubled per consecutive error up to the max. */
  errorBackoffBaseMs?: number;
  errorBackoffMaxMs?: number;
  /** Restart a watch that has had no event and no bookmark for longer than this. */
  watchMaxQuietMs?: number;
}

/** namespace/name, the key of an object in caches and work queues. */
export function objectKey(object: KubeObject): string {
  const { namespace, name } = object.metadata ?? {};
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

class WatchExpired extends Error {}

export class Informer {
  readonly resource: Resource;
  private readonly options: InformerOptions;
  private readonly store = new Map<string, KubeObject>();
  private readonly handlers: InformerHandler[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private resourceVersion = '';
  private stopController?: AbortController;
  private running?: Promise<void>;
  private synced = false;
  /** Errors that ended a list or watch; each one was followed by a relist. */
  errors = 0;
  relists = 0;
  /** Watches restarted because they heard nothing, not even a bookmark, for too long. */
  stalledWatches = 0;

  constructor(options: InformerOptions) {
    this.options = options;
    this.resource = options.resource;
  }

  on(handler: InformerHandler): void {
    this.handlers.push(handler);
  }

  get(key: string): KubeObject | undefined {
    return this.store.get(key);
  }

  list(): KubeObject[] {
    return [...this.store.values()];
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (this.running) return;
    this.stopController = new AbortController();
    this.running = this.run(this.stopController.signal);
  }

  async stop(): Promise<void> {
    this.stopController?.abort();
    await this.running;
    this.running = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { clock, log } = this.options;
    const relistIntervalMs = this.options.relistIntervalMs ?? 5 * 60_000;
    let consecutiveErrors = 0;
    let needsList = true;
    while (!signal.aborted) {
      try {
        if (needsList) {
          await this.relist();
          needsList = false;
        }
        const relistDue = await this.watchUntilEnd(signal, relistIntervalMs);
        if (relistDue) needsList = true;
        consecutiveErrors = 0;
      } catch (error) {
        needsList = true;
        if (error instanceof WatchExpired || httpStatusOf(error) === 410) continue;
        if (signal.aborted) break;
        this.errors += 1;
        consecutiveErrors += 1;
        const delay = backoffDelay(consecutiveErrors, {
          baseMs: this.options.errorBackoffBaseMs ?? 1000,
          maxMs: this.options.errorBackoffMaxMs ?? 30_000,
        });
        log.warn(
          { resource: this.resource.plural, err: String(error), retryInMs: delay },
          'list or watch failed; relisting after backoff',
        );
        await sleep(clock, delay, signal);
      }
    }
  }

  /** Watches from the last resourceVersion; true when it ended because a periodic relist is due. */
  private async watchUntilEnd(signal: AbortSignal, relistIntervalMs: number): Promise<boolean> {
    const { clock } = this.options;
    let expired = false;
    let relistDue = false;
    let stalled = false;
    let handle: WatchHandle | undefined;
    const startedAt = clock.now().getTime();
    let lastHeardAt = startedAt;
    handle = await this.options.client.watch(
      this.resource,
      this.resourceVersion,
      (type, object) => {
        lastHeardAt = clock.now().getTime();
        if (type === 'ERROR') {
          // The server ends a watch whose resourceVersion is too old with a 410 Status in the stream.
          expired = true;
          handle?.abort();
          return;
        }
        if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED') this.put(object);
        else if (type === 'DELETED') this.remove(object);
      },
      { labelSelector: this.options.labelSelector },
    );
    if (expired) handle.abort();
    const onAbort = () => handle?.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const cancelTimer = clock.setTimer(relistIntervalMs, () => {
      relistDue = true;
      handle?.abort();
    });
    const maxQuietMs = this.options.watchMaxQuietMs ?? DEFAULT_WATCH_MAX_QUIET_MS;
    let cancelLivenessCheck = () => {};
    const checkLiveness = () => {
      const liveness = watchLiveness(lastHeardAt, clock.now().getTime(), maxQuietMs);
      if (!liveness.stalled) {
        cancelLivenessCheck = clock.setTimer(liveness.checkAgainInMs, checkLiveness);
        return;
      }
      stalled = true;
      this.stalledWatches += 1;
      this.options.log.warn(
        { resource: this.resource.plural, quietMs: liveness.quietMs },
        'watch heard nothing, not even a bookmark; restarting it',
      );
      handle?.abort();
    };
    checkLiveness();
    try {
      await handle.done;
      // A server that ends watches at once must not make us spin.
      if (clock.now().getTime() - startedAt < 1000) await sleep(clock, 1000, signal);
    } catch (error) {
      // An abort we asked for (a relist due, an expired or a stalled watch, a stop) is not an error: a
      // stalled watch carries on from the last resourceVersion.
      if (!relistDue && !expired && !stalled && !signal.aborted) throw error;
    } finally {
      cancelTimer();
      cancelLivenessCheck();
      signal.removeEventListener('abort', onAbort);
    }
    if (expired) throw new WatchExpired('watch expired');
    return relistDue;
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.options.client.list(this.resource, {
      labelSelector: this.options.labelSelector,
    });
    this.relists += 1;
    const seen = new Set<string>();
    for (const object of items) {
      seen.add(objectKey(object));
      if (!this.put(object)) this.emit('resync', object);
    }
    for (const [key, object] of this.store) {
      if (!seen.has(key)) this.remove(object);
    }
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  /** Stores the object; false when the cache already held this very version. */
  private put(object: KubeObject): boolean {
    const key = objectKey(object);
    const old = this.store.get(key);
    if (old && old.metadata?.resourceVersion === object.metadata?.resourceVersion) return false;
    this.store.set(key, object);
    this.emit(old ? 'update' : 'add', object);
    return true;
  }

  private remove(object: KubeObject): void {
    const key = objectKey(object);
    const old = this.store.get(key);
    if (!old) return;
    this.store.delete(key);
    this.emit('delete', old);
  }

  private emit(event: InformerEvent, object: KubeObject): void {
    for (const handler of this.handlers) {
      try {
        handler(event, object);
      } catch (error) {
        this.options.log.error({ err: String(error), event }, 'informer handler threw');
      }
    }
  }
}
