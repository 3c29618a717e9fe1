// What the dataset controller reads, reduced to plain values for the decision: a Job's progress and
// outcome.
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
