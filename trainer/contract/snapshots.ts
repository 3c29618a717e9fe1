// Snapshot files of `caffe train` as both sides read them: `<prefix>_iter_N.caffemodel` and
// `.solverstate`, then a progress record `<prefix>_iter_N.progress.json` written last, which marks the
// snapshot complete. The trainer writes them (trainer/train/snapshots.ts); the operator resumes a job from
// the newest complete one that findLatestSnapshot finds, reading through the storage it is given.
import { z } from 'zod';

export const PROGRESS_VERSION = 1;

/** The snapshot files `caffe train` writes for one iteration, in the order a deletion takes them. */
export const SNAPSHOT_KINDS = ['progress.json', 'solverstate', 'caffemodel'] as const;
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number];

const count = z.number().int().nonnegative();
const uint32 = z.number().int().min(0).max(0xffffffff);
const rngStateSchema = z.looseObject({
  words: z.tuple([uint32, uint32, uint32, uint32]),
  spareGaussian: z.number().nullable(),
});
const loaderPositionSchema = z.looseObject({
  epoch: count,
  epochSeed: uint32.nullable(),
  part: count,
  partSeed: uint32.nullable(),
  record: count,
  rng: rngStateSchema,
  batches: count,
});
const snapshotFileSchema = z.object({ file: z.string(), sha256: z.string(), bytes: count });
/** What of a progress record both sides rely on; the trainer's record holds more (its resume state). */
export const progressRecordSchema = z.looseObject({
  version: z.literal(PROGRESS_VERSION),
  iteration: count,
  model: snapshotFileSchema,
  solverState: snapshotFileSchema,
  tests: z.array(z.looseObject({ netIndex: count, iteration: count, outputs: z.array(z.unknown()) })),
  position: z.looseObject({
    rngs: z.array(rngStateSchema),
    loaders: z.record(z.string(), loaderPositionSchema),
  }),
});
export type ProgressRecordFields = z.infer<typeof progressRecordSchema>;

/** `<prefix>_iter_<N>.<kind>`, N in plain decimal as the solver writes it. */
export function snapshotFile(prefix: string, iteration: number, kind: SnapshotKind): string {
  return `${prefix}_iter_${iteration}.${kind}`;
}

/** What the snapshot files are read through: trainer/storage's Storage for the prefix, for one. */
export interface SnapshotStore {
  /** Names of the objects directly in the folder (not below it); an absent folder has none. */
  names(folder: string): Promise<string[]>;
  read(uri: string): Promise<Uint8Array>;
  /** The object's size, or undefined when there is no such object. */
  stat(uri: string): Promise<{ size: number } | undefined>;
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
export async function findLatestSnapshot(
  prefix: string,
  store: SnapshotStore,
): Promise<LatestSnapshot | undefined> {
  for (const group of await listSnapshotGroups(prefix, store)) {
    if (!group.kinds.has('progress.json')) continue;
    const found = await completeSnapshot(prefix, group.iteration, store);
    if (found) return found;
  }
  return undefined;
}

/** The snapshot files directly beside `prefix`, grouped by iteration, newest first. */
export async function listSnapshotGroups(prefix: string, store: SnapshotStore): Promise<SnapshotGroup[]> {
  const slash = prefix.lastIndexOf('/');
  const folder = slash < 0 ? '.' : slash === 0 ? '/' : prefix.slice(0, slash);
  const stem = `${prefix.slice(slash + 1)}_iter_`;
  const groups = new Map<number, SnapshotGroup>();
  for (const name of await store.names(folder)) {
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

/** The snapshot of `iteration` if its record parses and its files have the recorded sizes. */
async function completeSnapshot(
  prefix: string,
  iteration: number,
  storage: SnapshotStore,
): Promise<LatestSnapshot | undefined> {
  const progressFile = snapshotFile(prefix, iteration, 'progress.json');
  let text: string;
  try {
    text = new TextDecoder().decode(await storage.read(progressFile));
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
