// `caffe time` and `caffe test` as a user runs them: the built program in a subprocess, Caffe's lines on stderr.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Net } from '../../../trainer/net/net.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import { encodeNetParameter, parseNetPrototxt } from '../../../trainer/proto/index.js';
import { Rng } from '../../../trainer/rng.js';
import { formatFloat } from '../../../trainer/solver/index.js';
import { TINY_NET } from './support.js';

const run = promisify(execFile);
const caffe = fileURLToPath(new URL('../../../trainer/cli/main.js', import.meta.url));

/** The tiny net fed by a Data layer (TRAIN) or by constant DummyData (TEST), so both data paths run. */
const DATA_NET = TINY_NET.replace(
  /layer \{ name: "input".*?\} \} \}/s,
  `layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
     transform_param { crop_size: 6 } data_param { source: "nowhere_lmdb" batch_size: 2 } }
   layer { name: "data" type: "DummyData" top: "data" top: "label" include { phase: TEST }
     dummy_data_param { shape { dim: 2 dim: 1 dim: 6 dim: 6 } shape { dim: 2 }
       data_filler { type: "constant" value: 0.5 } data_filler { type: "constant" value: 1 } } }`,
);

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'net-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function caffeStderr(args: string[]): Promise<string[]> {
  const { stderr } = await run(process.execPath, [caffe, ...args], { timeout: 120_000 });
  // Drop glog's prefix: `I1128 05:34:46.917000 15055 caffe.cpp:352] `.
  return stderr
    .split('\n')
    .filter((line) => /^[IWEF]\d{4} /.test(line))
    .map((line) => line.slice(line.indexOf('] ') + 2));
}

function assertTimeLines(lines: string[], layers: string[]): void {
  const start = lines.indexOf('Performing Forward');
  assert.ok(start >= 0, lines.join('\n'));
  const body = lines.slice(start);
  const number = String.raw`-?\d+(\.\d+)?(e[-+]\d+)?`;
  const expected = [
    /^Performing Forward$/,
    new RegExp(`^Initial loss: ${number}$`),
    /^Performing Backward$/,
    /^\*\*\* Benchmark begins \*\*\*$/,
    /^Testing for 2 iterations\.$/,
    new RegExp(`^Iteration: 1 forward-backward time: ${number} ms\\.$`),
    new RegExp(`^Iteration: 2 forward-backward time: ${number} ms\\.$`),
    /^Average time per layer:$/,
    ...layers.flatMap((name) => [
      new RegExp(`^${name.padStart(10)}\\tforward: ${number} ms\\.$`),
      new RegExp(`^${name.padStart(10)}\\tbackward: ${number} ms\\.$`),
    ]),
    new RegExp(`^Average Forward pass: ${number} ms\\.$`),
    new RegExp(`^Average Backward pass: ${number} ms\\.$`),
    new RegExp(`^Average Forward-Backward: ${number} ms\\.$`),
    new RegExp(`^Total Time: ${number} ms\\.$`),
    /^\*\*\* Benchmark ends \*\*\*$/,
  ];
  assert.equal(body.length, expected.length, body.join('\n'));
  expected.forEach((pattern, i) => {
    assert.match(body[i]!, pattern);
  });
  // Caffe's "Average Forward-Backward" is the forward pass plus the backward pass (6 significant digits each).
  const average = (label: string) => {
    const line = body.find((l) => l.startsWith(`Average ${label}: `))!;
    return Number(line.slice(`Average ${label}: `.length, -' ms.'.length));
  };
  const sum = average('Forward pass') + average('Backward pass');
  assert.ok(Math.abs(average('Forward-Backward') - sum) <= 1e-5 * sum + 1e-9, body.join('\n'));
}

describe('caffe time', () => {
  it('prints Caffe’s benchmark lines for an Input net on the cpu backend', async () => {
    const model = path.join(dir, 'tiny.prototxt');
    await writeFile(model, TINY_NET);
    const lines = await caffeStderr(['time', `--model=${model}`, '--backend=cpu', '--iterations=2']);
    assertTimeLines(lines, ['input', 'conv', 'relu', 'pool', 'ip', 'loss']);
    // Layers that need no backward (the input) report 0; the others ran a vector-Jacobian product.
    assert.ok(lines.includes('     input\tbackward: 0 ms.'));
  });

  it("with --memory, logs each layer's tensor bytes and RSS per phase and what held the peak", async () => {
    const model = path.join(dir, 'tiny-memory.prototxt');
    await writeFile(model, TINY_NET);
    const lines = await caffeStderr([
      'time',
      `--model=${model}`,
      '--backend=cpu',
      '--iterations=1',
      '--memory',
    ]);
    const mib = String.raw`\d+\.\d MiB`;
    for (const layer of ['conv', 'relu', 'pool', 'ip', 'loss']) {
      const row = new RegExp(
        `^ *${layer}\tforward: tensors ${mib}, RSS ${mib}\tbackward: tensors ${mib}, RSS ${mib}$`,
      );
      assert.ok(
        lines.some((line) => row.test(line)),
        `${layer}:\n${lines.join('\n')}`,
      );
    }
    assert.ok(
      lines.some((line) => new RegExp(`^Peak tensors: ${mib} at the `).test(line)),
      lines.join('\n'),
    );
    const held = lines.find((line) => line.startsWith('Peak held by: '));
    assert.match(
      held ?? '',
      new RegExp(`kept for backward ${mib}, gradients ${mib}, weights ${mib}, optimizer history ${mib}$`),
    );
    assert.ok(lines.some((line) => /^Peak RSS: \d+\.\d MiB \(process maxRSS/.test(line)));
    // The profile comes before the benchmark, which still runs.
    assert.ok(lines.indexOf(held!) < lines.indexOf('*** Benchmark begins ***'));
  });

  it('times the backward of a deploy net (no loss layer), as Caffe computes its parameter gradients', async () => {
    const model = path.join(dir, 'deploy.prototxt');
    await writeFile(model, TINY_NET.replace(/layer \{ name: "loss".*?\}\n/s, ''));
    const lines = await caffeStderr(['time', `--model=${model}`, '--backend=cpu', '--iterations=2']);
    assertTimeLines(lines, ['input', 'conv', 'relu', 'pool', 'ip']);
    const backward = lines.find((l) => l.startsWith('Average Backward pass: '))!;
    assert.ok(Number(backward.split(' ')[3]) > 0, lines.join('\n'));
  });

  it('substitutes random data for a Data layer and says so, on the wasm backend', async () => {
    const model = path.join(dir, 'data.prototxt');
    await writeFile(model, DATA_NET);
    const lines = await caffeStderr(['time', `--model=${model}`, '--backend=wasm', '--iterations=2']);
    assert.ok(lines.some((l) => l.startsWith('Using backend wasm')));
    assert.ok(
      lines.includes('Layer data (Data): timing with random data of shape 2x3x6x6, 2'),
      lines.join('\n'),
    );
    assertTimeLines(lines, ['data', 'conv', 'relu', 'pool', 'ip', 'loss']);
  });

  it('times the LeNet model file on wasm with its Data layer given MNIST-sized random data', async () => {
    const model = fileURLToPath(
      new URL('../../../../trainer/models/lenet/train_val.prototxt', import.meta.url),
    );
    const lines = await caffeStderr([
      'time',
      `--model=${model}`,
      '--backend=wasm',
      '--iterations=2',
      '--data-shape=1,28,28',
    ]);
    assert.ok(
      lines.includes('Layer mnist (Data): timing with random data of shape 64x1x28x28, 64'),
      lines.join('\n'),
    );
    assertTimeLines(lines, ['mnist', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'loss']);
  });
});

describe('caffe test', () => {
  it('prints each batch’s outputs, the mean loss and the mean outputs for a DummyData net', async () => {
    const model = path.join(dir, 'data.prototxt');
    const weightsFile = path.join(dir, 'tiny.caffemodel');
    await writeFile(model, DATA_NET);
    const spec = buildNetSpec(parseNetPrototxt(DATA_NET), { phase: 1 });
    const net = Net.fromSpec(spec, { rng: new Rng(42) });
    await writeFile(weightsFile, encodeNetParameter(await net.toNetParameter()));
    const loss = (await net.forward()).loss; // constant data: every batch gives this loss
    net.dispose();
    const lines = await caffeStderr([
      'test',
      `--model=${model}`,
      `--weights=${weightsFile}`,
      '--backend=cpu',
      '--iterations=2',
    ]);
    const shown = formatFloat(loss);
    assert.deepEqual(lines.slice(lines.indexOf('Running for 2 iterations.')), [
      'Running for 2 iterations.',
      `Batch 0, loss = ${shown}`,
      `Batch 1, loss = ${shown}`,
      `Loss: ${shown}`,
      `loss = ${shown} (* 1 = ${shown} loss)`,
    ]);
  });

  it('fails with exit code 65 naming the layer when the weights do not fit the net', async () => {
    const model = path.join(dir, 'data.prototxt');
    const weightsFile = path.join(dir, 'wide.caffemodel');
    await writeFile(model, DATA_NET);
    const wide = Net.fromSpec(
      buildNetSpec(parseNetPrototxt(DATA_NET.replace('num_output: 3', 'num_output: 5')), { phase: 1 }),
      {
        rng: new Rng(1),
      },
    );
    await writeFile(weightsFile, encodeNetParameter(await wide.toNetParameter()));
    wide.dispose();
    await assert.rejects(
      run(process.execPath, [caffe, 'test', `--model=${model}`, `--weights=${weightsFile}`, '--backend=cpu']),
      (error: { code?: number; stderr?: string }) =>
        error.code === 65 && /layer "ip" blob 0: shape mismatch/.test(error.stderr ?? ''),
    );
  });
});
