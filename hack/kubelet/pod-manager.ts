// Keeps one PodWorker per pod bound to this kubelet's nodes: starts workers for new pods, passes on
// updates, ends workers whose pods are gone, and tidies the folders they leave behind.

import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

import type { V1Pod } from '@kubernetes/client-node';
import { PodWorker, type WorkerDeps, type WorkerMode } from './pod-worker.js';
import { killRecorded } from './process.js';

/**
 * How a pod first seen by this kubelet run is treated: a terminal pod is left as it is; a pod that
 * shows signs of having been started (a start time, or a container that started) was started by an
 * earlier run whose processes are gone; anything else is run.
 */
export function workerModeFor(pod: V1Pod): WorkerMode {
  const status = pod.status ?? {};
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return 'terminal';
  const statuses = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  const started = statuses.some((c) => c.containerID || c.state?.running || c.state?.terminated);
  return status.startTime || started ? 'orphan' : 'run';
}

export class PodManager {
  private readonly workers = new Map<string, PodWorker>();
  private readonly nodeOf = new Map<string, string>();

  constructor(private readonly deps: WorkerDeps) {}

  /** A pod was added or changed. */
  upsert(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const known = this.workers.get(uid);
    if (known) {
      known.update(pod);
      return;
    }
    const worker = new PodWorker(this.deps, pod, workerModeFor(pod));
    this.workers.set(uid, worker);
    this.nodeOf.set(uid, pod.spec?.nodeName ?? '');
    worker.start();
  }

  /** A pod object is gone: its processes are killed and its folder tidied. */
  removed(uid: string): void {
    const worker = this.workers.get(uid);
    if (!worker) return;
    worker.remove();
    void worker.done.then(() => this.forget(worker));
  }

  /**
   * The full list of a node's pods, from a periodic relist: catches events a watch missed. A worker
   * first seen after the list began is kept (the list may simply predate it).
   */
  reconcile(nodeName: string, pods: V1Pod[], listStartedAt: Date): void {
    const present = new Set(pods.map((p) => p.metadata?.uid));
    for (const pod of pods) this.upsert(pod);
    for (const [uid, worker] of this.workers) {
      if (this.nodeOf.get(uid) !== nodeName || present.has(uid)) continue;
      if (worker.firstSeen < listStartedAt) this.removed(uid);
    }
  }

  /** The worker of the newest pod with this name (for the log server). */
  find(namespace: string, name: string): PodWorker | undefined {
    let found: PodWorker | undefined;
    for (const worker of this.workers.values()) {
      if (worker.namespace !== namespace || worker.name !== name) continue;
      if (!found || worker.firstSeen > found.firstSeen) found = worker;
    }
    return found;
  }

  /** Ends every process of every pod (the kubelet is stopping). */
  async shutdown(graceMs: number): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.shutdown(graceMs)));
  }

  /** Removes pod folders that belong to no known pod, keeping their logs. */
  tidyFolders(): void {
    const podsDir = join(this.deps.stateDir, 'pods');
    if (!existsSync(podsDir)) return;
    const known = new Set([...this.workers.values()].map((w) => basename(w.podDir)));
    for (const entry of readdirSync(podsDir)) {
      if (!known.has(entry)) archiveFolder(join(podsDir, entry), this.deps.stateDir);
    }
  }

  private forget(worker: PodWorker): void {
    if (this.workers.get(worker.uid) !== worker) return;
    this.workers.delete(worker.uid);
    this.nodeOf.delete(worker.uid);
    this.deps.ipPool.release(worker.uid);
    archiveFolder(worker.podDir, this.deps.stateDir);
  }
}

/** Kills every process group recorded under state-dir/pods (left by a kubelet that was killed). */
export function killLeftovers(stateDir: string): number {
  const podsDir = join(stateDir, 'pods');
  if (!existsSync(podsDir)) return 0;
  let killed = 0;
  for (const pod of readdirSync(podsDir)) {
    for (const file of readdirSync(join(podsDir, pod))) {
      if (file.endsWith('.pid') && killRecorded(join(podsDir, pod, file))) killed++;
    }
  }
  return killed;
}

/** Moves a pod folder's logs to state-dir/logs/<folder>/ and removes the folder. */
function archiveFolder(podDir: string, stateDir: string): void {
  if (!existsSync(podDir)) return;
  const target = join(stateDir, 'logs', basename(podDir));
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(podDir)) {
    if (/\.(log|times|termination-log)$/.test(file)) cpSync(join(podDir, file), join(target, file));
  }
  rmSync(podDir, { recursive: true, force: true });
}
