// A controller: informer events become keys in a work queue; workers reconcile one key at a time.
// Reconcile is level-triggered (it looks at the whole current state, not at the event), so a missed
// or repeated event does no harm. A failed reconcile comes back after per-key backoff.
import type { Logger } from 'pino';

import type { Clock } from './clock.js';
import { type Informer, objectKey } from './informer.js';
import type { KubeObject } from './kube-client.js';
import type { OperatorMetrics } from './metrics.js';
import { WorkQueue, type WorkQueueOptions } from './workqueue.js';

export interface ReconcileResult {
  /** Look again after this long even if nothing changes (e.g. to poll progress). */
  requeueAfterMs?: number;
}

export type Reconciler = (key: string, log: Logger) => Promise<ReconcileResult | undefined>;

export interface ControllerOptions {
  name: string;
  /** The kind this controller reconciles. */
  primary: Informer;
  /** Kinds it creates: a change to one reconciles its controlling owner of the primary kind. */
  owned?: Informer[];
  reconcile: Reconciler;
  clock: Clock;
  log: Logger;
  metrics?: OperatorMetrics;
  workers?: number;
  queue?: Omit<WorkQueueOptions, 'clock'>;
}

/** The namespace/name key of the object's controlling owner of the given kind, if it has one. */
export function ownerKey(object: KubeObject, ownerKind: string, ownerApiVersion: string): string | undefined {
  const owner = object.metadata?.ownerReferences?.find(
    (ref) => ref.controller && ref.kind === ownerKind && ref.apiVersion === ownerApiVersion,
  );
  if (!owner) return undefined;
  return `${object.metadata?.namespace}/${owner.name}`;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly options: ControllerOptions;

  constructor(options: ControllerOptions) {
    this.options = options;
    this.name = options.name;
    this.queue = new WorkQueue({ clock: options.clock, ...options.queue });
    const { primary, owned = [], metrics } = options;
    primary.on((_event, object) => this.queue.add(objectKey(object)));
    const { kind, group, version } = primary.resource;
    for (const informer of owned) {
      informer.on((_event, object) => {
        const key = ownerKey(object, kind, `${group}/${version}`);
        if (key) this.queue.add(key);
      });
    }
    metrics?.onCollect(() => metrics.queueDepth.set({ controller: this.name }, this.queue.length));
  }

  /** Runs workers until the signal aborts, after the informers have filled their caches. */
  async run(signal: AbortSignal): Promise<void> {
    const { primary, owned = [], workers = 2, log } = this.options;
    await Promise.all([primary, ...owned].map((informer) => informer.waitForSync()));
    log.info({ controller: this.name, workers }, 'controller started');
    const stop = () => this.queue.shutDown();
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    await Promise.all(Array.from({ length: workers }, () => this.work()));
    log.info({ controller: this.name }, 'controller stopped');
  }

  /** Reconciles one key now, as a worker would. Exposed for tests. */
  async processNext(): Promise<boolean> {
    const key = await this.queue.get();
    if (key === undefined) return false;
    await this.reconcileKey(key);
    return true;
  }

  private async work(): Promise<void> {
    while (await this.processNext()) {
      // each iteration handled one key
    }
  }

  private async reconcileKey(key: string): Promise<void> {
    const { clock, metrics, reconcile } = this.options;
    const log = this.options.log.child({ controller: this.name, key });
    const started = clock.now().getTime();
    let result: 'success' | 'requeue' | 'error' = 'success';
    try {
      const outcome = await reconcile(key, log);
      this.queue.forget(key);
      if (outcome?.requeueAfterMs !== undefined) {
        result = 'requeue';
        this.queue.addAfter(key, outcome.requeueAfterMs);
      }
    } catch (error) {
      result = 'error';
      log.warn({ err: String(error), retries: this.queue.failuresOf(key) }, 'reconcile failed; will retry');
      this.queue.addRateLimited(key);
    } finally {
      this.queue.done(key);
      metrics?.reconciles.inc({ controller: this.name, result });
      metrics?.reconcileDuration.observe({ controller: this.name }, (clock.now().getTime() - started) / 1000);
    }
  }
}
