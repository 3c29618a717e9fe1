// Snapshot files of `caffe train`: the .caffemodel and .solverstate Caffe writes, then a progress record
// `<prefix>_iter_N.progress.json` written last, which marks the snapshot complete and holds what an exact
// resume needs that Caffe's files lack (data loader positions, random streams, the smoothed-loss window).
// Also: deleting all but the newest K. Finding the newest complete one is the contract's
// (trainer/contract/snapshots.ts), since the operator does it too.
import { createHash } from 'node:crypto';

import { BadInputError } from '../contract/errors.js';
import { parseRecord } from '../contract/records.js';
import {
  listSnapshotGroups,
  PROGRESS_VERSION,
  progressRecordSchema,
  SNAPSHOT_KINDS,
  snapshotFile,
} from '../contract/snapshots.js';
import { encodeSolverState } from '../proto/index.js';
import type { LossWindowState, OutputValue, SnapshotWriter, SolverStateRecord } from '../solver/index.js';
import { toSolverStateMessage } from '../solver/state.js';
import { storageFor } from '../storage/index.js';
import type { NetsPosition } from './nets.js';

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
  // Checked field by field before any of it is used: a damaged record is bad input naming the field.
  const parsed = parseRecord(file, (await storage.read(file)).toString('utf8'), progressRecordSchema);
  const record = parsed as unknown as ProgressRecord;
  const actual = sha256(stateBytes);
  if (record.solverState?.sha256 !== actual) {
    throw new BadInputError(
      `expected the sha256 of ${stateFile} to be ${record.solverState?.sha256}, received ${actual}`,
      file,
    );
  }
  return record;
}

/** `<prefix>_iter_N.solverstate` (or .caffemodel, .progress.json, .h5) → `<prefix>`; undefined otherwise. */
export function snapshotPrefixOf(uri: string): string | undefined {
  return /^(.*)_iter_\d+\.(?:progress\.json|solverstate(?:\.h5)?|caffemodel(?:\.h5)?)$/.exec(uri)?.[1];
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
  const storage = storageFor(prefix);
  const groups = await listSnapshotGroups(prefix, storage);
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
      await storage.delete(file);
      deleted.push(file);
    }
  }
  return deleted;
}
