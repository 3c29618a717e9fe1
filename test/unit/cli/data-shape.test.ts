// A Data layer's image shape comes from its database's first record, as Caffe's DataLayer::DataLayerSetUp
// reads it (then crop_size); --data-shape overrides it. LeNet's and cifar10_quick's nets have no
// crop_size, so without this they cannot train.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { encodeJpeg } from '../../../trainer/data/images.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { encodedDatumBytes, rawDatumBytes } from '../../../trainer/data/records.js';
import { CAFFE_MAIN as CAFFE } from '../../support/tiny-net.js';

const dir = mkdtempSync(join(tmpdir(), 'brewery-data-shape-'));
const at = (name: string) => join(dir, name);

/** LeNet's shape of net: a Data layer without crop_size, a convolution, a classifier. */
const net = (source: string, crop = 0) => `name: "shape"
layer { name: "mnist" type: "Data" top: "data" top: "label"
  transform_param { scale: 0.00390625${crop ? ` crop_size: ${crop}` : ''} }
  data_param { source: "${source}" batch_size: 4 backend: LMDB } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 2 kernel_size: 5 weight_filler { type: "xavier" } } }
layer { name: "ip" type: "InnerProduct" bottom: "conv1" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }`;

before(async () => {
  const raw = new LmdbWriter(at('raw_lmdb'));
  const encoded = new LmdbWriter(at('jpeg_lmdb'));
  for (let i = 0; i < 8; i++) {
    const key = Buffer.from(String(i).padStart(8, '0'));
    const gray = Uint8Array.from({ length: 12 * 10 }, (_, p) => (p * 7 + i * 13) % 256);
    raw.put(key, rawDatumBytes(gray, 1, 12, 10, i % 2));
    const colour = Uint8Array.from({ length: 9 * 11 * 3 }, (_, p) => (p * 5 + i * 11) % 256);
    encoded.put(
      key,
      encodedDatumBytes(await encodeJpeg({ pixels: colour, channels: 3, height: 9, width: 11 }, 95), i % 2),
    );
  }
  raw.finish();
  encoded.finish();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const caffe = (...argv: string[]) => spawnSync(process.execPath, [CAFFE, ...argv], { encoding: 'utf8' });
/** The top shapes `caffe describe` prints for a layer: its row's last column (a data layer has no parameters). */
function topShape(stdout: string, layer: string): string | undefined {
  const row = stdout.split('\n').find((line) => line.startsWith(`${layer} `));
  return row?.split(/ {2,}/).at(-1);
}

describe('a Data layer takes its image shape from the first record', () => {
  const cases: [string, string, number, string][] = [
    ['raw 1x12x10 records', 'raw_lmdb', 0, '4 1 12 10; 4'],
    ['raw records with crop_size 8', 'raw_lmdb', 8, '4 1 8 8; 4'],
    ['JPEG-encoded 3x9x11 records', 'jpeg_lmdb', 0, '4 3 9 11; 4'],
  ];
  for (const [name, db, crop, shape] of cases) {
    it(`caffe describe: ${name} give ${shape}`, () => {
      const model = at(`${db}-${crop}.prototxt`);
      writeFileSync(model, net(at(db), crop));
      const run = caffe('describe', '-model', model);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(topShape(run.stdout, 'mnist'), shape);
    });
  }

  it('--data-shape overrides the first record', () => {
    const model = at('override.prototxt');
    writeFileSync(model, net(at('raw_lmdb')));
    const run = caffe('describe', '-model', model, '--data-shape=1,20,20');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(topShape(run.stdout, 'mnist'), '4 1 20 20; 4');
  });

  it('caffe train runs a net without crop_size on records of any size, no flag needed', () => {
    const model = at('train.prototxt');
    writeFileSync(model, net(at('raw_lmdb')));
    const solver = at('solver.prototxt');
    writeFileSync(
      solver,
      `net: "${model}"\nbase_lr: 0.01\nmax_iter: 2\nlr_policy: "fixed"\ndisplay: 1\nrandom_seed: 1\nsnapshot_prefix: "${at('lenet')}"\n`,
    );
    const run = caffe('train', '-solver', solver, '--backend=cpu');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /Iteration 2, loss = /);
  });
});

describe('caffe test reads Data layers through the training loader', () => {
  it('scores trained weights over an LMDB in key order, wrapping to the first record as Caffe does', () => {
    const model = at('scored.prototxt');
    const withAccuracy = `${net(at('raw_lmdb'))}
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }`;
    writeFileSync(model, withAccuracy);
    const solver = at('scored-solver.prototxt');
    writeFileSync(
      solver,
      `net: "${model}"\nbase_lr: 0.01\nmax_iter: 2\nlr_policy: "fixed"\nrandom_seed: 1\nsnapshot_prefix: "${at('scored')}"\n`,
    );
    const train = caffe('train', '-solver', solver, '--backend=cpu');
    assert.equal(train.status, 0, train.stderr);
    // 8 records, batch 4: batch 2 is records 0-3 again, so it scores as batch 0 does.
    const run = caffe(
      'test',
      '-model',
      model,
      '-weights',
      at('scored_iter_2.caffemodel'),
      '-iterations',
      '3',
      '--backend=cpu',
    );
    assert.equal(run.status, 0, run.stderr);
    const value = (pattern: RegExp) => run.stderr.match(pattern)?.[1];
    const batch = (n: number, output: string) =>
      value(new RegExp(`\\] Batch ${n}, ${output} = (\\S+)$`, 'm'));
    for (const output of ['accuracy', 'loss']) {
      assert.ok(batch(0, output) !== undefined, `Batch 0, ${output} is printed`);
      assert.equal(batch(2, output), batch(0, output), `${output}: batch 2 repeats batch 0`);
    }
    assert.match(run.stderr, /\] Loss: \S+$/m);
    assert.match(run.stderr, /\] accuracy = \S+$/m);
    assert.match(run.stderr, /\] loss = (\S+) \(\* 1 = \1 loss\)$/m);
  });
});
