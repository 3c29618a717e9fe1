// Which live CaffeTrainingJob may write under a snapshotURI prefix. Two live jobs writing one prefix
// overwrite each other's snapshots and resume from each other's state; so a job starts a trainer pod
// only while no other live job, in any namespace, holds an overlapping prefix ahead of it. Pure.

/** A training job as the claim sees it: who it is, where it writes, and how far it has got. */
export interface PrefixClaimant {
  namespace: string;
  name: string;
  /** metadata.creationTimestamp (RFC 3339, to the second). */
  createdAt: string;
  /** The job's snapshot prefix, as snapshotPrefixOf gives it. */
  prefix: string;
  /** Succeeded or Failed: a finished job holds no claim, and a new job on its prefix resumes from it. */
  finished: boolean;
  /** The job has made a trainer pod (status.pod or status.startTime): it already writes there. */
  started: boolean;
}

export type PrefixClaimVerdict =
  | { held: true }
  | { held: false; holder: { namespace: string; name: string; prefix: string } };

/**
 * Whether `job` may write under its prefix: it may unless another live (not finished) job whose prefix
 * overlaps comes before it. Jobs that have started come before jobs that have not (a pod already
 * writing is never overtaken), then the older by creationTimestamp, then namespace/name, so every
 * reconcile of every job reaches the same order. The verdict names the first job ahead of it.
 */
export function prefixClaim(job: PrefixClaimant, jobs: readonly PrefixClaimant[]): PrefixClaimVerdict {
  const ahead = jobs
    .filter((other) => !sameJob(other, job) && !other.finished && prefixesOverlap(other.prefix, job.prefix))
    .filter((other) => comesBefore(other, job))
    .sort((a, b) => (comesBefore(a, b) ? -1 : 1));
  const first = ahead[0];
  if (!first) return { held: true };
  return { held: false, holder: { namespace: first.namespace, name: first.name, prefix: first.prefix } };
}

/**
 * Two prefixes overlap when one is the start of the other, as strings: an object-store listing of
 * the shorter one returns the longer one's files (`s3://b/jobs/a` lists `s3://b/jobs/a2_iter_10.*`),
 * and a prefix is not a folder. Trailing slashes are ignored, as snapshotPrefixOf drops them.
 */
export function prefixesOverlap(a: string, b: string): boolean {
  const x = a.replace(/\/+$/, '');
  const y = b.replace(/\/+$/, '');
  return x.startsWith(y) || y.startsWith(x);
}

function sameJob(a: PrefixClaimant, b: PrefixClaimant): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}

function comesBefore(a: PrefixClaimant, b: PrefixClaimant): boolean {
  if (a.started !== b.started) return a.started;
  const created = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  if (created !== 0 && Number.isFinite(created)) return created < 0;
  return `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}`;
}
