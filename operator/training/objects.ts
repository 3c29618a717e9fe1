// The objects a CaffeTrainingJob owns: the ConfigMap of effective prototxts, the trainer Pod (one per
// attempt) and the metrics Service. Pure functions from the job to manifests.
import { memoryBytes, wholeCores } from '../../trainer/contract/quantity.js';
import {
  type CaffeTrainingJobSpec,
  DEFAULT_SHARD_CACHE_SIZE,
  TRAINING_JOB_KIND,
} from '../api/caffe-training-job.js';
import { QUEUE_NAME_LABEL } from '../kueue.js';
import type { KubeObject } from '../runtime/kube-client.js';
import {
  childName,
  controllerReference,
  MANAGED_BY,
  PROGRESS_AUDIENCE,
  PROGRESS_MOUNT,
  PROGRESS_TOKEN_SECONDS,
  type ProgressRoute,
  progressFlags,
  resourceRequirements,
} from '../workloads.js';

export { PROGRESS_AUDIENCE, PROGRESS_MOUNT, type ProgressRoute };

export const JOB_LABEL = 'caffe.brewery.dev/job';
export const ATTEMPT_LABEL = 'caffe.brewery.dev/attempt';
export const TRAINER_LABELS = { ...MANAGED_BY, 'app.kubernetes.io/name': 'caffe-trainer' };
/**
 * Keeps an ended trainer pod until the operator has recorded how it ended. Without it a preempted or
 * evicted pod can vanish before the operator sees why, and a disruption would look like a failure
 * (the Job controller tracks its pods the same way).
 */
export const TRACKING_FINALIZER = 'caffe.brewery.dev/trainer-tracking';
export const METRICS_PORT = 9400;
/** Where the ConfigMap of effective prototxts is mounted in the trainer. */
export const PROTOTXT_MOUNT = '/etc/brewery/job';
export const NET_FILE = 'train_val.prototxt';
export const SOLVER_FILE = 'solver.prototxt';
/** Where the trainer's emptyDir for streamed S3 shards is mounted (`caffe train --cache_dir`). */
export const SHARD_CACHE_MOUNT = '/var/cache/brewery/shards';
/** The key of the job's ConfigMap that holds the CA of the operator's progress endpoint. */
export const PROGRESS_CA_KEY = 'progress-ca.crt';

/** Time the trainer gets after SIGTERM to finish its iteration and write a snapshot. */
export const TERMINATION_GRACE_SECONDS = 300;

export interface JobRef {
  name: string;
  namespace: string;
  uid: string;
  spec: CaffeTrainingJobSpec;
}

export const configMapName = (job: string) => childName(job, 'prototxt');
export const serviceName = (job: string) => childName(job, 'metrics');
export const podName = (job: string, attempt: number) => childName(job, `trainer-${attempt}`);

/** The live status record the trainer rewrites while it runs (`caffe train --status-file`). */
export function statusFileOf(spec: CaffeTrainingJobSpec): string {
  return `${snapshotPrefixOf(spec)}.status.json`;
}

export function snapshotPrefixOf(spec: Pick<CaffeTrainingJobSpec, 'snapshotURI'>): string {
  return spec.snapshotURI.replace(/\/+$/, '');
}

function metadata(job: JobRef, name: string, labels: Record<string, string>) {
  return {
    name,
    namespace: job.namespace,
    labels,
    ownerReferences: [controllerReference(TRAINING_JOB_KIND, job.name, job.uid)],
  };
}

export function prototxtConfigMap(
  job: JobRef,
  files: { net: string; solver: string; progressCa?: string | undefined },
): KubeObject {
  const data: Record<string, string> = { [NET_FILE]: files.net, [SOLVER_FILE]: files.solver };
  if (files.progressCa) data[PROGRESS_CA_KEY] = files.progressCa;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(job, configMapName(job.name), { ...MANAGED_BY, [JOB_LABEL]: job.name }),
    data,
  };
}

/** The trainer's flags for reporting to the operator: its job's endpoint, its token, the CA. */
export function progressArgs(job: JobRef, route: ProgressRoute): string[] {
  return progressFlags(route, `/v1/namespaces/${job.namespace}/caffetrainingjobs/${job.name}/progress`);
}

/** The pod's own service-account token for the operator's audience, and the CA from the job's ConfigMap. */
function progressVolume(job: JobRef): Record<string, unknown> {
  return {
    name: 'progress',
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: PROGRESS_AUDIENCE,
            expirationSeconds: PROGRESS_TOKEN_SECONDS,
            path: 'token',
          },
        },
        { configMap: { name: configMapName(job.name), items: [{ key: PROGRESS_CA_KEY, path: 'ca.crt' }] } },
      ],
    },
  };
}

/**
 * The node's folder when the operator names one (it must exist and be writable by the image's user,
 * uid 1000: hostPath makes no ownership), else an emptyDir that lasts as long as the pod.
 */
function cudaCacheVolume(hostPath: string | undefined): Record<string, unknown> {
  return hostPath
    ? { name: 'cuda-cache', hostPath: { path: hostPath, type: 'Directory' } }
    : { name: 'cuda-cache', emptyDir: {} };
}

export function metricsService(job: JobRef): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(job, serviceName(job.name), { ...MANAGED_BY, [JOB_LABEL]: job.name }),
    spec: {
      // Headless: scrapers find the pod through its endpoints, and a ClusterIP per job ran out the
      // service range (a /24 held 253 of 1,000 jobs, the rest failing with "range is full").
      clusterIP: 'None',
      selector: { [JOB_LABEL]: job.name, 'app.kubernetes.io/name': 'caffe-trainer' },
      ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics' }],
    },
  };
}

/**
 * Every pod resumes from the newest complete snapshot under its prefix, which the trainer finds itself
 * with the job's credentials (`--snapshot=latest`); with none there, it fine-tunes from spec.weights or
 * starts from the fillers. The operator reads no storage to choose.
 */
export function trainerArgs(spec: CaffeTrainingJobSpec): string[] {
  const args = [
    'train',
    `--solver=${PROTOTXT_MOUNT}/${SOLVER_FILE}`,
    `--metrics-port=${METRICS_PORT}`,
    `--status-file=${statusFileOf(spec)}`,
    `--cache_dir=${SHARD_CACHE_MOUNT}`,
  ];
  args.push('--snapshot=latest');
  if (spec.weights) args.push(`--weights=${spec.weights}`);
  // The trainer reads its cgroup too; the flags size it where the node's cgroups cannot be read.
  const threads = spec.resources?.cpu === undefined ? undefined : wholeCores(spec.resources.cpu);
  if (threads !== undefined) args.push(`--threads=${threads}`);
  const budget = spec.resources?.memory === undefined ? undefined : memoryBytes(spec.resources.memory);
  if (budget !== undefined) args.push(`--memory_budget=${budget}`);
  return args;
}

/** What the operator's flags give every trainer pod. */
export interface TrainerPodDefaults {
  /** The image when the job names none. */
  image: string;
  /** Where the trainer reports progress; without it, it reports nowhere. */
  progress?: ProgressRoute;
  /**
   * A node folder for CUDA's compilation cache, kept across pods (`--cuda-cache-host-path`). GPU pods
   * mount it at CUDA_CACHE_MOUNT, else an emptyDir there (so a read-only root file system still works).
   */
  cudaCacheHostPath?: string;
}

/**
 * Where GPU trainer pods keep CUDA's compilation cache (CUDA_CACHE_PATH, as the Dockerfile's `trainer`
 * image sets it): PTX compiled at start for a GPU newer than the wheel's kernels is kept there.
 */
export const CUDA_CACHE_MOUNT = '/var/cache/brewery/cuda';

export function trainerPod(job: JobRef, attempt: number, defaults: TrainerPodDefaults): KubeObject {
  const { spec } = job;
  const { progress } = defaults;
  const gpu = (spec.resources?.gpus ?? 0) > 0;
  const labels: Record<string, string> = {
    ...TRAINER_LABELS,
    [JOB_LABEL]: job.name,
    [ATTEMPT_LABEL]: String(attempt),
  };
  // Kueue's Pod integration gates a labelled pod until its Workload is admitted: every attempt queues.
  if (spec.queueName) labels[QUEUE_NAME_LABEL] = spec.queueName;
  const container: Record<string, unknown> = {
    name: 'trainer',
    image: spec.image ?? defaults.image,
    command: ['caffe'],
    args: [...trainerArgs(spec), ...(progress ? progressArgs(job, progress) : [])],
    ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
    resources: resourceRequirements(spec.resources),
    volumeMounts: [
      { name: 'prototxt', mountPath: PROTOTXT_MOUNT, readOnly: true },
      { name: 'shard-cache', mountPath: SHARD_CACHE_MOUNT },
      ...(progress ? [{ name: 'progress', mountPath: PROGRESS_MOUNT, readOnly: true }] : []),
      ...(gpu ? [{ name: 'cuda-cache', mountPath: CUDA_CACHE_MOUNT }] : []),
    ],
    // The solver names its net relative to here, as Caffe resolves it.
    workingDir: PROTOTXT_MOUNT,
    // The trainer's last lines explain a crash that left no termination message.
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (spec.credentials) container.envFrom = [{ secretRef: { name: spec.credentials.secretName } }];
  // CUDA_CACHE_PATH first, so that an entry of spec.env, later in the list, wins.
  const env = [...(gpu ? [{ name: 'CUDA_CACHE_PATH', value: CUDA_CACHE_MOUNT }] : []), ...(spec.env ?? [])];
  if (env.length) container.env = env;
  const podSpec: Record<string, unknown> = {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
    containers: [container],
    volumes: [
      { name: 'prototxt', configMap: { name: configMapName(job.name) } },
      // The kubelet evicts a pod whose emptyDir outgrows its sizeLimit, so the cache cannot fill the node.
      { name: 'shard-cache', emptyDir: { sizeLimit: spec.shardCacheSize ?? DEFAULT_SHARD_CACHE_SIZE } },
      ...(progress ? [progressVolume(job)] : []),
      ...(gpu ? [cudaCacheVolume(defaults.cudaCacheHostPath)] : []),
    ],
  };
  if (spec.nodeSelector) podSpec.nodeSelector = spec.nodeSelector;
  if (spec.tolerations) podSpec.tolerations = spec.tolerations;
  if (spec.affinity) podSpec.affinity = spec.affinity;
  if (spec.priorityClassName) podSpec.priorityClassName = spec.priorityClassName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...metadata(job, podName(job.name, attempt), labels), finalizers: [TRACKING_FINALIZER] },
    spec: podSpec,
  };
}
