// `caffe train` against the object server: snapshots under an s3:// prefix, the status file in the bucket,
// old snapshots deleted with --keep-snapshots, and `--snapshot=latest` finding (findLatestSnapshot, with
// the trainer's own credentials) what a replacement pod resumes from, which it then does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseLiveStatus } from '../../../trainer/contract/live-status.js';
import { findLatestSnapshot } from '../../../trainer/contract/snapshots.js';
import { storageFor } from '../../../trainer/storage/index.js';
import { type ObjectStore, objectStore, objectStoreMissing } from '../../support/object-store.js';
import { CAFFE_MAIN, TINY_NET } from '../../support/tiny-net.js';

function solver(maxIter: number, prefix: string): string {
  return `net: "net.prototxt"
test_iter: 1
test_interval: 3
base_lr: 0.1
lr_policy: "fixed"
display: 1
max_iter: ${maxIter}
snapshot: 2
snapshot_prefix: "${prefix}"
random_seed: 5
`;
}

const skip = objectStoreMissing() ?? false;
let store: ObjectStore;
let dir = '';
let bucket = '';
const savedEnv = { ...process.env };

before(async () => {
  if (skip) return;
  store = await objectStore();
  Object.assign(process.env, store.env); // storageFor in this process reaches the same server
  bucket = await store.bucket('trainer-status');
  dir = await mkdtemp(path.join(tmpdir(), 'train-s3-'));
  await writeFile(path.join(dir, 'net.prototxt'), TINY_NET);
});
after(async () => {
  process.env = savedEnv;
  if (dir) await rm(dir, { recursive: true, force: true });
  await store?.stop();
});

function train(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CAFFE_MAIN, 'train', '--backend=cpu', ...args],
      { cwd: dir, timeout: 120_000, env: { ...process.env, ...store.env } },
      (error, _stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr });
      },
    );
  });
}

async function readStatus(uri: string) {
  return parseLiveStatus(JSON.parse((await storageFor(uri).read(uri)).toString('utf8')), uri);
}

async function names(prefix: string): Promise<string[]> {
  const folder = prefix.slice(0, prefix.lastIndexOf('/'));
  return (await storageFor(folder).list(folder)).map((o) => o.uri.slice(folder.length + 1));
}

test('status file, kept snapshots and the latest complete snapshot in s3://', { skip }, async () => {
  const prefix = `${bucket}/job-a/snapshots/tiny`;
  const statusUri = `${bucket}/job-a/status.json`;
  await writeFile(path.join(dir, 'solver6.prototxt'), solver(6, prefix));
  const first = await train([
    '--solver=solver6.prototxt',
    `--status-file=${statusUri}`,
    '--keep-snapshots=2',
  ]);
  assert.equal(first.code, 0, first.stderr);

  const status = await readStatus(statusUri);
  assert.equal(status.state, 'succeeded');
  assert.equal(status.iteration, 6);
  assert.equal(status.maxIter, 6);
  assert.deepEqual(status.latestSnapshot, {
    iteration: 6,
    caffemodel: `${prefix}_iter_6.caffemodel`,
    solverstate: `${prefix}_iter_6.solverstate`,
  });
  assert.equal(status.tests[0]?.iteration, 6, 'the test pass after the last iteration');
  assert.deepEqual(
    await names(prefix),
    [4, 6].flatMap((i) => ['caffemodel', 'progress.json', 'solverstate'].map((k) => `tiny_iter_${i}.${k}`)),
    'snapshot 2 was deleted once 6 was complete',
  );

  // A crash half-way through snapshot 8 leaves a solverstate without its record; a record whose model
  // is gone (10) is not complete either.
  await storageFor(prefix).write(`${prefix}_iter_8.solverstate`, 'partial');
  await storageFor(prefix).write(
    `${prefix}_iter_10.progress.json`,
    (await storageFor(prefix).read(`${prefix}_iter_6.progress.json`))
      .toString()
      .replace('"iteration": 6', '"iteration": 10'),
  );
  const latest = await findLatestSnapshot(prefix, storageFor(prefix));
  assert.equal(latest?.iteration, 6);
  assert.equal(latest?.solverstate, `${prefix}_iter_6.solverstate`);
  assert.equal(
    latest?.record.model.bytes,
    (await storageFor(prefix).stat(`${prefix}_iter_6.caffemodel`))?.size,
  );

  // The replacement pod, started with --snapshot=latest as the operator starts every pod, finds it itself,
  // resumes from it and finishes; its status names the new snapshot.
  await writeFile(path.join(dir, 'solver9.prototxt'), solver(9, prefix));
  const resumed = await train([
    '--solver=solver9.prototxt',
    '--snapshot=latest',
    `--status-file=${statusUri}`,
    '--keep-snapshots=1',
  ]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stderr,
    /\] Latest complete snapshot under s3:\/\/trainer-status\/job-a\/snapshots\/tiny: iteration 6\n/,
  );
  assert.match(
    resumed.stderr,
    /Resuming from s3:\/\/trainer-status\/job-a\/snapshots\/tiny_iter_6\.solverstate/,
  );
  const after9 = await readStatus(statusUri);
  assert.equal(after9.state, 'succeeded');
  assert.equal(after9.iteration, 9);
  assert.equal(after9.latestSnapshot?.iteration, 9);
  assert.deepEqual(
    await names(prefix),
    [
      'tiny_iter_10.progress.json',
      ...['caffemodel', 'progress.json', 'solverstate'].map((k) => `tiny_iter_9.${k}`),
    ],
    'keep 1: everything older than 9 went; 10, newer than this run, is not its to delete',
  );
  assert.equal((await findLatestSnapshot(prefix, storageFor(prefix)))?.iteration, 9);
});

test('--snapshot=latest on a prefix with no complete snapshot starts fresh, saying so once', {
  skip,
}, async () => {
  const prefix = `${bucket}/job-b/snapshots/tiny`;
  // A half-written snapshot is not one to resume from.
  await storageFor(prefix).write(`${prefix}_iter_2.solverstate`, 'partial');
  await writeFile(path.join(dir, 'solver2.prototxt'), solver(2, prefix));
  const fresh = await train(['--solver=solver2.prototxt', '--snapshot=latest']);
  assert.equal(fresh.code, 0, fresh.stderr);
  const lines = fresh.stderr.split('\n').filter((l) => l.includes('complete snapshot under'));
  assert.deepEqual(
    lines.map((l) => l.replace(/^.*\] /, '')),
    [`No complete snapshot under ${prefix}: starting fresh`],
  );
  assert.doesNotMatch(fresh.stderr, /Resuming from/);
  assert.equal((await findLatestSnapshot(prefix, storageFor(prefix)))?.iteration, 2);
});
