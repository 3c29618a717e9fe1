// One pod's lifecycle on this host: sandbox (folder, IP, volumes), init containers in order, then the
// containers under their restart policy, graceful termination when the pod is deleted, and status
// written truthfully at every step. This file is the order of those steps; the pieces are beside it:
// the first record (pod-record.ts), the pod folder (pod-folder.ts), crash backoff (crash-backoff.ts),
// stopping processes (stop-processes.ts), and the status itself (pod-status.ts, status-writer.ts).

import { mkdirSync, writeFileSync } from 'node:fs';

import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';

import { retry } from '../../trainer/contract/retry.js';
import { containerLimits } from './cgroup-plan.js';
import type { CgroupEnd, ContainerCgroup, NodeCgroups } from './cgroups.js';
import type { PodApi } from './cluster-client.js';
import { type ImageMap, planLaunch } from './container-command.js';
import { recordCrash } from './crash-backoff.js';
import type { IpPool } from './ip-pool.js';
import { rotateLog } from './log-files.js';
import { envLookups, volumeLookups } from './lookups.js';
import { PodFolder } from './pod-folder.js';
import { HOST_IP, markOrphaned, newPodRecord } from './pod-record.js';
import { type ContainerRecord, type PodRecord, rfc3339 } from './pod-status.js';
import { type LocalProcess, recordPid, startProcess } from './process.js';
import { StatusWriter } from './status-writer.js';
import { stopProcesses } from './stop-processes.js';
import { linkContainerRoot, setUpVolumes } from './volumes.js';
import { WakeableSleep } from './wakeable-sleep.js';

const RETRY_SETUP_MS = 5000;
/** Deleting the pod object once its containers are gone: 5 attempts, 1 s apart and doubling. */
const DELETE_RETRY = { attempts: 5, baseMs: 1000, maxMs: 8000 };

export interface WorkerDeps {
  api: PodApi;
  ipPool: IpPool;
  imageMap: ImageMap;
  stateDir: string;
  hostEnv: Record<string, string>;
  apiserver: { host: string; port: string };
  log: Logger;
  clock: () => Date;
  /** The node's cgroups, which enforce each container's limits where this process may make them. */
  cgroups?: NodeCgroups;
}

/** How a worker treats the pod it is given when first seen. */
export type WorkerMode =
  /** A pod to run. */
  | 'run'
  /** A pod an earlier kubelet run started: its processes are gone, so it is marked Failed. */
  | 'orphan'
  /** A pod already terminal: nothing to run; only its deletion is completed. */
  | 'terminal';

export class PodWorker {
  readonly uid: string;
  readonly firstSeen: Date;
  private pod: V1Pod;
  private readonly folder: PodFolder;
  private readonly record: PodRecord;
  private readonly processes = new Map<string, LocalProcess>();
  private readonly sleeper = new WakeableSleep();
  private terminating?: Promise<void>;
  private graceSeconds = Number.POSITIVE_INFINITY; // of the deletion under way
  private stopping = false; // the kubelet is shutting down: no restarts, no status writes
  private gone = false; // the pod object no longer exists
  private deleteSent = false;
  private readonly status: StatusWriter;
  private volumeFolders = new Map<string, string>();
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: WorkerDeps,
    pod: V1Pod,
    private readonly mode: WorkerMode,
  ) {
    this.pod = pod;
    const meta = pod.metadata!;
    this.uid = meta.uid!;
    this.folder = new PodFolder(deps.stateDir, meta);
    this.firstSeen = deps.clock();
    this.status = new StatusWriter(
      (status) => deps.api.patchPodStatus(this.namespace, this.name, status),
      () => this.log,
      deps.clock,
    );
    this.record = newPodRecord(pod, mode === 'terminal');
  }

  /** The pod's folder on this host, which the manager archives once the worker is done. */
  get podDir(): string {
    return this.folder.path;
  }

  get namespace(): string {
    return this.pod.metadata?.namespace ?? '';
  }
  get name(): string {
    return this.pod.metadata?.name ?? '';
  }
  get log(): Logger {
    return this.deps.log.child({ pod: `${this.namespace}/${this.name}`, uid: this.uid });
  }

  start(): void {
    this.done = this.run().catch((error) => this.log.error({ err: error }, 'pod worker failed'));
  }

  /** A newer version of the pod object arrived. */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (!pod.metadata?.deletionTimestamp || this.gone) return;
    if (!this.record.deleting) {
      this.beginTermination();
      return;
    }
    // A second delete with a shorter grace period (e.g. kubectl delete --grace-period=1) hurries us.
    const grace = pod.metadata.deletionGracePeriodSeconds;
    if (grace !== undefined && grace < this.graceSeconds) {
      this.graceSeconds = grace;
      setTimeout(() => {
        for (const proc of this.processes.values()) proc.signal('SIGKILL');
      }, grace * 1000);
    }
  }

  /** The pod object is gone (force-deleted, or deletion completed): kill at once, write nothing more. */
  remove(): void {
    this.gone = true;
    this.record.deleting = true;
    for (const proc of this.processes.values()) proc.signal('SIGKILL');
    this.wakeAll();
  }

  /** The kubelet is stopping: end every process (SIGTERM, then SIGKILL after graceMs). */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wakeAll();
    await this.killProcesses(graceMs);
  }

  /** The log file of a container's current run, or of its previous run. */
  logPath(container: string, previous: boolean): string {
    return this.folder.logPath(container, previous);
  }

  isRunning(container: string): boolean {
    return this.processes.has(container);
  }

  hasContainer(container: string): boolean {
    return [...this.record.initContainers, ...this.record.containers].some((c) => c.name === container);
  }

  /** Processes still running, so the manager can wait for them before removing the folder. */
  get running(): number {
    return this.processes.size;
  }

  // ---- lifecycle ----

  private async run(): Promise<void> {
    if (this.mode === 'terminal') {
      if (this.pod.metadata?.deletionTimestamp) this.beginTermination();
      return;
    }
    if (this.mode === 'orphan') return this.failOrphan();

    this.record.startTime = rfc3339(this.deps.clock());
    await this.setUpSandbox();
    if (this.record.sandboxReady && (await this.runInitContainers())) {
      await Promise.all(this.record.containers.map((c) => this.superviseContainer(c)));
    }
    if (this.stopping || this.gone) return;
    this.record.finished = true;
    if (this.terminating) await this.terminating;
    await this.writeStatus();
    if (this.record.deleting) await this.completeDeletion();
  }

  private async failOrphan(): Promise<void> {
    markOrphaned(this.record, this.pod, this.deps.clock());
    this.log.info('pod started by an earlier kubelet run: marking it Failed (NodeRestarted)');
    await this.writeStatus();
    if (this.pod.metadata?.deletionTimestamp && !this.record.deleting) this.beginTermination();
  }

  private async setUpSandbox(): Promise<void> {
    while (!this.ended()) {
      try {
        mkdirSync(this.folder.path, { recursive: true });
        this.record.podIP = this.deps.ipPool.allocate(this.uid);
        const lookups = await volumeLookups(this.deps.api, this.pod, (m, e) => this.log.warn({ err: e }, m));
        const place = { podIP: this.record.podIP, hostIP: HOST_IP, nodeName: this.pod.spec?.nodeName ?? '' };
        const made = setUpVolumes(this.pod, this.folder.path, lookups, place, (m) => this.log.warn(m));
        if (made.ok) {
          this.volumeFolders = made.folders;
          this.record.sandboxReady = true;
          await this.writeStatus();
          return;
        }
        this.setWaiting('ContainerCreating', made.message);
      } catch (error) {
        this.setWaiting('ContainerCreating', `setting up the pod failed: ${String(error)}`);
      }
      await this.writeStatus();
      await this.sleep(RETRY_SETUP_MS);
    }
  }

  /** Runs init containers in order; true when all exited 0. */
  private async runInitContainers(): Promise<boolean> {
    for (const c of this.record.initContainers) {
      let crashes = 0;
      for (;;) {
        if (this.ended()) return false;
        const exit = await this.runOnce(c);
        if (exit === undefined) return false;
        if (exit === 0) break;
        if (this.pod.spec?.restartPolicy === 'Never') {
          this.record.finished = true;
          return false;
        }
        crashes = await this.backOff(c, crashes);
      }
    }
    return !this.ended();
  }

  /** Runs one container until it is done for good under the pod's restart policy. */
  private async superviseContainer(c: ContainerRecord): Promise<void> {
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    let crashes = 0;
    for (;;) {
      if (this.ended()) return;
      const exit = await this.runOnce(c);
      if (exit === undefined || this.ended()) return;
      const restart = policy === 'Always' || (policy === 'OnFailure' && exit !== 0);
      if (!restart) return;
      crashes = await this.backOff(c, crashes);
    }
  }

  /**
   * Starts the container and waits for it to end. Returns its exit code, or undefined when it cannot
   * start and will not be retried (e.g. its image is not mapped) or the pod is ending.
   */
  private async runOnce(c: ContainerRecord): Promise<number | undefined> {
    const spec = this.containerSpec(c.name);
    const messageFile = this.folder.terminationMessagePath(c.name);
    let plan: ReturnType<typeof planLaunch>;
    for (;;) {
      plan = planLaunch({
        pod: this.pod,
        container: spec,
        imageMap: this.deps.imageMap,
        podIP: this.record.podIP ?? '',
        hostIP: HOST_IP,
        nodeName: this.pod.spec?.nodeName ?? '',
        podDir: this.folder.path,
        volumeFolders: this.volumeFolders,
        terminationMessageFile: messageFile,
        containerRoot: this.folder.containerRoot(c.name),
        hostEnv: this.deps.hostEnv,
        apiserver: this.deps.apiserver,
        lookups: await envLookups(this.deps.api, this.namespace, spec, (m, e) =>
          this.log.warn({ err: e }, m),
        ),
      });
      if (plan.ok) break;
      c.state = { kind: 'waiting', reason: plan.reason, message: plan.message };
      await this.writeStatus();
      // An unmapped image never becomes runnable; a missing ConfigMap or Secret may appear.
      if (plan.reason === 'ImageNotMapped') {
        await this.sleepUntilEnded();
        return undefined;
      }
      await this.sleep(RETRY_SETUP_MS);
      if (this.ended()) return undefined;
    }
    if (this.ended()) return undefined;

    const logPath = this.folder.logPath(c.name, false);
    rotateLog(logPath, this.folder.logPath(c.name, true));
    writeFileSync(messageFile, '');
    linkContainerRoot(plan.containerRoot, plan.mounts);
    const cwd = this.folder.workingDir(plan.cwd, this.log);
    let proc: LocalProcess;
    let cgroup: ContainerCgroup | undefined;
    try {
      cgroup = this.deps.cgroups?.create(`${this.uid}_${c.name}`, containerLimits(spec.resources?.limits));
      const cgroupProcs = cgroup?.plan.procsFiles;
      proc = await startProcess(
        { argv: plan.argv, env: plan.env, cwd, logPath, ...(cgroupProcs && { cgroupProcs }) },
        this.deps.clock,
      );
    } catch (error) {
      await cgroup?.remove(this.log);
      const now = rfc3339(this.deps.clock());
      const message = `failed to start ${JSON.stringify(plan.argv[0])}: ${(error as Error).message}`;
      c.state = {
        kind: 'terminated',
        exitCode: 128,
        reason: 'StartError',
        message,
        startedAt: now,
        finishedAt: now,
      };
      await this.writeStatus();
      return 128;
    }
    this.processes.set(c.name, proc);
    recordPid(this.folder.pidPath(c.name), proc.pid);
    if (this.ended()) proc.signal('SIGKILL'); // the pod ended while this container was starting
    const startedAt = rfc3339(proc.startedAt);
    c.state = { kind: 'running', startedAt, pid: proc.pid };
    this.log.info({ container: c.name, pid: proc.pid, argv: plan.argv }, 'container started');
    void this.writeStatus();

    const exit = await proc.exited;
    const usage: CgroupEnd | undefined = cgroup?.end();
    await cgroup?.remove(this.log);
    this.processes.delete(c.name);
    const failed = exit.exitCode !== 0;
    const message = this.folder.terminationMessage(c.name, failed, spec.terminationMessagePolicy);
    c.state = {
      kind: 'terminated',
      exitCode: exit.exitCode,
      // As a real runtime: OOMKilled only when the memory cgroup's OOM killer killed in it.
      reason: usage?.oomKilled ? 'OOMKilled' : failed ? 'Error' : 'Completed',
      startedAt,
      finishedAt: rfc3339(exit.finishedAt),
      pid: proc.pid,
      ...(exit.signal !== undefined && { signal: exit.signal }),
      ...(message && { message }),
    };
    this.log.info(
      {
        container: c.name,
        exitCode: exit.exitCode,
        ...(usage && { oomKilled: usage.oomKilled, peakMemoryBytes: usage.peakBytes }),
      },
      'container exited',
    );
    if (!this.stopping) await this.writeStatus();
    return exit.exitCode;
  }

  /**
   * Waits before a restart (state CrashLoopBackOff). `crashes` are the crashes before this one since the
   * backoff last started over; returns them with this one counted.
   */
  private async backOff(c: ContainerRecord, crashes: number): Promise<number> {
    const crash = recordCrash(c, crashes, this.name);
    if (!crash) return crashes;
    await this.writeStatus();
    await this.sleep(crash.waitMs);
    return crash.crashes;
  }

  // ---- termination ----

  private beginTermination(): void {
    this.record.deleting = true;
    this.terminating = this.terminate().then(async () => {
      // A pod that had already finished has no run() left to complete its deletion.
      if (!this.record.finished) return;
      await this.writeStatus();
      await this.completeDeletion();
    });
    this.wakeAll();
  }

  private async terminate(): Promise<void> {
    const meta = this.pod.metadata ?? {};
    this.graceSeconds = meta.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    this.log.info({ graceSeconds: this.graceSeconds }, 'pod deleted: stopping its containers');
    await this.killProcesses(this.graceSeconds * 1000);
  }

  private killProcesses(graceMs: number): Promise<void> {
    return stopProcesses({
      processes: this.processes,
      graceMs,
      runPreStopHooks: !this.stopping,
      containerSpec: (name) => this.containerSpec(name),
      folder: this.folder,
      hostEnv: this.deps.hostEnv,
      log: this.log,
    });
  }

  /** Final status written, then the object deleted (how a kubelet completes a graceful deletion). */
  private async completeDeletion(): Promise<void> {
    if (this.deleteSent || this.gone || this.stopping) return;
    this.deleteSent = true;
    try {
      await retry('delete the pod', () => this.deps.api.deletePod(this.namespace, this.name, this.uid), {
        ...DELETE_RETRY,
        sleep: (ms) => this.sleep(ms),
        onRetry: (error, attempt) =>
          this.log.warn({ err: error, attempt }, 'deleting the pod failed; retrying'),
      });
      this.log.info('pod deletion completed');
    } catch (error) {
      this.log.warn({ err: error }, 'deleting the pod failed; giving up');
    }
  }

  // ---- status ----

  /** Writes the status if it changed (nothing once the pod is gone or the kubelet stops). */
  private writeStatus(): Promise<void> {
    return this.status.write(() =>
      this.gone || this.stopping || this.mode === 'terminal'
        ? undefined
        : { pod: this.pod, record: this.record },
    );
  }

  // ---- helpers ----

  private ended(): boolean {
    return this.record.deleting || this.stopping || this.gone;
  }

  private setWaiting(reason: string, message: string): void {
    for (const c of [...this.record.initContainers, ...this.record.containers]) {
      if (c.state.kind === 'waiting') c.state = { kind: 'waiting', reason, message };
    }
  }

  private containerSpec(name: string): V1Container {
    const spec = this.pod.spec;
    const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
    return all.find((c) => c.name === name)!;
  }

  private sleep(ms: number): Promise<void> {
    return this.sleeper.sleep(ms);
  }

  private async sleepUntilEnded(): Promise<void> {
    while (!this.ended()) await this.sleep(60_000);
  }

  private wakeAll(): void {
    this.sleeper.wakeAll();
  }
}
