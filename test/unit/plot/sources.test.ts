import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import { readCurves } from '../../../trainer/plot/sources.js';
import type { ProgressRecord } from '../../../trainer/train/snapshots.js';

let dir = '';

/** A progress record as ProgressSnapshotWriter writes it, with made-up checksums. */
function progress(iteration: number, lastLoss: number, accuracy: number): ProgressRecord {
  const file = (ext: string) => ({ file: `snap/tiny_iter_${iteration}.${ext}`, sha256: 'ab', bytes: 1 });
  return {
    version: 1,
    iteration,
    model: file('caffemodel'),
    solverState: file('solverstate'),
    lastLoss,
    tests: [
      {
        netIndex: 0,
        iteration,
        outputs: [
          { name: 'accuracy', value: accuracy, lossWeight: 0 },
          { name: 'loss', value: lastLoss + 0.1, lossWeight: 1 },
        ],
      },
    ],
    position: {} as ProgressRecord['position'],
  };
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'plot-sources-'));
  await mkdir(path.join(dir, 'snap', 'older'), { recursive: true });
  for (const [iteration, loss, accuracy] of [
    [10, 1.5, 0.25],
    [20, 1, 0.5],
  ] as const) {
    const record = progress(iteration, loss, accuracy);
    await writeFile(path.join(dir, 'snap', `tiny_iter_${iteration}.progress.json`), JSON.stringify(record));
  }
  // Another job's records in a subfolder: found when listing the folder, not beside the prefix.
  await writeFile(
    path.join(dir, 'snap', 'older', 'tiny_iter_5.progress.json'),
    JSON.stringify(progress(5, 3, 0)),
  );
  await writeFile(path.join(dir, 'snap', 'tiny_iter_20.solverstate'), 'binary');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readCurves', () => {
  it('reads every progress record beside a snapshot prefix', async () => {
    const curves = await readCurves(path.join(dir, 'snap', 'tiny'));
    assert.deepEqual(curves.train, [
      { iteration: 10, loss: 1.5 },
      { iteration: 20, loss: 1 },
    ]);
    assert.deepEqual(
      curves.tests.map((t) => [t.iteration, t.outputs.map((o) => [o.name, o.value, o.lossWeight])]),
      [
        [
          10,
          [
            ['accuracy', 0.25, 0],
            ['loss', 1.6, 1],
          ],
        ],
        [
          20,
          [
            ['accuracy', 0.5, 0],
            ['loss', 1.1, 1],
          ],
        ],
      ],
    );
  });

  it('reads every progress record below a folder, at any depth', async () => {
    const curves = await readCurves(path.join(dir, 'snap'));
    assert.deepEqual(
      curves.train.map((p) => p.iteration),
      [5, 10, 20],
    );
  });

  it("reads the progress record of a snapshot's solverstate", async () => {
    const curves = await readCurves(path.join(dir, 'snap', 'tiny_iter_20.solverstate'));
    assert.deepEqual(curves.train, [{ iteration: 20, loss: 1 }]);
  });

  it('reads a status file as a single point', async () => {
    const file = path.join(dir, 'status.json');
    // The record `caffe train --status-file` writes (trainer/train/live-status.ts).
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        state: 'running',
        iteration: 300,
        maxIter: 1000,
        trainLoss: 0.42,
        lastLoss: 0.4,
        learningRate: 0.01,
        imagesPerSecond: 120,
        tests: [{ netIndex: 0, iteration: 250, outputs: [{ name: 'accuracy', value: 0.8 }] }],
        updatedAt: '2026-11-28T07:00:00Z',
      }),
    );
    const curves = await readCurves(file);
    assert.deepEqual(curves.train, [{ iteration: 300, loss: 0.42 }]);
    assert.deepEqual(curves.tests, [
      { netIndex: 0, iteration: 250, outputs: [{ name: 'accuracy', value: 0.8 }] },
    ]);
  });

  it("reads a diverged run's null losses as NaN", async () => {
    const file = path.join(dir, 'diverged.json');
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        iteration: 40,
        trainLoss: null,
        tests: [{ netIndex: 0, iteration: 40, loss: null, outputs: [{ name: 'loss', value: null }] }],
      }),
    );
    const curves = await readCurves(file);
    assert.ok(Number.isNaN(curves.train[0]?.loss));
    assert.ok(Number.isNaN(curves.tests[0]?.loss));
    assert.ok(Number.isNaN(curves.tests[0]?.outputs[0]?.value));
  });

  const rejects = async (input: string, pattern: RegExp) => {
    await assert.rejects(readCurves(input), (error: unknown) => {
      assert.ok(error instanceof BadInputError, String(error));
      assert.match(error.message, pattern);
      return true;
    });
  };

  it('says what it expected when there is nothing to read', async () => {
    await rejects(path.join(dir, 'nothing', 'here'), /nothing\/here: expected a training log/);
  });

  it('names the field of a status file that is wrong', async () => {
    const file = path.join(dir, 'bad-status.json');
    await writeFile(file, JSON.stringify({ version: 1, iteration: 'ten' }));
    await rejects(file, /bad-status\.json: expected a status file; iteration: /);
  });

  it('says when a file is neither JSON nor a training log', async () => {
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{"version": 1,');
    await rejects(broken, /broken\.json: expected JSON/);
    const text = path.join(dir, 'notes.txt');
    await writeFile(text, 'just some notes\n');
    await rejects(text, /notes\.txt: expected a Caffe training log/);
  });
});
