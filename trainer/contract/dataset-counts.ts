// The counts `caffe imagenet finalize` reports to the operator once manifest.json is written, as both
// sides read them: the finalize step sends them (trainer/data/finalize.ts's manifest, summarised) and
// the operator mirrors them into the ImageNetDataset's status, reading no manifest itself.
import { z } from 'zod';

import { BadInputError } from './errors.js';
import { fieldPath } from './records.js';

export const DATASET_COUNTS_VERSION = 1;
const count = z.number().int().nonnegative();

export const datasetCountsSchema = z.object({
  version: z.literal(DATASET_COUNTS_VERSION),
  train: count.describe('Records in the train split (manifest.json splits.train.records).'),
  val: count.describe('Records in the val split (manifest.json splits.val.records).'),
  skipped: count.describe('Files skipped because they could not be read or decoded.'),
  shards: z
    .array(z.string().min(1).max(1024))
    .max(2000)
    .describe('The LMDB shards, relative to the output prefix, as the manifest lists them.'),
});
export type DatasetCounts = z.infer<typeof datasetCountsSchema>;

export function parseDatasetCounts(json: unknown, where: string): DatasetCounts {
  const result = datasetCountsSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new BadInputError(`${fieldPath(issue.path)}: ${issue.message}`, where);
}
