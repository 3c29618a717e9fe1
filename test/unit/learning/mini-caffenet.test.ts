// The trainer learns from a real dataset: a generated sample ImageNet goes through `caffe imagenet prep`
// (LMDB shards of Datum records) and `caffe imagenet finalize` (mean.binaryproto), then `caffe train`
// trains the MiniCaffeNet on the wasm backend with Data layers reading those shards (mean file, crop,
// mirror). All three are the built program, run as a user runs it; the assertions read Caffe's log lines.
// On 2 cores the whole file takes about a minute, most of it the 60 training iterations.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { generateSampleImagenet } from '../../../hack/sample-imagenet.js';
import type { Manifest } from '../../../trainer/data/finalize.js';
import {
  decodeSolverState,
  Phase,
  parseNetPrototxt,
  printNetPrototxt,
} from '../../../trainer/proto/index.js';
import { cliPath, readModel } from '../proto/support.js';
import { parseTrainLog, type TrainLog } from './caffe-log.js';

const run = promisify(execFile);

// Four classes (the generator gives each its own hue and shape), 40 training images each: 160 records,
// 5 batches of 32 per epoch. The val split has 10 per class plus the generator's odd-but-readable files.
const CLASSES = 4;
const SAMPLE = { classes: CLASSES, perClass: 40, valPerClass: 10, seed: 3, width: 80, height: 64 };
const MAX_ITER = 60;
const SNAPSHOT = 30;

// base_lr 0.002: MiniCaffeNet sees raw mean-subtracted pixels (as CaffeNet does, no scale) through xavier
// fillers, so its first losses are large; 0.01 overshoots on this tiny set within 60 iterations.
function solverText(net: string, prefix: string): string {
  return `net: "${net}"
test_iter: 1
test_interval: 20
base_lr: 0.002
lr_policy: "fixed"
momentum: 0.9
weight_decay: 0.0005
display: 10
average_loss: 10
max_iter: ${MAX_ITER}
snapshot: ${SNAPSHOT}
snapshot_prefix: "${prefix}"
random_seed: 1
`;
}

/** The model's train_val with its Data layers pointed at the dataset, one test batch = the whole val set. */
function renderNet(dataset: string, valRecords: number): string {
  const net = parseNetPrototxt(readModel('mini_caffenet/train_val.prototxt'), 'train_val.prototxt');
  const dataLayers = (net.layer ?? []).filter((l) => l.type === 'Data');
  assert.equal(dataLayers.length, 2, 'the model has a TRAIN and a TEST Data layer');
  for (const layer of dataLayers) {
    const test = layer.include?.[0]?.phase === Phase.TEST;
    layer.dataParam = {
      ...layer.dataParam,
      source: join(dataset, test ? 'val' : 'train'),
      ...(test ? { batchSize: valRecords } : {}),
    };
    layer.transformParam = { ...layer.transformParam, meanFile: join(dataset, 'mean.binaryproto') };
  }
  return printNetPrototxt(net);
}

async function caffe(args: string[], cwd: string): Promise<string> {
  try {
    const { stderr } = await run(process.execPath, [cliPath, ...args], { cwd, maxBuffer: 64 << 20 });
    return stderr;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    // The last lines that are not a stack trace say what went wrong.
    const lines = stderr.split('\n').filter((line) => line.trim() !== '' && !/^\s+at /.test(line));
    throw new Error(`caffe ${args.join(' ')} failed:\n${lines.slice(-8).join('\n')}`);
  }
}

describe('MiniCaffeNet trained from LMDB shards of a sample ImageNet', () => {
  let dir = '';
  let dataset = '';
  let manifest: Manifest;
  let log: TrainLog;
  const prefix = () => join(dir, 'snapshots', 'mini_caffenet');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'learning-'));
    const sample = await generateSampleImagenet({
      out: join(dir, 'sample'),
      ...SAMPLE,
      brokenPerKind: 0,
    });
    dataset = join(dir, 'dataset');
    await caffe(
      [
        'imagenet',
        'prep',
        `--train=${sample.train}`,
        `--val=${sample.val}`,
        `--val-labels=${sample.valLabels}`,
        `--words=${sample.words}`,
        `--out=${dataset}`,
        '--size=64', // MiniCaffeNet's input: 64x64, cropped to 56x56
        '--threads=2',
      ],
      dir,
    );
    await caffe(['imagenet', 'finalize', `--out=${dataset}`], dir);
    manifest = JSON.parse(await readFile(join(dataset, 'manifest.json'), 'utf8')) as Manifest;

    await mkdir(join(dir, 'snapshots'));
    await writeFile(join(dir, 'train_val.prototxt'), renderNet(dataset, manifest.splits.val!.records));
    await writeFile(join(dir, 'solver.prototxt'), solverText('train_val.prototxt', prefix()));
    log = parseTrainLog(await caffe(['train', '--solver=solver.prototxt', '--backend=wasm'], dir));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads a dataset of every class, with its mean', async () => {
    assert.equal(manifest.synsets, CLASSES);
    assert.equal(manifest.splits.train!.records, CLASSES * SAMPLE.perClass);
    assert.ok(manifest.splits.val!.records >= CLASSES * SAMPLE.valPerClass);
    assert.deepEqual([manifest.mean.channels, manifest.mean.height, manifest.mean.width], [3, 64, 64]);
  });

  it('tests at iterations 0, 20, 40 and 60, each pass over the whole val set', () => {
    assert.deepEqual(
      log.tests.map((t) => t.iteration),
      [0, 20, 40, 60],
    );
    for (const test of log.tests) assert.deepEqual(Object.keys(test.outputs).sort(), ['accuracy', 'loss']);
  });

  it('ends with test accuracy above twice chance, higher than before training', (t) => {
    const accuracies = log.tests.map((test) => test.outputs.accuracy!);
    t.diagnostic(`test accuracy by pass: ${accuracies.join(', ')}`);
    const first = accuracies[0]!;
    const last = accuracies.at(-1)!;
    // Chance is 1/4. 2/4 is well out of a guesser's reach on 40+ val images: a guesser that knew the
    // class frequencies scores 2/4 or more with a probability of about 1e-4 (binomial, p = 1/4).
    assert.ok(last > 2 / CLASSES, `final accuracy ${last} (all passes: ${accuracies.join(', ')})`);
    assert.ok(last > first, `accuracy went from ${first} to ${last}`);
  });

  it('lowers the test loss and the smoothed train loss', (t) => {
    const testLosses = log.tests.map((test) => test.outputs.loss!);
    assert.ok(testLosses.at(-1)! < testLosses[0]!, `test losses ${testLosses.join(', ')}`);
    const trainLosses = log.losses.map((l) => l.loss);
    t.diagnostic(`test losses: ${testLosses.join(', ')}; smoothed train losses: ${trainLosses.join(', ')}`);
    assert.deepEqual(
      log.losses.map((l) => l.iteration),
      [0, 10, 20, 30, 40, 50],
    );
    // Below ln(4), the loss of a net that only knew which 4 of its 10 outputs are ever right.
    const last = trainLosses.at(-1)!;
    assert.ok(last < trainLosses[0]!, `train losses ${trainLosses.join(', ')}`);
    assert.ok(last < Math.log(CLASSES), `last smoothed train loss ${last}`);
  });

  it('writes a snapshot midway and at the end, each solverstate naming its caffemodel', async () => {
    for (const iter of [SNAPSHOT, MAX_ITER]) {
      const model = `${prefix()}_iter_${iter}.caffemodel`;
      const state = `${prefix()}_iter_${iter}.solverstate`;
      assert.ok((await stat(model)).size > 0, model);
      const decoded = decodeSolverState(await readFile(state), state);
      assert.equal(Number(decoded.iter), iter);
      assert.equal(decoded.learnedNet, model);
    }
  });
});
