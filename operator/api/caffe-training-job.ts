// CaffeTrainingJob: a net and solver in Caffe's prototxt, a dataset, a snapshot location and the pod
// to train in. Its controller restarts from the latest snapshot after failures and disruptions.
import { z } from 'zod';

import {
  ComputeResources,
  Conditions,
  celCountSet,
  countSet,
  EnvVars,
  MAX_NAME_LENGTH,
  MAX_URI_LENGTH,
  ObjectMeta,
  ObjectStoreCredentials,
  objectName,
  quantity,
  queueName,
  storageUri,
  withRules,
} from './common.js';

export const TRAINING_JOB_KIND = 'CaffeTrainingJob';
export const TRAINING_JOB_PLURAL = 'caffetrainingjobs';
export const TRAINING_JOB_PHASES = [
  'Pending',
  'WaitingForData',
  'Queued',
  'Running',
  'Restarting',
  'Suspended',
  'Succeeded',
  'Failed',
] as const;
export type TrainingJobPhase = (typeof TRAINING_JOB_PHASES)[number];

/** Reasons a pod can be disrupted without its program being at fault; none of them spends a restart. */
export const DISRUPTION_REASONS = [
  'Preemption',
  'Kueue',
  'Eviction',
  'NodeLost',
  'Suspend',
  'Other',
] as const;
export type DisruptionReason = (typeof DISRUPTION_REASONS)[number];

/**
 * The shard cache's size when the job names none: two train shards and two val shards of ImageNet
 * prepared raw at 256x256 in 16 shards (about 15 GiB and 1 GiB each), with room to spare.
 */
export const DEFAULT_SHARD_CACHE_SIZE = '40Gi';

const PROTOTXT_SOURCES = ['inline', 'configMapKeyRef', 'builtin'];

const prototxtSource = (what: string, builtinFile: string) =>
  withRules(
    z
      .object({
        inline: z
          .string()
          .min(1)
          .max(262144)
          .describe(`The ${what} prototxt itself, in Caffe's text format.`)
          .optional(),
        configMapKeyRef: z
          .object({
            name: objectName('Name of a ConfigMap in the same namespace.'),
            key: z
              .string()
              .min(1)
              .max(MAX_NAME_LENGTH)
              .describe(`The key whose value is the ${what} prototxt.`),
          })
          .describe(`A ConfigMap key holding the ${what} prototxt.`)
          .optional(),
        builtin: z
          .string()
          .min(1)
          .max(63)
          .regex(/^[a-z0-9_]+$/, 'expected a model name such as bvlc_reference_caffenet')
          .describe(`A model shipped with the trainer, e.g. bvlc_reference_caffenet (its ${builtinFile}).`)
          .optional(),
      })
      .describe(`The ${what} prototxt: exactly one of inline, configMapKeyRef and builtin.`),
    [
      {
        rule: `${celCountSet(PROTOTXT_SOURCES)} == 1`,
        message: `${what} needs exactly one of inline, configMapKeyRef and builtin.`,
        check: (v) => countSet(v, PROTOTXT_SOURCES) === 1,
      },
    ],
  );

const DataSources = z
  .object({
    trainSource: storageUri('LMDB of training Datums (replaces the TRAIN data layer source).'),
    valSource: storageUri('LMDB of validation Datums (replaces the TEST data layer source).').optional(),
    meanFile: storageUri('mean.binaryproto subtracted from every image.').optional(),
  })
  .describe('Explicit data for the net, instead of a dataset.');

const Toleration = z
  .object({
    key: z
      .string()
      .max(316)
      .describe('Taint key; empty with operator Exists matches every taint.')
      .optional(),
    operator: z.enum(['Exists', 'Equal']).describe('Exists or Equal (the default).').optional(),
    value: z.string().max(63).describe('Taint value matched with Equal.').optional(),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .describe('Taint effect to match; all effects when empty.')
      .optional(),
    tolerationSeconds: z
      .int()
      .describe('How long a NoExecute taint is tolerated before the pod is evicted.')
      .optional(),
  })
  .describe('A Pod toleration.');

const RestartPolicy = withRules(
  z
    .object({
      maxRestarts: z
        .int()
        .min(0)
        .max(1000)
        .default(3)
        .describe('Restarts allowed after the trainer itself fails; disruptions never count against it.'),
      backoffSeconds: z
        .int()
        .min(1)
        .max(3600)
        .default(10)
        .describe('Wait before the first restart after a failure; doubled after each further failure.'),
      maxBackoffSeconds: z
        .int()
        .min(1)
        .max(86400)
        .default(600)
        .describe('The longest wait between restarts.'),
      maxDisruptions: z
        .int()
        .min(0)
        .max(10000)
        .default(100)
        .describe('Disruptions (preemption, eviction, node loss, suspend) allowed before the job fails.'),
    })
    .describe('How the operator restarts the trainer, from the latest snapshot.'),
  [
    {
      rule: 'self.maxBackoffSeconds >= self.backoffSeconds',
      message: 'restartPolicy.maxBackoffSeconds must be at least backoffSeconds.',
      check: (p) => p.maxBackoffSeconds >= p.backoffSeconds,
    },
  ],
);

const TrainingSpecFields = z
  .object({
    net: prototxtSource('net', 'train_val.prototxt').optional(),
    solver: prototxtSource('solver', 'solver.prototxt'),
    dataset: z
      .object({ name: objectName('Name of an ImageNetDataset in the same namespace.') })
      .describe(
        "The dataset whose shards and mean feed the net's data layers; training waits until it is Ready.",
      )
      .optional(),
    data: DataSources.optional(),
    snapshotURI: storageUri(
      'Where snapshots go: <uri>_iter_N.caffemodel and .solverstate (replaces snapshot_prefix).',
    ),
    weights: storageUri('A .caffemodel to fine-tune from (caffe train --weights).').optional(),
    image: z
      .string()
      .min(1)
      .max(512)
      .describe("Container image with the `caffe` command; the operator's default trainer image when unset.")
      .optional(),
    resources: ComputeResources.optional(),
    shardCacheSize: quantity(
      'Size limit of the emptyDir the trainer streams S3 shards through (at most two per data layer ' +
        `on disk: the one read and the next), e.g. 40Gi; ${DEFAULT_SHARD_CACHE_SIZE} when unset.`,
    ).optional(),
    env: EnvVars.optional(),
    nodeSelector: z
      .record(z.string(), z.string().max(63))
      .describe('Labels a node must have to run the trainer.')
      .optional(),
    tolerations: z.array(Toleration).max(32).describe('Taints the trainer pod tolerates.').optional(),
    affinity: z
      .object({})
      .loose()
      .describe('A Pod affinity (core/v1 Affinity), copied into the trainer pod as written.')
      .meta({ 'x-kubernetes-preserve-unknown-fields': true })
      .optional(),
    priorityClassName: z
      .string()
      .max(MAX_NAME_LENGTH)
      .describe('PriorityClass of the trainer pod; lower priorities may be preempted and resumed.')
      .optional(),
    credentials: ObjectStoreCredentials.optional(),
    queueName: queueName(
      "Kueue LocalQueue (in the job's namespace) the trainer pod waits in: it runs only once Kueue admits " +
        'it, and Kueue may preempt it for higher-priority work (it resumes from its latest snapshot).',
    ),
    restartPolicy: RestartPolicy.optional(),
    suspend: z
      .boolean()
      .default(false)
      .describe(
        'Stops the trainer (after a snapshot when it can) and keeps the job until set back to false.',
      ),
    ttlSecondsAfterFinished: z
      .int()
      .min(0)
      .describe('Delete the job this many seconds after it Succeeded or Failed; kept forever when unset.')
      .optional(),
  })
  .describe('What to train, on what data, and where.');

export const CaffeTrainingJobSpec = withRules(TrainingSpecFields, [
  {
    rule: '!(has(self.dataset) && has(self.data))',
    message: 'set dataset or data, not both.',
    check: (s) => !(s.dataset && s.data),
  },
  {
    rule: 'has(self.net) || !has(self.solver.inline)',
    message: 'an inline solver needs net as well: the solver cannot name a net file the pod can read.',
    check: (s) => s.net !== undefined || s.solver.inline === undefined,
  },
]);
export type CaffeTrainingJobSpec = z.infer<typeof CaffeTrainingJobSpec>;

const Snapshot = z
  .object({
    iteration: z.int().min(0).describe('The iteration the snapshot was taken at.'),
    caffemodel: z.string().max(MAX_URI_LENGTH).describe('The weights (.caffemodel).'),
    solverstate: z.string().max(MAX_URI_LENGTH).describe('The solver state (.solverstate) to resume from.'),
  })
  .describe('The latest complete snapshot.');

export const CaffeTrainingJobStatus = z
  .object({
    phase: z
      .enum(TRAINING_JOB_PHASES)
      .describe('Pending, WaitingForData, Running, Restarting, Suspended, Succeeded or Failed.')
      .optional(),
    conditions: Conditions.optional(),
    observedGeneration: z.int().min(0).describe('The metadata.generation the status reflects.').optional(),
    iteration: z.int().min(0).describe('The latest iteration the trainer reported.').optional(),
    maxIter: z.int().min(0).describe("The solver's max_iter.").optional(),
    progress: z.string().max(64).describe('iteration/maxIter, for kubectl get.').optional(),
    latestSnapshot: Snapshot.optional(),
    testOutputs: z
      .array(
        z
          .object({
            name: z.string().max(128).describe('Test net output blob, e.g. accuracy.'),
            value: z.number().describe('Its value, averaged over the test iterations.'),
          })
          .describe('One output of the latest test pass.'),
      )
      .max(64)
      .describe('Outputs of the latest test pass.')
      .optional(),
    accuracy: z.number().describe('The test output named accuracy (top-1), when the net has one.').optional(),
    trainLoss: z.number().describe('Smoothed training loss (Caffe average_loss).').optional(),
    learningRate: z.number().describe('The current learning rate.').optional(),
    imagesPerSecond: z
      .number()
      .min(0)
      .describe('Training throughput over the last display interval.')
      .optional(),
    restarts: z
      .int()
      .min(0)
      .describe('Restarts after trainer failures (counted against maxRestarts).')
      .optional(),
    disruptions: z
      .object({
        total: z.int().min(0).describe('All disruptions so far (counted against maxDisruptions).'),
        byReason: z
          .object(
            Object.fromEntries(
              DISRUPTION_REASONS.map((reason) => [
                reason,
                z.int().min(0).describe(`Disruptions counted as ${reason}.`).optional(),
              ]),
            ) as Record<DisruptionReason, z.ZodOptional<z.ZodInt>>,
          )
          .describe('Disruptions by reason.')
          .optional(),
      })
      .describe('Interruptions that were not the trainer’s fault.')
      .optional(),
    pod: z.string().max(MAX_NAME_LENGTH).describe('The current trainer pod.').optional(),
    startTime: z.string().describe('When training first started (RFC 3339).').optional(),
    completionTime: z.string().describe('When the job Succeeded or Failed (RFC 3339).').optional(),
  })
  .describe('What the operator observed; written by the operator only.');
export type CaffeTrainingJobStatus = z.infer<typeof CaffeTrainingJobStatus>;

export const CaffeTrainingJob = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: ObjectMeta,
    spec: CaffeTrainingJobSpec,
    status: CaffeTrainingJobStatus.optional(),
  })
  .describe('Trains a Caffe net with its solver, resuming from snapshots after failures and disruptions.');
export type CaffeTrainingJob = z.infer<typeof CaffeTrainingJob>;
