// What the dataset controller reads, reduced to plain values for the decision: a Job's progress and
// outcome, and the counts in the finished manifest.json.
import { z } from 'zod';

import { parseRecord } from '../../trainer/contract/records.js';
import type { KubeObject } from '../runtime/kube-client.js';

export interface JobView {
  name: string;
  /** uid of its controlling owner, to tell our Job from one left by an earlier dataset of that name. */
  ownerUid?: string;
  suspended: boolean;
  active: number;
  /** Indexes (shards) that finished, and that failed for good. */
  succeededIndexes: number;
  failedIndexes: number;
  /** The Job's final outcome, once it has one. */
  outcome?: { type: 'Complete' | 'Failed'; reason: string; message: string };
  startTime?: string;
  completionTime?: string;
}

interface JobJson {
  metadata?: { name?: string; ownerReferences?: { uid: string; controller?: boolean }[] };
  spec?: { suspend?: boolean; completions?: number };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    completedIndexes?: string;
    failedIndexes?: string;
    startTime?: string;
    completionTime?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export function viewJob(object: KubeObject): JobView {
  const job = object as JobJson;
  const status = job.status ?? {};
  const final = status.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  const view: JobView = {
    name: job.metadata?.name ?? '',
    ownerUid: job.metadata?.ownerReferences?.find((r) => r.controller)?.uid,
    suspended: job.spec?.suspend === true,
    active: status.active ?? 0,
    // A non-indexed Job (finalize) reports plain counts instead of index ranges.
    succeededIndexes:
      status.completedIndexes !== undefined ? countIndexes(status.completedIndexes) : (status.succeeded ?? 0),
    failedIndexes: countIndexes(status.failedIndexes ?? ''),
  };
  if (final) {
    view.outcome = {
      type: final.type as 'Complete' | 'Failed',
      reason: final.reason ?? '',
      message: final.message ?? '',
    };
  }
  if (status.startTime) view.startTime = status.startTime;
  if (status.completionTime) view.completionTime = status.completionTime;
  return view;
}

/** Counts the indexes in a Job's interval list such as "1,3-5,7" (which holds 5). */
export function countIndexes(list: string): number {
  let count = 0;
  for (const part of list.split(',')) {
    if (!part.trim()) continue;
    const [first, last] = part.split('-').map((n) => Number.parseInt(n, 10));
    if (first === undefined || Number.isNaN(first)) continue;
    count += last === undefined || Number.isNaN(last) ? 1 : last - first + 1;
  }
  return count;
}

/** The figures the status shows from manifest.json. */
export interface ManifestSummary {
  train: number;
  val: number;
  skipped: number;
  shards?: string[];
}

const count = z.int().min(0);
// The manifest `caffe imagenet finalize` writes (trainer/data/finalize.ts, format brewery.imagenet/v1);
// only the parts the status shows are read, and anything else in it is left alone.
const Manifest = z
  .object({
    format: z.literal('brewery.imagenet/v1'),
    splits: z.record(z.string(), z.object({ records: count }).loose()),
    shards: z.array(z.object({ file: z.string() }).loose()),
    skipped: z.array(z.unknown()),
  })
  .loose();

/** The summary of manifest.json's text read from `uri`, or a sentence saying what was wrong with it. */
export function summariseManifest(text: string, uri: string, outputPrefix: string): ManifestSummary | string {
  let manifest: z.output<typeof Manifest>;
  try {
    manifest = parseRecord(uri, text, Manifest);
  } catch (error) {
    return `manifest.json is not the brewery.imagenet/v1 manifest finalize writes: ${(error as Error).message}`;
  }
  const { splits, shards, skipped } = manifest;
  return {
    train: splits.train?.records ?? 0,
    val: splits.val?.records ?? 0,
    skipped: skipped.length,
    shards: shards.map((s) => `${outputPrefix}/${s.file.replace(/^\/+/, '')}`),
  };
}
