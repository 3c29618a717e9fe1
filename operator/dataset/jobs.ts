// The Jobs an ImageNetDataset runs: an Indexed Job of `caffe imagenet prep` workers, one per shard,
// then one `caffe imagenet finalize`. Pure functions from the dataset to Job manifests.
import { wholeCores } from '../../trainer/contract/quantity.js';
import {
  DATASET_KIND,
  type ImageNetDatasetSpec,
  type ImageNetDatasetStatus,
} from '../api/imagenet-dataset.js';
import { QUEUE_NAME_LABEL } from '../kueue.js';
import type { KubeObject, Resource } from '../runtime/kube-client.js';
import {
  BAD_INPUT_EXIT_CODE,
  childName,
  controllerReference,
  MANAGED_BY,
  mergeEnv,
  PROGRESS_AUDIENCE,
  PROGRESS_MOUNT,
  PROGRESS_TOKEN_SECONDS,
  type ProgressRoute,
  progressFlags,
  resourceRequirements,
} from '../workloads.js';

export { BAD_INPUT_EXIT_CODE, MANAGED_BY };

export const JOBS: Resource = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' };

export const DATASET_LABEL = 'caffe.brewery.dev/dataset';
export const STEP_LABEL = 'caffe.brewery.dev/step';
/**
 * The annotation of the finalize pod holding the CA of the operator's endpoint, which a downwardAPI file
 * hands the pod: the CA is public, and this way no ConfigMap per dataset is needed.
 */
export const PROGRESS_CA_ANNOTATION = 'caffe.brewery.dev/progress-ca';
/** Where a volume source is mounted in the prep pods. */
export const SOURCE_MOUNT = '/data/source';

export type Step = 'prep' | 'finalize';

export interface DatasetRef {
  name: string;
  namespace: string;
  uid: string;
  spec: ImageNetDatasetSpec;
}

export interface JobDefaults {
  /** The image with the `caffe` command, used when the dataset names none. */
  trainerImage: string;
  /** Where the finalize step reports its counts; without it the dataset's status has no counts. */
  progress?: ProgressRoute;
}

/** A child's name: `<dataset>-<step>`, shortened with a hash when it would pass 63 characters. */
export function jobName(dataset: string, step: Step): string {
  return childName(dataset, step);
}

/** The output prefix without a trailing slash, so file URIs join cleanly. */
export function outputPrefix(spec: ImageNetDatasetSpec): string {
  return spec.output.replace(/\/+$/, '');
}

/** Where a prepared dataset's files are, with its shards (relative to the output, as reported) when known. */
export function datasetOutputs(
  spec: ImageNetDatasetSpec,
  shards?: string[],
): NonNullable<ImageNetDatasetStatus['outputs']> {
  const out = outputPrefix(spec);
  return {
    manifest: `${out}/manifest.json`,
    mean: `${out}/mean.binaryproto`,
    trainList: `${out}/train.txt`,
    valList: `${out}/val.txt`,
    synsets: `${out}/synsets.txt`,
    ...(shards ? { shards } : {}),
  };
}

/** The shard files the finalize step reported, as URIs under the output prefix. */
export function shardUris(spec: ImageNetDatasetSpec, files: string[]): string[] {
  return files.map((file) => `${outputPrefix(spec)}/${file.replace(/^\/+/, '')}`);
}

/** The folder (URI or mounted path) holding train/ and val/. */
export function sourceRoot(spec: ImageNetDatasetSpec): string {
  if (spec.source.uri) return spec.source.uri.replace(/\/+$/, '');
  const sub = spec.source.volume?.subPath?.replace(/\/+$/, '');
  return sub ? `${SOURCE_MOUNT}/${sub}` : SOURCE_MOUNT;
}

function underSource(spec: ImageNetDatasetSpec, file: string): string {
  return file.startsWith('s3://') ? file : `${sourceRoot(spec)}/${file}`;
}

/** The arguments of `caffe imagenet prep` for every shard; the index comes from the Job. */
export function prepArgs(spec: ImageNetDatasetSpec): string[] {
  const root = sourceRoot(spec);
  const args = ['imagenet', 'prep', `--train=${root}/train`, `--val=${root}/val`];
  if (spec.valLabels) args.push(`--val-labels=${underSource(spec, spec.valLabels)}`);
  if (spec.words) args.push(`--words=${underSource(spec, spec.words)}`);
  args.push(`--out=${outputPrefix(spec)}`, `--size=${spec.size}`, `--resize=${spec.resize}`);
  // The prep command stores JPEG by default; raw (Caffe's default) must be asked for.
  args.push(`--encoded=${spec.encoding === 'jpeg'}`);
  if (spec.quality !== undefined) args.push(`--quality=${spec.quality}`);
  if (spec.shuffleSeed !== undefined) args.push(`--shuffle-seed=${spec.shuffleSeed}`);
  // Inside a container Node sees the node's cores, not the pod's: the CPU the worker asks for says
  // how many images it works on at once.
  const threads = prepThreads(spec);
  if (threads !== undefined) args.push(`--threads=${threads}`);
  // Kubernetes expands $(JOB_COMPLETION_INDEX), which the Job controller sets in every indexed pod.
  args.push(`--shard-count=${spec.shards}`, '--shard-index=$(JOB_COMPLETION_INDEX)');
  return args;
}

/** Images a prep worker works on at once: its CPU, rounded up; undefined when it asks for none. */
export function prepThreads(spec: ImageNetDatasetSpec): number | undefined {
  const cpu = spec.worker?.resources?.cpu;
  return cpu === undefined ? undefined : wholeCores(cpu);
}

export function finalizeArgs(spec: ImageNetDatasetSpec): string[] {
  return ['imagenet', 'finalize', `--out=${outputPrefix(spec)}`];
}

/** The path of the operator's endpoint that takes a dataset's counts from its finalize pod. */
export function countsPath(dataset: { namespace: string; name: string }): string {
  return `/v1/namespaces/${dataset.namespace}/imagenetdatasets/${dataset.name}/counts`;
}

// Disruptions (preemption, eviction, node loss) are not the worker's fault and must not use up its
// retries; exit code 65 means the input is bad and no retry can help. Other failures count (the default).
const podFailurePolicy = (container: string) => ({
  rules: [
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    {
      action: 'FailJob',
      onExitCodes: { containerName: container, operator: 'In', values: [BAD_INPUT_EXIT_CODE] },
    },
  ],
});

export function prepJob(dataset: DatasetRef, defaults: JobDefaults): KubeObject {
  const { spec } = dataset;
  // Decoding and encoding run on libuv's pool (4 threads by default): one per image in flight.
  const threads = prepThreads(spec);
  const env = threads && threads > 4 ? [{ name: 'UV_THREADPOOL_SIZE', value: String(threads) }] : undefined;
  const job = baseJob(dataset, 'prep', prepArgs(spec), defaults, env);
  Object.assign(job.spec as object, {
    completionMode: 'Indexed',
    completions: spec.shards,
    // Fewer workers at once than shards leaves room on the nodes; each index still writes its own shard.
    parallelism: Math.min(spec.parallelism ?? spec.shards, spec.shards),
    backoffLimitPerIndex: spec.backoffLimitPerIndex,
    // One shard that fails for good fails the dataset at once rather than after every other shard.
    maxFailedIndexes: 0,
    suspend: spec.suspend || spec.queueName !== undefined,
  });
  return job;
}

export function finalizeJob(dataset: DatasetRef, defaults: JobDefaults): KubeObject {
  const route = defaults.progress;
  const args = [...finalizeArgs(dataset.spec), ...(route ? progressFlags(route, countsPath(dataset)) : [])];
  const job = baseJob(dataset, 'finalize', args, defaults);
  Object.assign(job.spec as object, { backoffLimit: dataset.spec.backoffLimitPerIndex });
  if (route) withProgressVolume(job, route);
  return job;
}

/** The pod's own token for the operator's audience and the operator's CA, at PROGRESS_MOUNT. */
function withProgressVolume(job: KubeObject, route: ProgressRoute): void {
  const template = (job.spec as { template: { metadata: Record<string, unknown>; spec: PodSpec } }).template;
  template.metadata.annotations = { [PROGRESS_CA_ANNOTATION]: route.ca };
  const container = template.spec.containers[0]!;
  container.volumeMounts = [
    ...(container.volumeMounts ?? []),
    { name: 'progress', mountPath: PROGRESS_MOUNT, readOnly: true },
  ];
  template.spec.volumes = [
    ...(template.spec.volumes ?? []),
    {
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
          {
            downwardAPI: {
              items: [
                {
                  path: 'ca.crt',
                  fieldRef: { fieldPath: `metadata.annotations['${PROGRESS_CA_ANNOTATION}']` },
                },
              ],
            },
          },
        ],
      },
    },
  ];
}

interface PodSpec {
  containers: { volumeMounts?: unknown[] }[];
  volumes?: unknown[];
}

function baseJob(
  dataset: DatasetRef,
  step: Step,
  args: string[],
  defaults: JobDefaults,
  env?: { name: string; value: string }[],
): KubeObject {
  const { spec } = dataset;
  const labels: Record<string, string> = { ...MANAGED_BY, [DATASET_LABEL]: dataset.name, [STEP_LABEL]: step };
  const container: Record<string, unknown> = {
    name: step,
    image: spec.worker?.image ?? defaults.trainerImage,
    command: ['caffe'],
    args,
    resources: resourceRequirements(spec.worker?.resources),
  };
  if (spec.credentials) container.envFrom = [{ secretRef: { name: spec.credentials.secretName } }];
  const allEnv = mergeEnv(env ?? [], spec.worker?.env ?? []);
  if (allEnv.length > 0) container.env = allEnv;
  const podSpec: Record<string, unknown> = { restartPolicy: 'Never', containers: [container] };
  const volume = spec.source.volume;
  if (step === 'prep' && volume) {
    container.volumeMounts = [{ name: 'source', mountPath: SOURCE_MOUNT, readOnly: true }];
    podSpec.volumes = [
      volume.claimName
        ? { name: 'source', persistentVolumeClaim: { claimName: volume.claimName, readOnly: true } }
        : { name: 'source', hostPath: { path: volume.hostPath, type: 'Directory' } },
    ];
  }
  // Kueue's batch/Job integration admits a labelled Job by unsuspending it: it is created suspended.
  const queued: Record<string, string> = spec.queueName ? { [QUEUE_NAME_LABEL]: spec.queueName } : {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(dataset.name, step),
      namespace: dataset.namespace,
      labels: { ...labels, ...queued },
      ownerReferences: [controllerReference(DATASET_KIND, dataset.name, dataset.uid)],
    },
    spec: {
      podFailurePolicy: podFailurePolicy(step),
      // A replacement pod starts only once the failed one is gone, so two never write one shard.
      podReplacementPolicy: 'Failed',
      ...(spec.queueName ? { suspend: true } : {}),
      template: { metadata: { labels }, spec: podSpec },
    },
  };
}
