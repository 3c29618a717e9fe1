// Watches the pods bound to one node. client-node's informer stops for good on any error other than
// 410 Gone, and watches have been seen to stall silently, so this restarts it after an error and
// relists on a timer (the relist also catches deletions a watch missed).

import { type KubeConfig, ListWatch, type V1Pod, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';

import type { PodApi } from './cluster-client.js';

const RESTART_DELAY_MS = 2000;
const RELIST_INTERVAL_MS = 30_000;

export interface PodEvents {
  upsert(pod: V1Pod): void;
  removed(uid: string): void;
  reconcile(nodeName: string, pods: V1Pod[], listStartedAt: Date): void;
}

export class PodWatcher {
  private informer?: ListWatch<V1Pod>;
  private relistTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly config: KubeConfig,
    private readonly api: PodApi,
    private readonly nodeName: string,
    private readonly events: PodEvents,
    private readonly log: Logger,
  ) {}

  /** Lists the node's pods once (so the caller knows the starting state), then watches. */
  async start(): Promise<void> {
    await this.relist();
    const fieldSelector = `spec.nodeName=${this.nodeName}`;
    const informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(this.config),
      () => this.api.listPodsOnNode(this.nodeName),
      false,
      undefined,
      fieldSelector,
    );
    informer.on('add', (pod) => this.events.upsert(pod));
    informer.on('update', (pod) => this.events.upsert(pod));
    informer.on('delete', (pod) => pod.metadata?.uid && this.events.removed(pod.metadata.uid));
    informer.on('error', (error) => {
      if (this.stopped) return; // stop() aborts the watch, which reports an AbortError
      this.log.warn({ err: error, node: this.nodeName }, 'pod watch failed: restarting it');
      this.scheduleRestart();
    });
    this.informer = informer;
    await this.startInformer();
    this.relistTimer = setInterval(() => void this.relist(), RELIST_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.relistTimer);
    clearTimeout(this.restartTimer);
    await this.informer?.stop();
  }

  private async startInformer(): Promise<void> {
    try {
      await this.informer?.start();
    } catch (error) {
      this.log.warn({ err: error, node: this.nodeName }, 'starting the pod watch failed');
      this.scheduleRestart();
    }
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) void this.startInformer();
    }, RESTART_DELAY_MS);
  }

  private async relist(): Promise<void> {
    const listStartedAt = new Date();
    try {
      const list = await this.api.listPodsOnNode(this.nodeName);
      if (!this.stopped) this.events.reconcile(this.nodeName, list.items, listStartedAt);
    } catch (error) {
      this.log.warn({ err: error, node: this.nodeName }, 'relisting pods failed');
    }
  }
}
