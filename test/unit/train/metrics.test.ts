// Prometheus metrics of `caffe train`: the helpers alone, then the real endpoint of a run of the built
// program on a tiny net, scraped while it trains, and the status file and kept snapshots it leaves.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseLiveStatus } from '../../../trainer/contract/live-status.js';
import { findLatestSnapshot } from '../../../trainer/contract/snapshots.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import { Phase, parseNetPrototxt } from '../../../trainer/proto/index.js';
import { storageFor } from '../../../trainer/storage/index.js';
import {
  imagesPerIteration,
  metricsPort,
  outputLabels,
  ThroughputWindow,
} from '../../../trainer/train/metrics.js';
import { CAFFE_MAIN, TINY_NET } from '../../support/tiny-net.js';

const SOLVER = `net: "net.prototxt"
test_iter: 2
test_interval: 3
test_compute_loss: true
base_lr: 0.1
momentum: 0.9
lr_policy: "step"
gamma: 0.5
stepsize: 4
display: 2
average_loss: 3
max_iter: 100000
snapshot: 2
snapshot_after_train: false
snapshot_prefix: "snap/tiny"
random_seed: 3
`;

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'train-metrics-'));
  await writeFile(path.join(dir, 'net.prototxt'), TINY_NET);
  await writeFile(path.join(dir, 'solver.prototxt'), SOLVER);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('metrics helpers', () => {
  it('labels test outputs by blob name, and by element for blobs of several elements', () => {
    const outputs = [
      { name: 'accuracy', value: 0.5 },
      { name: 'per_class', value: 0.25 },
      { name: 'per_class', value: 0.75 },
      { name: 'loss', value: 1.5 },
    ];
    assert.deepEqual(
      outputLabels(outputs).map((o) => `${o.name}=${o.value}`),
      ['accuracy=0.5', 'per_class[0]=0.25', 'per_class[1]=0.75', 'loss=1.5'],
    );
  });

  it('takes the port from the flag, else BREWERY_METRICS_PORT; 0 or unset is off', () => {
    assert.equal(metricsPort('9400', {}), 9400);
    assert.equal(metricsPort(undefined, { BREWERY_METRICS_PORT: '9401' }), 9401);
    assert.equal(metricsPort('9402', { BREWERY_METRICS_PORT: '9401' }), 9402);
    assert.equal(metricsPort('0', { BREWERY_METRICS_PORT: '9401' }), undefined);
    assert.equal(metricsPort(undefined, {}), undefined);
    assert.throws(() => metricsPort('http', {}), /--metrics-port: expected a port number .* received 'http'/);
    assert.throws(() => metricsPort(undefined, { BREWERY_METRICS_PORT: '70000' }), /BREWERY_METRICS_PORT/);
  });

  it('computes images per second over the last display interval', () => {
    const window = new ThroughputWindow(2);
    assert.equal(window.add(4, 0.5), 8);
    assert.equal(window.add(4, 1.5), 4, '8 images in 2 s');
    assert.equal(window.add(4, 0.5), 4, 'the first iteration has left the window: 8 images in 2 s');
    assert.equal(new ThroughputWindow(0).add(4, 0.25), 16, 'no display: the last iteration');
  });

  it('counts the images of one iteration as batch size times iter_size', () => {
    const spec = buildNetSpec(parseNetPrototxt(TINY_NET), { phase: Phase.TRAIN });
    assert.equal(imagesPerIteration(spec, 1), 4);
    assert.equal(imagesPerIteration(spec, 3), 12);
  });
});

/** One sample of the text format: `name{labels} value`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('caffe train --metrics-port --status-file --keep-snapshots', () => {
  it('serves the metrics while training, and leaves a stopped status and the newest 2 snapshots', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        CAFFE_MAIN,
        'train',
        '--backend=cpu',
        '--solver=solver.prototxt',
        '--status-file=status.json',
        '--keep-snapshots=2',
      ],
      { cwd: dir, env: { ...process.env, BREWERY_METRICS_PORT: String(port) } },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // If training never got far enough, stop it and let the asserts fail.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);

    let text = '';
    let contentType = '';
    try {
      for (;;) {
        if (child.exitCode !== null) assert.fail(`caffe train exited early:\n${stderr}`);
        const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (response?.ok) {
          contentType = response.headers.get('content-type') ?? '';
          text = await response.text();
          if ((sample(text, 'caffe_snapshots_total') ?? 0) >= 4) break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const missing = await fetch(`http://127.0.0.1:${port}/other`);
      assert.equal(missing.status, 404);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await exited;
    clearTimeout(guard);
    assert.equal(code, 0, stderr);

    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const iteration = sample(text, 'caffe_iteration') ?? -1;
    assert.ok(iteration >= 8, `4 snapshots every 2 iterations: at least 8 updates, received ${iteration}`);
    assert.equal(sample(text, 'caffe_max_iter'), 100000);
    assert.equal(sample(text, 'caffe_training_info', '{net="tiny",solver_type="SGD",backend="cpu"}'), 1);
    // step policy: 0.1 * 0.5^floor(iter / 4), evaluated at the last iteration (iteration - 1).
    const rate = 0.1 * 0.5 ** Math.floor((iteration - 1) / 4);
    const served = sample(text, 'caffe_learning_rate') ?? 0;
    assert.ok(Math.abs(served - rate) <= rate * 1e-7, `learning rate ${served}, expected ${rate} (float32)`);
    const loss = sample(text, 'caffe_train_loss') ?? Number.NaN;
    const smoothed = sample(text, 'caffe_train_loss_smoothed') ?? Number.NaN;
    assert.ok(loss > 0 && smoothed > 0, `losses: ${loss}, ${smoothed}`);
    assert.ok((sample(text, 'caffe_images_per_second') ?? 0) > 0);
    const accuracy = sample(text, 'caffe_test_output', '{test_net="0",output="accuracy"}') ?? -1;
    assert.ok(accuracy >= 0 && accuracy <= 1, `accuracy ${accuracy}`);
    assert.ok((sample(text, 'caffe_test_output', '{test_net="0",output="loss"}') ?? 0) > 0);
    assert.ok((sample(text, 'caffe_test_loss', '{test_net="0"}') ?? 0) > 0, 'test_compute_loss is set');
    assert.equal(sample(text, 'caffe_iteration_duration_seconds_count'), iteration);
    assert.ok((sample(text, 'caffe_iteration_duration_seconds_sum') ?? 0) > 0);
    // One observation per iteration; DummyData reads no loader, so every one is in the 0 s bucket.
    assert.equal(sample(text, 'caffe_data_wait_seconds_count'), iteration);
    assert.equal(sample(text, 'caffe_data_wait_seconds_bucket', '{le="0"}'), iteration);
    assert.equal(
      sample(text, 'caffe_snapshot_duration_seconds_count'),
      sample(text, 'caffe_snapshots_total'),
    );
    assert.ok((sample(text, 'process_cpu_user_seconds_total') ?? 0) > 0, 'default process metrics');

    const status = parseLiveStatus(
      JSON.parse(await readFile(path.join(dir, 'status.json'), 'utf8')),
      'status.json',
    );
    assert.equal(status.state, 'stopped');
    assert.equal(status.maxIter, 100000);
    assert.ok(status.iteration >= iteration);
    const last = status.latestSnapshot;
    assert.ok(last, 'a stop leaves a snapshot');
    assert.equal(last.iteration, status.iteration);
    assert.equal(last.solverstate, `snap/tiny_iter_${last.iteration}.solverstate`);
    assert.equal(last.caffemodel, `snap/tiny_iter_${last.iteration}.caffemodel`);
    assert.equal(status.tests.length, 1);
    assert.equal(status.tests[0]?.iteration, 3 * Math.floor((status.iteration - 1) / 3));
    assert.deepEqual(
      status.tests[0]?.outputs.map((o) => o.name),
      ['accuracy', 'loss'],
    );
    assert.equal(typeof status.tests[0]?.loss, 'number');
    assert.ok(Date.now() - Date.parse(status.updatedAt) < 60_000);

    // Only the newest two snapshots remain, the stop's own among them.
    const kept = (await readdir(path.join(dir, 'snap'))).sort();
    const iterations = [...new Set(kept.map((f) => Number(/_iter_(\d+)\./.exec(f)?.[1])))].sort(
      (a, b) => a - b,
    );
    assert.equal(iterations.length, 2, kept.join(', '));
    assert.equal(iterations[1], last.iteration);
    assert.equal(kept.length, 6, kept.join(', '));
    const prefix = path.join(dir, 'snap/tiny');
    const found = await findLatestSnapshot(prefix, storageFor(prefix));
    assert.equal(found?.iteration, last.iteration);
  });
});
