// The CustomResourceDefinitions of both kinds, built from the zod schemas: what `npm run gen:crds`
// writes to crds/ and what the integration tests apply.
import type { z } from 'zod';

import {
  CaffeTrainingJobSpec,
  CaffeTrainingJobStatus,
  TRAINING_JOB_KIND,
  TRAINING_JOB_PLURAL,
} from './caffe-training-job.js';
import { GROUP, VERSION } from './common.js';
import {
  DATASET_KIND,
  DATASET_PLURAL,
  ImageNetDatasetSpec,
  ImageNetDatasetStatus,
} from './imagenet-dataset.js';
import { type JsonSchema, structuralSchema } from './structural.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

const AGE: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the object was created.',
};

export const KINDS: KindDefinition[] = [
  {
    kind: DATASET_KIND,
    plural: DATASET_PLURAL,
    singular: 'imagenetdataset',
    shortNames: ['ids', 'imagenet'],
    description:
      'ImageNetDataset prepares raw images in the ImageNet layout into Caffe LMDB shards of Datum records, ' +
      'a mean.binaryproto and label lists, with an Indexed Job of `caffe imagenet prep` workers.',
    spec: ImageNetDatasetSpec,
    status: ImageNetDatasetStatus,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where preparation is.' },
      {
        name: 'Shards',
        type: 'string',
        jsonPath: '.status.shardProgress',
        description: 'Shards done/total.',
      },
      { name: 'Images', type: 'integer', jsonPath: '.status.images.total', description: 'Images written.' },
      { name: 'Skipped', type: 'integer', jsonPath: '.status.images.skipped', description: 'Files skipped.' },
      {
        name: 'Output',
        type: 'string',
        jsonPath: '.spec.output',
        description: 'Output prefix.',
        priority: 1,
      },
      AGE,
    ],
  },
  {
    kind: TRAINING_JOB_KIND,
    plural: TRAINING_JOB_PLURAL,
    singular: 'caffetrainingjob',
    shortNames: ['ctj', 'caffejob'],
    description:
      'CaffeTrainingJob trains a Caffe net with its solver (prototxt) on a dataset, snapshots to object ' +
      'storage, and resumes from the latest snapshot after failures, preemption and eviction.',
    spec: CaffeTrainingJobSpec,
    status: CaffeTrainingJobStatus,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where training is.' },
      { name: 'Iteration', type: 'string', jsonPath: '.status.progress', description: 'iteration/max_iter.' },
      {
        name: 'Accuracy',
        type: 'number',
        jsonPath: '.status.accuracy',
        description: 'Latest test accuracy.',
      },
      {
        name: 'Restarts',
        type: 'integer',
        jsonPath: '.status.restarts',
        description: 'Restarts after failures.',
      },
      {
        name: 'Disruptions',
        type: 'integer',
        jsonPath: '.status.disruptions.total',
        description: 'Preemptions, evictions and node losses.',
      },
      {
        name: 'Loss',
        type: 'number',
        jsonPath: '.status.trainLoss',
        description: 'Smoothed loss.',
        priority: 1,
      },
      AGE,
    ],
  },
];

/** One CustomResourceDefinition object, ready to be written as YAML or applied. */
export function customResourceDefinition(def: KindDefinition): JsonSchema {
  const openAPIV3Schema: JsonSchema = {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'The API group and version: caffe.brewery.dev/v1alpha1.' },
      kind: { type: 'string', description: `The kind: ${def.kind}.` },
      metadata: { type: 'object' },
      spec: structuralSchema(def.spec),
      status: structuralSchema(def.status),
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'brewery' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['brewery'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

/** Every CRD with the file name it is written under in crds/. */
export function allCustomResourceDefinitions(): { file: string; crd: JsonSchema }[] {
  return KINDS.map((def) => ({ file: `${GROUP}_${def.plural}.yaml`, crd: customResourceDefinition(def) }));
}
