// Snapshot files of `caffe train`: the .caffemodel and .solverstate Caffe writes, then a progress record
// `<prefix>_iter_N.progress.json` written last, which marks the snapshot complete and holds what an exact
// resume needs that Caffe's files lack (data loader positions, random streams, the smoothed-loss window).
// Also: finding the newest complete snapshot under a prefix, and deleting all but the newest K.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';

import { z } from 'zod';

import { BadInputError } from '../errors.js';
import { oneLine } from '../one-line.js';
import { encodeSolverState } from '../proto/index.js';
import type { LossWindowState, OutputValue, SnapshotWriter, SolverStateRecord } from '../solver/index.js';
// From its own file, not the solver room's index: the operator imports this module and must not load tfjs.
import { toSolverStateMessage } from '../solver/state.js';
import { isS3Uri, localPath, storageFor } from '../storage/index.js';
import type { NetsPosition } from './nets.js';

export const PROGRESS_VERSION = 1;

/** The snapshot files `caffe train` writes for one iteration, in the order a deletion takes them. */
const SNAPSHOT_KINDS = ['progress.json', 'solverstate', 'caffemodel'] as const;
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number];

export interface SnapshotFile {
  file: string;
  sha256: string;
  bytes: number;
}

export interface ProgressRecord {
  version: number;
  iteration: number;
  model: SnapshotFile;
  solverState: SnapshotFile;
  lastLoss?: number;
  /** The last test pass of each test net: its outputs (and loss when test_compute_loss). */
  tests: { netIndex: number; iteration: number; loss?: number; outputs: OutputValue[] }[];
  position: NetsPosition;
  lossWindow?: LossWindowState;
}

/** `<prefix>_iter_N.solverstate` → `<prefix>_iter_N.progress.json`. */
export function progressFileFor(stateFile: string): string {
  return `${stateFile.replace(/\.solverstate(\.h5)?$/, '')}.progress.json`;
}

export interface SnapshotSources {
  encodeModel(): Promise<Uint8Array>;
  position(): NetsPosition;
  lastLoss(): number | undefined;
  tests(): ProgressRecord['tests'];
  /** Told once each snapshot is complete (awaited before the solver goes on). */
  onComplete?(event: { record: ProgressRecord; progressFile: string; seconds: number }): void | Promise<void>;
  /** Milliseconds, for the snapshot's duration; performance.now by default. */
  clock?: { now(): number };
}

/** Writes each file atomically through storageFor; the progress record only after both others. */
export class ProgressSnapshotWriter implements SnapshotWriter {
  private model: SnapshotFile | undefined;
  private startedAt = 0;

  constructor(private readonly sources: SnapshotSources) {}

  async writeModel(file: string): Promise<void> {
    this.startedAt = this.now();
    this.model = await writeFile(file, await this.sources.encodeModel());
  }

  async writeSolverState(file: string, state: SolverStateRecord): Promise<void> {
    const model = this.model;
    if (!model) throw new Error('the solver state was written before its model');
    const solverState = await writeFile(file, encodeSolverState(toSolverStateMessage(state)));
    const lastLoss = this.sources.lastLoss();
    const record: ProgressRecord = {
      version: PROGRESS_VERSION,
      iteration: state.iter,
      model,
      solverState,
      ...(lastLoss === undefined ? {} : { lastLoss }),
      tests: this.sources.tests(),
      position: this.sources.position(),
      ...(state.lossWindow ? { lossWindow: state.lossWindow } : {}),
    };
    const progressFile = progressFileFor(file);
    await storageFor(progressFile).write(progressFile, `${JSON.stringify(record, null, 2)}\n`);
    this.model = undefined;
    const seconds = (this.now() - this.startedAt) / 1000;
    await this.sources.onComplete?.({ record, progressFile, seconds });
  }

  private now(): number {
    return this.sources.clock ? this.sources.clock.now() : performance.now();
  }
}

async function writeFile(file: string, bytes: Uint8Array): Promise<SnapshotFile> {
  await storageFor(file).write(file, bytes);
  return { file, sha256: sha256(bytes), bytes: bytes.length };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The progress record beside a solverstate, or undefined when there is none (a snapshot from Caffe). A
 * record whose solverstate checksum does not match belongs to other files: that is bad input.
 */
export async function readProgress(
  stateFile: string,
  stateBytes: Uint8Array,
): Promise<ProgressRecord | undefined> {
  const file = progressFileFor(stateFile);
  const storage = storageFor(file);
  if (!(await storage.stat(file))) return undefined;
  let json: { version?: unknown };
  try {
    json = JSON.parse((await storage.read(file)).toString('utf8'));
  } catch (error) {
    throw new BadInputError(`expected JSON, ${oneLine((error as Error).message)}`, file);
  }
  if (json?.version !== PROGRESS_VERSION) {
    throw new BadInputError(oneLine(`expected version ${PROGRESS_VERSION}, received ${json?.version}`), file);
  }
  // Checked field by field before any of it is used: a damaged record is bad input naming the field.
  const parsed = progressRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BadInputError(oneLine(`${issue.path.join('.')}: ${issue.message}`), file);
  }
  const record = parsed.data as unknown as ProgressRecord;
  const actual = sha256(stateBytes);
  if (record.solverState?.sha256 !== actual) {
    throw new BadInputError(
      `expected the sha256 of ${stateFile} to be ${record.solverState?.sha256}, received ${actual}`,
      file,
    );
  }
  return record;
}

/** `<prefix>_iter_<N>.<kind>`, N in plain decimal as the solver writes it. */
export function snapshotFile(prefix: string, iteration: number, kind: SnapshotKind): string {
  return `${prefix}_iter_${iteration}.${kind}`;
}

/** `<prefix>_iter_N.solverstate` (or .caffemodel, .progress.json, .h5) → `<prefix>`; undefined otherwise. */
export function snapshotPrefixOf(uri: string): string | undefined {
  return /^(.*)_iter_\d+\.(?:progress\.json|solverstate(?:\.h5)?|caffemodel(?:\.h5)?)$/.exec(uri)?.[1];
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
  record: ProgressRecord;
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

/**
 * Which snapshots to delete so the newest `keep` complete ones remain, `current` (just completed) among
 * them: every snapshot, complete or not, older than the oldest one kept. Snapshots newer than `current`
 * (left by a run this one did not resume from) are not this run's to judge and stay.
 */
export function snapshotsToDelete(
  groups: readonly { iteration: number; complete: boolean }[],
  keep: number,
  current: number,
): number[] {
  const kept = groups
    .filter((g) => g.complete && g.iteration <= current)
    .map((g) => g.iteration)
    .sort((a, b) => b - a)
    .slice(0, keep);
  const oldestKept = kept[keep - 1];
  if (oldestKept === undefined) return [];
  return groups
    .map((g) => g.iteration)
    .filter((iteration) => iteration < oldestKept)
    .sort((a, b) => a - b);
}

/**
 * Deletes the snapshots snapshotsToDelete names, oldest first; of each, the progress record first, so a
 * half-deleted snapshot never looks complete. Returns the files deleted, in order.
 */
export async function pruneSnapshots(prefix: string, keep: number, current: number): Promise<string[]> {
  const groups = await listSnapshotGroups(prefix);
  const doomed = snapshotsToDelete(
    groups.map((g) => ({ iteration: g.iteration, complete: g.kinds.has('progress.json') })),
    keep,
    current,
  );
  const deleted: string[] = [];
  for (const iteration of doomed) {
    const kinds = groups.find((g) => g.iteration === iteration)?.kinds ?? new Set();
    for (const kind of SNAPSHOT_KINDS) {
      if (!kinds.has(kind)) continue;
      const file = snapshotFile(prefix, iteration, kind);
      await storageFor(file).delete(file);
      deleted.push(file);
    }
  }
  return deleted;
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
const progressRecordSchema = z.looseObject({
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
  const record = parsed.data as unknown as ProgressRecord;
  const caffemodel = snapshotFile(prefix, iteration, 'caffemodel');
  const solverstate = snapshotFile(prefix, iteration, 'solverstate');
  const [model, state] = await Promise.all([storage.stat(caffemodel), storage.stat(solverstate)]);
  if (model?.size !== record.model.bytes || state?.size !== record.solverState.bytes) return undefined;
  return { iteration, caffemodel, solverstate, record };
}
