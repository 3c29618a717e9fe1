// Snapshot files of `caffe train` as both sides read them: `<prefix>_iter_N.caffemodel` and
// `.solverstate`, then a progress record `<prefix>_iter_N.progress.json` written last, which marks the
// snapshot complete. The trainer writes them (trainer/train/snapshots.ts); the operator resumes a job from
// the newest complete one that findLatestSnapshot finds.
import { readdir } from 'node:fs/promises';

import { z } from 'zod';

// The one room of the trainer the contract reads through, as the operator does until object-store reads
// move to their own module (issue #21); .dependency-cruiser.cjs names the exception.
import { isS3Uri, localPath, storageFor } from '../storage/index.js';

export const PROGRESS_VERSION = 1;

/** The snapshot files `caffe train` writes for one iteration, in the order a deletion takes them. */
export const SNAPSHOT_KINDS = ['progress.json', 'solverstate', 'caffemodel'] as const;
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number];

const count = z.number().int().nonnegative();
const snapshotFileSchema = z.object({ file: z.string(), sha256: z.string(), bytes: count });
/** What of a progress record both sides rely on; the trainer's record holds more (its resume state). */
export const progressRecordSchema = z.looseObject({
  version: z.literal(PROGRESS_VERSION),
  iteration: count,
  model: snapshotFileSchema,
  solverState: snapshotFileSchema,
  tests: z.array(z.looseObject({ netIndex: count, iteration: count, outputs: z.array(z.unknown()) })),
  position: z.looseObject({ rngs: z.array(z.unknown()), loaders: z.record(z.string(), z.unknown()) }),
});
export type ProgressRecordFields = z.infer<typeof progressRecordSchema>;

/** `<prefix>_iter_<N>.<kind>`, N in plain decimal as the solver writes it. */
export function snapshotFile(prefix: string, iteration: number, kind: SnapshotKind): string {
  return `${prefix}_iter_${iteration}.${kind}`;
}

/** One iteration's snapshot files found beside a prefix. */
export interface SnapshotGroup {
  iteration: number;
  kinds: Set<SnapshotKind>;
}

export interface LatestSnapshot {
  iteration: number;
  caffemodel: string;
  solverstate: string;
  record: ProgressRecordFields;
}

/**
 * The newest complete snapshot under `prefix` (local path or s3:// URI): the highest iteration whose
 * progress record parses and whose .solverstate and .caffemodel exist with the sizes it records. Other
 * files beside the prefix are ignored. Undefined when there is none.
 */
export async function findLatestSnapshot(prefix: string): Promise<LatestSnapshot | undefined> {
  for (const group of await listSnapshotGroups(prefix)) {
    if (!group.kinds.has('progress.json')) continue;
    const found = await completeSnapshot(prefix, group.iteration);
    if (found) return found;
  }
  return undefined;
}

/** The snapshot files directly beside `prefix`, grouped by iteration, newest first. */
export async function listSnapshotGroups(prefix: string): Promise<SnapshotGroup[]> {
  const slash = prefix.lastIndexOf('/');
  const folder = slash < 0 ? '.' : slash === 0 ? '/' : prefix.slice(0, slash);
  const stem = `${prefix.slice(slash + 1)}_iter_`;
  const groups = new Map<number, SnapshotGroup>();
  for (const name of await listFolder(folder)) {
    if (!name.startsWith(stem)) continue;
    const match = /^(0|[1-9]\d*)\.(progress\.json|solverstate|caffemodel)$/.exec(name.slice(stem.length));
    if (!match) continue;
    const iteration = Number(match[1]);
    const group = groups.get(iteration) ?? { iteration, kinds: new Set<SnapshotKind>() };
    group.kinds.add(match[2] as SnapshotKind);
    groups.set(iteration, group);
  }
  return [...groups.values()].sort((a, b) => b.iteration - a.iteration);
}

/** Names of the objects directly in a folder (not below it); an absent folder has none. */
async function listFolder(folder: string): Promise<string[]> {
  if (isS3Uri(folder)) {
    const base = folder.endsWith('/') ? folder : `${folder}/`;
    return (await storageFor(folder).list(folder))
      .map((object) => object.uri.slice(base.length))
      .filter((name) => name.length > 0 && !name.includes('/'));
  }
  // Not LocalStorage.list: it walks every subfolder, and a prefix may sit in a big working directory.
  try {
    const entries = await readdir(localPath(folder), { withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The snapshot of `iteration` if its record parses and its files have the recorded sizes. */
async function completeSnapshot(prefix: string, iteration: number): Promise<LatestSnapshot | undefined> {
  const progressFile = snapshotFile(prefix, iteration, 'progress.json');
  const storage = storageFor(progressFile);
  let text: string;
  try {
    text = (await storage.read(progressFile)).toString('utf8');
  } catch (error) {
    // Deleted since the listing (a trainer pruning it): not complete. Any other failure is real.
    if (!(await storage.stat(progressFile))) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = progressRecordSchema.safeParse(json);
  if (!parsed.success || parsed.data.iteration !== iteration) return undefined;
  const record = parsed.data;
  const caffemodel = snapshotFile(prefix, iteration, 'caffemodel');
  const solverstate = snapshotFile(prefix, iteration, 'solverstate');
  const [model, state] = await Promise.all([storage.stat(caffemodel), storage.stat(solverstate)]);
  if (model?.size !== record.model.bytes || state?.size !== record.solverState.bytes) return undefined;
  return { iteration, caffemodel, solverstate, record };
}
