// HDF5 snapshots and weights are refused before anything runs: exit 65 and one line naming the file or
// field (trainer/README.md, "HDF5"), never protobuf bytes written into an `.h5` file or an `.h5` misread.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { SNAPSHOT_FORMAT, solverSettings } from '../../../trainer/solver/index.js';
import { CAFFE_MAIN as CAFFE, TINY_NET } from '../../support/tiny-net.js';

const dir = mkdtempSync(join(tmpdir(), 'brewery-hdf5-'));
const at = (name: string) => join(dir, name);
function write(name: string, text: string): string {
  writeFileSync(at(name), text);
  return at(name);
}
const net = write('tiny.prototxt', TINY_NET);
const solverText = (extra: string) =>
  `net: "${net}"\nbase_lr: 0.01\nmax_iter: 2\nlr_policy: "fixed"\nsnapshot_prefix: "${at('snap')}"\n${extra}`;
const hdf5Solver = write('hdf5-solver.prototxt', solverText('snapshot_format: HDF5\n'));
const solver = write('solver.prototxt', solverText(''));
// An HDF5 file's signature, so the file exists and is not protobuf.
const h5 = (name: string) => write(name, '\x89HDF\r\n\x1a\n');

const cases = [
  {
    name: 'caffe train, snapshot_format: HDF5',
    argv: ['train', '-solver', hdf5Solver],
    names: `${hdf5Solver}: snapshot_format`,
  },
  {
    name: 'caffe train, --weights W.caffemodel.h5',
    argv: ['train', '-solver', solver, '-weights', h5('w.caffemodel.h5')],
    names: at('w.caffemodel.h5'),
  },
  {
    name: 'caffe train, --snapshot S.solverstate.h5',
    argv: ['train', '-solver', solver, '-snapshot', h5('s.solverstate.h5')],
    names: at('s.solverstate.h5'),
  },
  {
    name: 'caffe test, --weights W.caffemodel.h5',
    argv: ['test', '-model', net, '-weights', at('w.caffemodel.h5'), '-iterations', '1'],
    names: at('w.caffemodel.h5'),
  },
];

describe('HDF5 is refused before training starts', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('solverSettings refuses snapshot_format: HDF5 and takes BINARYPROTO', () => {
    const base = { baseLr: 0.01, lrPolicy: 'fixed', maxIter: 1 };
    assert.throws(
      () => solverSettings({ ...base, snapshotFormat: SNAPSHOT_FORMAT.HDF5 }),
      /snapshot_format: HDF5 snapshots are not supported/,
    );
    assert.equal(
      solverSettings({ ...base, snapshotFormat: SNAPSHOT_FORMAT.BINARYPROTO }).snapshotFormat,
      SNAPSHOT_FORMAT.BINARYPROTO,
    );
  });

  for (const { name, argv, names } of cases) {
    it(name, () => {
      const run = spawnSync(process.execPath, [CAFFE, ...argv, '--backend=cpu'], { encoding: 'utf8' });
      assert.equal(run.status, 65, run.stderr);
      assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
      const last = run.stderr.trimEnd().split('\n').at(-1)!;
      assert.ok(last.startsWith(`caffe: ${names}: `), `the last line names ${names}: ${last}`);
      assert.match(last, /HDF5/);
      assert.doesNotMatch(run.stderr, /\] Iteration \d+/, 'no training iteration ran');
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.startsWith('snap')),
        [],
        'no snapshot was written',
      );
    });
  }

  it('the same solver with the default format trains and snapshots (the cases above differ only in HDF5)', () => {
    const run = spawnSync(process.execPath, [CAFFE, 'train', '-solver', solver, '--backend=cpu'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(readdirSync(dir).some((f) => f.endsWith('.caffemodel')));
  });
});
