// `caffe train` on the native TensorFlow backend (tfjs-node, provisioned by `npm run setup:native`)
// through the layers whose gradients tfjs-node restricts: a padded, grouped convolution and padded
// pooling, as CaffeNet has. Skipped with the reason when the native backend is not provisioned.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { nativeCacheDir } from '../../../trainer/backend/native.js';

const caffe = fileURLToPath(new URL('../../../trainer/cli/main.js', import.meta.url));
const provisioned = existsSync(path.join(nativeCacheDir(), 'node_modules', '@tensorflow', 'tfjs-node'));
const skip = provisioned ? undefined : 'the native backend is not provisioned (npm run setup:native)';

const NET = `name: "padded"
layer { name: "data" type: "DummyData" top: "data" top: "label"
  dummy_data_param { shape { dim: 2 dim: 4 dim: 9 dim: 9 } shape { dim: 2 }
    data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 4 kernel_size: 3 pad: 2 stride: 2 group: 2
    weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`;

describe('caffe train on the native backend', { skip }, () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'brewery-native-'));
    await writeFile(path.join(dir, 'net.prototxt'), NET);
    await writeFile(
      path.join(dir, 'solver.prototxt'),
      'net: "net.prototxt"\nbase_lr: 0.1\nlr_policy: "fixed"\nmax_iter: 3\ndisplay: 1\nsnapshot_after_train: false\nrandom_seed: 3\n',
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('trains a padded grouped convolution and padded pooling', async () => {
    const { stderr } = await promisify(execFile)(
      process.execPath,
      [caffe, 'train', '--solver=solver.prototxt', '--backend=tensorflow'],
      { cwd: dir },
    );
    assert.match(stderr, /Using backend tensorflow/);
    assert.match(stderr, /Iteration 3, loss = [\d.]+/);
    assert.match(stderr, /Optimization Done/);
  });
});
