// Replacement latency: one CaffeTrainingJob trains a tiny net with a far-off max_iter; once its trainer
// is training, its pod is ended in one of three ways (preemption by a higher-priority GPU pod pinned
// to its node, deletion, a NoExecute taint on its node), and the benchmark times how long the operator
// takes to have a replacement running, and to say so in the job's status.
import { setTimeout as sleep } from 'node:timers/promises';

import type { KubeObject } from '../../operator/runtime/kube-client.js';
import { TRAINING_JOBS } from '../../operator/training/controller.js';
import { JOB_LABEL } from '../../operator/training/objects.js';
import { PODS } from '../../operator/workloads.js';
import { type BenchCluster, HIGH_PRIORITY, LOW_PRIORITY } from './operator-cluster.js';
import { tinyTrainingJob } from './operator-job.js';
import { containerTimes, jobStatus, nodeOf, podEnded, podRunning, WatchedObjects } from './operator-watch.js';

export const WAYS = ['preemption', 'deletion', 'taint'] as const;
export type Way = (typeof WAYS)[number];

/** One replacement; every duration in milliseconds, from this process's clock at watch events. */
export interface ReplacementSample {
  way: Way;
  round: number;
  oldPod: string;
  newPod: string;
  fromNode: string;
  toNode: string;
  /** From the action (creating the preemptor, the delete call, the taint) to the old container's end. */
  actToEndedMs: number;
  /** From the old container's end to the job's status.pod naming the replacement. */
  endedToJobNamesPodMs: number;
  /** From the old container's end to the replacement's container running. */
  endedToPodRunningMs: number;
  /** From the old container's end to the job's phase Running with the replacement. */
  endedToJobRunningMs: number;
  /**
   * From the old container's end to the new trainer's first `Iteration N` log line: when training
   * really resumes. Coarser than the rest: the log is polled with kubectl every half second.
   */
  endedToTrainingMs?: number;
  /** The kubelet's whole-second times, for reference. */
  oldFinishedAt?: string;
  newStartedAt?: string;
}

const JOB = 'replaced';
const TAINT = 'brewery.dev/bench=gone:NoExecute';

export interface ReplacementOptions {
  cluster: BenchCluster;
  namespace: string;
  data: { trainSource: string; meanFile: string };
  snapshotURI: string;
  rounds: number;
  log: (line: string) => void;
}

export async function measureReplacement(options: ReplacementOptions): Promise<ReplacementSample[]> {
  const { cluster, namespace } = options;
  const { client } = cluster;
  await client.create(
    TRAINING_JOBS,
    namespace,
    tinyTrainingJob(JOB, namespace, {
      data: options.data,
      snapshotURI: options.snapshotURI,
      resources: { gpus: 1, cpu: '1', memory: '1Gi' },
      priorityClassName: LOW_PRIORITY,
      restartPolicy: { maxRestarts: 0, maxDisruptions: 1000 },
    }),
  );
  const pods = await WatchedObjects.start(client, PODS, namespace, `${JOB_LABEL}=${JOB}`);
  const jobs = await WatchedObjects.start(client, TRAINING_JOBS, namespace);
  try {
    await jobs.when(
      'the first trainer to be Running',
      (o) => jobStatus(o.get(JOB)).phase === 'Running',
      180_000,
    );
    await untilTraining(options, currentPod(jobs));
    const samples: ReplacementSample[] = [];
    for (const way of WAYS) {
      for (let round = 1; round <= options.rounds; round++) {
        const sample = await replaceOnce(options, pods, jobs, way, round);
        options.log(
          `${way} #${round}: ${sample.oldPod} on ${sample.fromNode} -> ${sample.newPod} on ${sample.toNode}, ` +
            `ended ${ms(sample.actToEndedMs)} after the action, replacement running ${ms(sample.endedToPodRunningMs)} ` +
            `and training ${sample.endedToTrainingMs === undefined ? '(never seen)' : ms(sample.endedToTrainingMs)} later`,
        );
        samples.push(sample);
      }
    }
    if (pods.restarts + jobs.restarts > 0) {
      options.log(`the benchmark's watches were restarted ${pods.restarts + jobs.restarts} times`);
    }
    return samples;
  } finally {
    pods.stop();
    jobs.stop();
    await client.delete(TRAINING_JOBS, namespace, JOB);
  }
}

async function replaceOnce(
  options: ReplacementOptions,
  pods: WatchedObjects,
  jobs: WatchedObjects,
  way: Way,
  round: number,
): Promise<ReplacementSample> {
  const oldPod = currentPod(jobs);
  const fromNode = nodeOf(pods.objects.get(oldPod) ?? {}) ?? '';
  const isNew = (name: string | undefined) => name !== undefined && name !== oldPod;
  const limit = 180_000;
  let endedObject: KubeObject | undefined;
  const ended = pods.when(
    `${oldPod} to end`,
    (o) => {
      const pod = o.get(oldPod);
      if (pod && podEnded(pod)) endedObject = pod;
      return !pod || podEnded(pod);
    },
    limit,
  );
  const named = jobs.when('the job to name a new pod', (o) => isNew(jobStatus(o.get(JOB)).pod), limit);
  const running = pods.when(
    'a replacement pod to run',
    (o) => [...o.entries()].some(([name, pod]) => isNew(name) && podRunning(pod)),
    limit,
  );
  const jobRunning = jobs.when(
    'the job to be Running with a new pod',
    (o) => {
      const status = jobStatus(o.get(JOB));
      return status.phase === 'Running' && isNew(status.pod);
    },
    limit,
  );
  const actedAt = Date.now();
  const undo = await endPod(options, way, oldPod, fromNode, round);
  try {
    const [endedAt, namedAt, runningAt, jobRunningAt] = await Promise.all([
      ended,
      named,
      running,
      jobRunning,
    ]);
    const newPod = currentPod(jobs);
    const newObject = pods.objects.get(newPod) ?? {};
    const oldFinishedAt = endedObject ? containerTimes(endedObject).finishedAt : undefined;
    const newStartedAt = containerTimes(newObject).startedAt;
    const trainingAt = await untilTraining(options, newPod);
    return {
      way,
      round,
      oldPod,
      newPod,
      fromNode,
      toNode: nodeOf(newObject) ?? '',
      actToEndedMs: endedAt - actedAt,
      endedToJobNamesPodMs: namedAt - endedAt,
      endedToPodRunningMs: runningAt - endedAt,
      endedToJobRunningMs: jobRunningAt - endedAt,
      ...(trainingAt ? { endedToTrainingMs: trainingAt - endedAt } : {}),
      ...(oldFinishedAt ? { oldFinishedAt } : {}),
      ...(newStartedAt ? { newStartedAt } : {}),
    };
  } finally {
    await undo();
  }
}

/** Ends the pod the given way; returns what puts the cluster back (remove the preemptor, untaint). */
async function endPod(
  options: ReplacementOptions,
  way: Way,
  pod: string,
  node: string,
  round: number,
): Promise<() => Promise<void>> {
  const { cluster, namespace } = options;
  const { client } = cluster;
  switch (way) {
    case 'deletion':
      await client.delete(PODS, namespace, pod);
      return async () => {};
    case 'taint':
      await cluster.kubectl(['taint', 'node', node, TAINT]);
      return async () => void (await cluster.kubectl(['taint', 'node', node, `${TAINT}-`]));
    case 'preemption': {
      const name = `preemptor-${round}`;
      await client.create(PODS, namespace, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace },
        spec: {
          restartPolicy: 'Never',
          priorityClassName: HIGH_PRIORITY,
          terminationGracePeriodSeconds: 0,
          nodeSelector: { 'kubernetes.io/hostname': node },
          containers: [
            {
              name: 'main',
              image: 'busybox',
              command: ['sleep', '600'],
              resources: { limits: { 'nvidia.com/gpu': '1' } },
            },
          ],
        },
      });
      return async () => {
        await client.delete(PODS, namespace, name, { gracePeriodSeconds: 0 });
        for (let i = 0; i < 600 && (await client.get(PODS, namespace, name)); i++) await sleep(100);
      };
    }
  }
}

function currentPod(jobs: WatchedObjects): string {
  const pod = jobStatus(jobs.objects.get(JOB)).pod;
  if (!pod) throw new Error(`job ${JOB} has no status.pod: ${JSON.stringify(jobs.objects.get(JOB)?.status)}`);
  return pod;
}

/**
 * Waits until the trainer logs an iteration, so the next end interrupts real training; returns when
 * the line was first seen (the start of the kubectl call that saw it), or undefined after 120s.
 */
async function untilTraining(options: ReplacementOptions, pod: string): Promise<number | undefined> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const askedAt = Date.now();
    const log = await options.cluster.kubectl(['logs', '-n', options.namespace, pod]).catch(() => '');
    if (/Iteration \d+/.test(log)) return askedAt;
    await sleep(500);
  }
  options.log(`warning: ${pod} logged no iteration within 120s; ending it anyway`);
  return undefined;
}

const ms = (x: number) => `${(x / 1000).toFixed(2)}s`;
