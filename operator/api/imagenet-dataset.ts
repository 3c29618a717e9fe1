// ImageNetDataset: raw images in the ImageNet layout, turned into LMDB shards, a mean and label lists
// by an Indexed Job of `caffe imagenet prep` workers and one `caffe imagenet finalize` step.
import { z } from 'zod';

import {
  ComputeResources,
  Conditions,
  celCountSet,
  countSet,
  EnvVars,
  MAX_URI_LENGTH,
  ObjectMeta,
  ObjectStoreCredentials,
  objectName,
  queueName,
  s3Uri,
  withRules,
} from './common.js';

export const DATASET_KIND = 'ImageNetDataset';
export const DATASET_PLURAL = 'imagenetdatasets';
export const DATASET_PHASES = ['Pending', 'Preparing', 'Finalizing', 'Ready', 'Failed'] as const;
export type DatasetPhase = (typeof DATASET_PHASES)[number];

/** Spec fields a user may change after creation; every other field is fixed once the object exists. */
export const DATASET_MUTABLE_SPEC_FIELDS = ['suspend'] as const;

const relativeOrUri = (description: string) =>
  z
    .string()
    .min(1)
    .max(MAX_URI_LENGTH)
    .regex(/^(s3:\/\/.+|[^/].*)$/, 'expected an s3:// URI or a path relative to the source')
    .describe(description);

const SourceVolume = withRules(
  z
    .object({
      claimName: objectName('A PersistentVolumeClaim in the same namespace, mounted read-only.').optional(),
      hostPath: z
        .string()
        .max(MAX_URI_LENGTH)
        .regex(/^\//, 'expected an absolute path')
        .describe('A directory on the node, mounted read-only (for single-node and local clusters).')
        .optional(),
      subPath: z
        .string()
        .max(MAX_URI_LENGTH)
        .regex(/^[^/]/, 'expected a relative path')
        .describe('The folder inside the volume that holds train/ and val/; the volume root when empty.')
        .optional(),
    })
    .describe('A volume holding the raw images.'),
  [
    {
      rule: `${celCountSet(['claimName', 'hostPath'])} == 1`,
      message: 'source.volume needs exactly one of claimName and hostPath.',
      check: (v) => countSet(v, ['claimName', 'hostPath']) === 1,
    },
  ],
);

const Source = withRules(
  z
    .object({
      uri: s3Uri(
        'An s3:// prefix that holds train/<wnid>/*.JPEG and val/*.JPEG (or val/<wnid>/*).',
      ).optional(),
      volume: SourceVolume.optional(),
    })
    .describe('Where the raw images are, in the ImageNet layout: exactly one of uri and volume.'),
  [
    {
      rule: `${celCountSet(['uri', 'volume'])} == 1`,
      message: 'source needs exactly one of uri and volume.',
      check: (v) => countSet(v, ['uri', 'volume']) === 1,
    },
  ],
);

const Worker = z
  .object({
    image: z
      .string()
      .min(1)
      .max(512)
      .describe("Container image with the `caffe` command; the operator's default trainer image when unset.")
      .optional(),
    resources: ComputeResources.optional(),
    env: EnvVars.optional(),
  })
  .describe(
    "The pods that prepare the shards. Each works on as many images at once as its CPU, rounded up (all the node's cores when unset).",
  );

const DatasetSpecFields = z
  .object({
    source: Source,
    valLabels: relativeOrUri(
      'File of "<image> <label>" lines for val/ images in a flat folder (path relative to the source, or s3:// URI).',
    ).optional(),
    words: relativeOrUri(
      'File of "<wnid> <words>" lines naming each synset (path relative to the source, or s3:// URI).',
    ).optional(),
    output: s3Uri('The s3:// prefix the shards, mean, label lists and manifest.json are written under.'),
    size: z
      .int()
      .min(8)
      .max(4096)
      .default(256)
      .describe('Images are resized to size x size pixels (Caffe uses 256 for ImageNet).'),
    resize: z
      .enum(['squash', 'crop'])
      .default('squash')
      .describe('squash stretches to a square (Caffe); crop resizes the short side and cuts the centre.'),
    encoding: z
      .enum(['raw', 'jpeg'])
      .default('raw')
      .describe('raw stores decoded pixels in each Datum (Caffe default); jpeg stores encoded images.'),
    quality: z.int().min(1).max(100).describe('JPEG quality when encoding is jpeg.').optional(),
    shuffleSeed: z
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .describe('Seed of the shuffle of the training list; the order is fixed by the seed.')
      .optional(),
    shards: z
      .int()
      .min(1)
      .max(1000)
      .default(4)
      .describe(
        'Number of LMDB shards, which is also the number of prep workers (completions); parallelism caps how many run at once.',
      ),
    parallelism: z
      .int()
      .min(1)
      .max(1000)
      .describe(
        "Prep workers running at once (the Job's parallelism); all shards at once when unset. " +
          'A value above shards runs shards workers.',
      )
      .optional(),
    backoffLimitPerIndex: z
      .int()
      .min(0)
      .max(20)
      .default(3)
      .describe('Failed attempts allowed per shard before that shard, and the dataset, fails.'),
    worker: Worker.optional(),
    credentials: ObjectStoreCredentials.optional(),
    queueName: queueName(
      "Kueue LocalQueue (in the dataset's namespace) the prep and finalize Jobs are queued in; Kueue " +
        'admits them through its batch/Job integration.',
    ),
    suspend: z
      .boolean()
      .default(false)
      .describe('Pauses preparation: running workers are stopped and resume when set back to false.'),
  })
  .describe('What to prepare and where to write it. Only suspend may change after creation.');

const immutableFieldsRule = () => {
  const shape = DatasetSpecFields.shape;
  const mutable: readonly string[] = DATASET_MUTABLE_SPEC_FIELDS;
  const parts = Object.keys(shape)
    .filter((key) => !mutable.includes(key))
    .map((key) => {
      const optional = shape[key as keyof typeof shape].safeParse(undefined).success;
      return optional
        ? `(has(self.${key}) == has(oldSelf.${key}) && (!has(self.${key}) || self.${key} == oldSelf.${key}))`
        : `self.${key} == oldSelf.${key}`;
    });
  return parts.join(' && ');
};

export const ImageNetDatasetSpec = withRules(DatasetSpecFields, [
  {
    rule: "!has(self.quality) || self.encoding == 'jpeg'",
    message: 'quality applies only when encoding is jpeg.',
    check: (s) => s.quality === undefined || s.encoding === 'jpeg',
    fieldPath: '.quality',
  },
  {
    rule: immutableFieldsRule(),
    message:
      'spec is immutable except suspend, so shards are never half old and half new: ' +
      'create a new ImageNetDataset (with a new output) to prepare different data.',
  },
]);
export type ImageNetDatasetSpec = z.infer<typeof ImageNetDatasetSpec>;

export const ImageNetDatasetStatus = z
  .object({
    phase: z.enum(DATASET_PHASES).describe('Pending, Preparing, Finalizing, Ready or Failed.').optional(),
    conditions: Conditions.optional(),
    observedGeneration: z.int().min(0).describe('The metadata.generation the status reflects.').optional(),
    shards: z
      .object({
        total: z.int().min(0).describe('Shards to prepare.'),
        succeeded: z.int().min(0).describe('Shards whose worker finished.'),
        failed: z.int().min(0).describe('Shards that failed for good.'),
      })
      .describe('Progress of the prep workers, from the Job.')
      .optional(),
    shardProgress: z.string().max(32).describe('succeeded/total shards, for kubectl get.').optional(),
    images: z
      .object({
        train: z.int().min(0).describe('Training images written.'),
        val: z.int().min(0).describe('Validation images written.'),
        skipped: z.int().min(0).describe('Files skipped because they could not be read or decoded.'),
        total: z.int().min(0).describe('train + val.'),
      })
      .describe('Image counts, as the finalize step reported them from the manifest.json it wrote.')
      .optional(),
    outputs: z
      .object({
        manifest: z.string().max(MAX_URI_LENGTH).describe('manifest.json: counts and every file written.'),
        mean: z.string().max(MAX_URI_LENGTH).describe('mean.binaryproto over the training images.'),
        trainList: z.string().max(MAX_URI_LENGTH).describe('train.txt: "<file> <label>" lines.'),
        valList: z.string().max(MAX_URI_LENGTH).describe('val.txt: "<file> <label>" lines.'),
        synsets: z.string().max(MAX_URI_LENGTH).describe('synsets.txt: one wnid per label, label 0 first.'),
        shards: z
          .array(z.string().max(MAX_URI_LENGTH))
          .max(2000)
          .describe('The LMDB shards, as listed in the manifest.')
          .optional(),
      })
      .describe('Where the prepared data is.')
      .optional(),
    prepJob: z.string().max(63).describe('Name of the Indexed Job of prep workers.').optional(),
    finalizeJob: z.string().max(63).describe('Name of the finalize Job.').optional(),
    startTime: z.string().describe('When preparation started (RFC 3339).').optional(),
    completionTime: z.string().describe('When the dataset became Ready or Failed (RFC 3339).').optional(),
  })
  .describe('What the operator observed; written by the operator only.');
export type ImageNetDatasetStatus = z.infer<typeof ImageNetDatasetStatus>;

export const ImageNetDataset = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: ObjectMeta,
    spec: ImageNetDatasetSpec,
    status: ImageNetDatasetStatus.optional(),
  })
  .describe('Raw ImageNet-layout images prepared into Caffe LMDB shards, a mean and label lists.');
export type ImageNetDataset = z.infer<typeof ImageNetDataset>;
