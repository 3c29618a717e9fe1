// `caffe describe` on CaffeNet's train_val: 60,965,224 learnable parameters in 16 blobs, fc8 256x1000 in
// TRAIN and 50x1000 in TEST, pool5 256x256x6x6, and the accuracy layer only in the TEST net.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildNetSpec, learnableTotals, paramBlobs } from '../../../trainer/net/spec/index.js';
import { Phase, parseNetPrototxt } from '../../../trainer/proto/index.js';
import { modelFile, readModel, runCli } from '../proto/support.js';

const TRAIN_VAL = 'bvlc_reference_caffenet/train_val.prototxt';

/** The table rows of `caffe describe`, by layer name: [type, bottoms, tops, top shapes, params]. */
function describeRows(stdout: string): Map<string, string[]> {
  const lines = stdout.split('\n');
  const header = lines.findIndex((l) => l.startsWith('layer '));
  const starts = [...lines[header + 1]!.matchAll(/-+/g)].map((m) => m.index!);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(header + 2)) {
    if (line.trim() === '') break;
    const cells = starts.map((s, i) => line.slice(s, starts[i + 1]).trim());
    rows.set(cells[0]!, cells.slice(1));
  }
  return rows;
}

describe('caffe describe on CaffeNet', () => {
  const train = runCli(['describe', `--model=${modelFile(TRAIN_VAL)}`, '--phase=TRAIN']);
  const test = runCli(['describe', `--model=${modelFile(TRAIN_VAL)}`, '--phase=TEST']);

  it('succeeds in both phases', () => {
    assert.equal(train.code, 0, train.stderr);
    assert.equal(test.code, 0, test.stderr);
  });

  it('reports 60,965,224 learnable parameters in 16 blobs', () => {
    for (const run of [train, test]) {
      assert.match(run.stdout, /Total: 60,965,224 learnable parameters in 16 blobs/);
    }
  });

  it('fc8 is 256 1000 in TRAIN and 50 1000 in TEST; pool5 is 256 256 6 6', () => {
    assert.equal(describeRows(train.stdout).get('fc8')?.[3], '256 1000');
    assert.equal(describeRows(test.stdout).get('fc8')?.[3], '50 1000');
    assert.equal(describeRows(train.stdout).get('pool5')?.[3], '256 256 6 6');
    assert.match(train.stderr, /\] Top shape: 256 96 55 55 \(74342400\)$/m);
  });

  it('only the TEST net has the accuracy layer, fed through the splits Caffe inserts', () => {
    const trainRows = describeRows(train.stdout);
    const testRows = describeRows(test.stdout);
    assert.equal(trainRows.has('accuracy'), false);
    assert.equal(testRows.get('accuracy')?.[0], 'Accuracy');
    assert.equal(testRows.get('accuracy')?.[1], 'fc8_fc8_0_split_0, label_data_1_split_0');
    assert.ok(testRows.has('fc8_fc8_0_split') && testRows.has('label_data_1_split'));
    assert.equal([...trainRows.values()].filter((r) => r[0] === 'Split').length, 0);
    assert.match(test.stdout, /outputs: accuracy, loss/);
  });

  it('has the parameter blob shapes of BVLC/caffe models/bvlc_reference_caffenet', () => {
    const spec = buildNetSpec(parseNetPrototxt(readModel(TRAIN_VAL), TRAIN_VAL), { phase: Phase.TRAIN });
    assert.deepEqual(
      paramBlobs(spec).map((b) => `${b.layer}:${b.shape.join('x')}`),
      [
        'conv1:96x3x11x11',
        'conv1:96',
        'conv2:256x48x5x5',
        'conv2:256',
        'conv3:384x256x3x3',
        'conv3:384',
        'conv4:384x192x3x3',
        'conv4:384',
        'conv5:256x192x3x3',
        'conv5:256',
        'fc6:4096x9216',
        'fc6:4096',
        'fc7:4096x4096',
        'fc7:4096',
        'fc8:1000x4096',
        'fc8:1000',
      ],
    );
    assert.deepEqual(learnableTotals(spec), { blobs: 16, parameters: 60_965_224 });
    assert.deepEqual(spec.layers.find((l) => l.name === 'loss')?.param.lossWeight, [1]);
  });

  it('deploy.prototxt gives the same parameters and a 10x1000 probability output', () => {
    const deploy = 'bvlc_reference_caffenet/deploy.prototxt';
    const spec = buildNetSpec(parseNetPrototxt(readModel(deploy), deploy), { phase: Phase.TEST });
    assert.deepEqual(learnableTotals(spec), { blobs: 16, parameters: 60_965_224 });
    assert.deepEqual(spec.blobShapes.get('prob'), [10, 1000]);
    assert.deepEqual(spec.outputs, ['prob']);
  });
});
