// Finding the newest complete snapshot under a prefix, and keeping only the newest K, on local files.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { findLatestSnapshot, PROGRESS_VERSION } from '../../../trainer/contract/snapshots.js';
import { storageFor } from '../../../trainer/storage/index.js';
import {
  type ProgressRecord,
  pruneSnapshots,
  sha256,
  snapshotPrefixOf,
  snapshotsToDelete,
} from '../../../trainer/train/snapshots.js';

const latestSnapshot = (prefix: string) => findLatestSnapshot(prefix, storageFor(prefix));

let root = '';
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'snapshot-files-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes a snapshot as `caffe train` does: model, state, then the record naming their sizes. */
async function writeSnapshot(prefix: string, iteration: number, parts: { record?: boolean } = {}) {
  const model = Buffer.from(`model of ${iteration}`.repeat(iteration + 1));
  const state = Buffer.from(`state ${iteration}`);
  await mkdir(path.dirname(`${prefix}x`), { recursive: true });
  await writeFile(`${prefix}_iter_${iteration}.caffemodel`, model);
  await writeFile(`${prefix}_iter_${iteration}.solverstate`, state);
  if (parts.record === false) return;
  const record: ProgressRecord = {
    version: PROGRESS_VERSION,
    iteration,
    model: { file: `${prefix}_iter_${iteration}.caffemodel`, sha256: sha256(model), bytes: model.length },
    solverState: {
      file: `${prefix}_iter_${iteration}.solverstate`,
      sha256: sha256(state),
      bytes: state.length,
    },
    lastLoss: 1.5,
    tests: [],
    position: { rngs: [], loaders: {} },
  };
  await writeFile(`${prefix}_iter_${iteration}.progress.json`, JSON.stringify(record));
}

async function files(folder: string): Promise<string[]> {
  return (await readdir(folder)).sort();
}

describe('findLatestSnapshot', () => {
  it('returns the highest complete iteration and skips every incomplete one above it', async () => {
    const folder = path.join(root, 'find');
    const prefix = path.join(folder, 'net');
    await writeSnapshot(prefix, 2);
    await writeSnapshot(prefix, 4);
    // 6: files without a progress record (a crash before it was written).
    await writeSnapshot(prefix, 6, { record: false });
    // 8: a record whose .caffemodel is gone.
    await writeSnapshot(prefix, 8);
    await rm(`${prefix}_iter_8.caffemodel`);
    // 10: a record whose .solverstate is shorter than recorded (a truncated copy).
    await writeSnapshot(prefix, 10);
    await writeFile(`${prefix}_iter_10.solverstate`, 'short');
    // 12: a record that is not JSON; 14: a record for another iteration.
    await writeSnapshot(prefix, 12);
    await writeFile(`${prefix}_iter_12.progress.json`, '{"version": 1, "iter');
    await writeSnapshot(prefix, 14);
    await writeFile(`${prefix}_iter_14.progress.json`, JSON.stringify({ version: 1, iteration: 4 }));
    // Not this prefix's snapshots, or not a name the solver writes.
    await writeSnapshot(path.join(folder, 'other'), 20);
    await writeSnapshot(path.join(folder, 'net-b'), 22);
    await writeSnapshot(path.join(folder, 'sub', 'net'), 24);
    await writeFile(`${prefix}_iter_026.progress.json`, '{}');
    await writeFile(`${prefix}_iter_28.progress.json.bak`, '{}');

    const found = await latestSnapshot(prefix);
    assert.ok(found);
    assert.equal(found.iteration, 4);
    assert.equal(found.caffemodel, `${prefix}_iter_4.caffemodel`);
    assert.equal(found.solverstate, `${prefix}_iter_4.solverstate`);
    assert.equal(found.record.iteration, 4);
    assert.equal(found.record.lastLoss, 1.5);
  });

  it('is undefined for a folder without complete snapshots, or no folder', async () => {
    const prefix = path.join(root, 'none', 'net');
    await writeSnapshot(prefix, 2, { record: false });
    assert.equal(await latestSnapshot(prefix), undefined);
    assert.equal(await latestSnapshot(path.join(root, 'absent', 'net')), undefined);
  });

  it('works with a prefix relative to the working directory and one that ends in a slash', async () => {
    const folder = path.join(root, 'rel');
    await writeSnapshot(path.join(folder, 'snaps/'), 3);
    const cwd = process.cwd();
    process.chdir(folder);
    try {
      assert.equal((await latestSnapshot('snaps/'))?.solverstate, 'snaps/_iter_3.solverstate');
      await writeSnapshot(path.join(folder, 'top'), 5);
      assert.equal((await latestSnapshot('top'))?.caffemodel, 'top_iter_5.caffemodel');
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('snapshotsToDelete', () => {
  const complete = (...iterations: number[]) =>
    iterations.map((iteration) => ({ iteration, complete: true }));
  const cases: {
    name: string;
    groups: { iteration: number; complete: boolean }[];
    keep: number;
    current: number;
    expected: number[];
  }[] = [
    {
      name: 'keeping 2 of 4 deletes the two oldest',
      groups: complete(2, 4, 6, 8),
      keep: 2,
      current: 8,
      expected: [2, 4],
    },
    {
      name: 'keeping 1 deletes everything older',
      groups: complete(2, 4, 6),
      keep: 1,
      current: 6,
      expected: [2, 4],
    },
    {
      name: 'fewer than K complete snapshots delete nothing',
      groups: complete(2, 4),
      keep: 3,
      current: 4,
      expected: [],
    },
    {
      name: 'an incomplete snapshot does not count towards K, and goes when older than the oldest kept',
      groups: [...complete(2, 6, 8), { iteration: 4, complete: false }, { iteration: 7, complete: false }],
      keep: 2,
      current: 8,
      expected: [2, 4],
    },
    {
      name: 'snapshots newer than the current one (an earlier run) are neither kept nor deleted',
      groups: complete(2, 4, 10, 12),
      keep: 1,
      current: 4,
      expected: [2],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(snapshotsToDelete(c.groups, c.keep, c.current), c.expected);
    });
  }
});

describe('pruneSnapshots', () => {
  it('deletes each old snapshot progress record first, then .solverstate and .caffemodel', async () => {
    const folder = path.join(root, 'prune');
    const prefix = path.join(folder, 'net');
    for (const iteration of [2, 4, 6, 8]) await writeSnapshot(prefix, iteration);
    await writeSnapshot(prefix, 1, { record: false });
    await writeFile(path.join(folder, 'notes.txt'), 'keep me');
    await writeSnapshot(path.join(folder, 'other'), 2);

    const deleted = await pruneSnapshots(prefix, 2, 8);
    const name = (i: number, ext: string) => `${prefix}_iter_${i}.${ext}`;
    assert.deepEqual(deleted, [
      name(1, 'solverstate'),
      name(1, 'caffemodel'),
      name(2, 'progress.json'),
      name(2, 'solverstate'),
      name(2, 'caffemodel'),
      name(4, 'progress.json'),
      name(4, 'solverstate'),
      name(4, 'caffemodel'),
    ]);
    assert.deepEqual(await files(folder), [
      'net_iter_6.caffemodel',
      'net_iter_6.progress.json',
      'net_iter_6.solverstate',
      'net_iter_8.caffemodel',
      'net_iter_8.progress.json',
      'net_iter_8.solverstate',
      'notes.txt',
      'other_iter_2.caffemodel',
      'other_iter_2.progress.json',
      'other_iter_2.solverstate',
    ]);
    assert.equal((await latestSnapshot(prefix))?.iteration, 8);
  });
});

describe('snapshotPrefixOf', () => {
  it('strips _iter_N and the snapshot extension, and refuses other names', () => {
    assert.equal(snapshotPrefixOf('s3://b/jobs/a/caffenet_iter_400.solverstate'), 's3://b/jobs/a/caffenet');
    assert.equal(snapshotPrefixOf('x/net_iter_2.progress.json'), 'x/net');
    assert.equal(snapshotPrefixOf('x/net_iter_2.caffemodel.h5'), 'x/net');
    assert.equal(snapshotPrefixOf('x/net_iter_2.json'), undefined);
    assert.equal(snapshotPrefixOf('x/net.solverstate'), undefined);
  });
});
