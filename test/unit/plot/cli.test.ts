// `caffe plot` as a user runs it: the built program plots the log and snapshots of a short real
// `caffe train` run of a tiny net (as test/unit/train/cli.test.ts runs it), on the cpu backend.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { CAFFE_MAIN, TINY_NET } from '../../support/tiny-net.js';

const SOLVER = `net: "net.prototxt"
test_iter: 2
test_interval: 4
base_lr: 0.05
momentum: 0.9
lr_policy: "fixed"
display: 1
max_iter: 12
snapshot: 4
snapshot_prefix: "snap/tiny"
random_seed: 7
`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCaffe(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CAFFE_MAIN, ...args],
      { cwd: dir, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'plot-cli-'));
  await writeFile(path.join(dir, 'net.prototxt'), TINY_NET);
  await writeFile(path.join(dir, 'solver.prototxt'), SOLVER);
  const trained = await runCaffe(['train', '--backend=cpu', '--solver=solver.prototxt']);
  assert.equal(trained.code, 0, trained.stderr);
  await writeFile(path.join(dir, 'train.log'), trained.stderr);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('caffe plot', () => {
  it('draws a training log as a PNG of the asked size', async () => {
    const { code, stderr } = await runCaffe([
      'plot',
      'train.log',
      '--out=curves.png',
      '--width=640',
      '--height=360',
    ]);
    assert.equal(code, 0, stderr);
    const meta = await sharp(await readFile(path.join(dir, 'curves.png'))).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 640);
    assert.equal(meta.height, 360);
    assert.match(stderr, /wrote curves\.png \(640x360, png\): train loss, test loss, test accuracy/);
  });

  it("draws a job's progress records as an SVG naming every curve", async () => {
    const { code, stderr } = await runCaffe(['plot', 'snap/tiny', '--out=curves.svg']);
    assert.equal(code, 0, stderr);
    const svg = await readFile(path.join(dir, 'curves.svg'));
    // librsvg (inside sharp) parses it: a real SVG document of the default size.
    const meta = await sharp(svg).metadata();
    assert.equal(meta.format, 'svg');
    assert.equal(meta.width, 800);
    assert.equal(meta.height, 600);
    const texts = [...svg.toString('utf8').matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const name of ['train loss', 'test loss', 'test accuracy', 'iteration', 'loss', 'accuracy']) {
      assert.ok(texts.includes(name), `the SVG has no text '${name}': ${texts.join(' | ')}`);
    }
  });

  it('draws a status file alone as a single point', async () => {
    await writeFile(
      path.join(dir, 'status.json'),
      JSON.stringify({ version: 1, iteration: 13, trainLoss: 0.01, tests: [] }),
    );
    const { code, stderr } = await runCaffe(['plot', 'status.json', '--out=status.svg']);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /wrote status\.svg \(800x600, svg\): train loss$/m);
    const svg = await readFile(path.join(dir, 'status.svg'), 'utf8');
    assert.match(svg, />train loss</);
    assert.doesNotMatch(svg, />test loss</);
  });

  it('refuses an output that is neither .png nor .svg, and a missing input, with their exit codes', async () => {
    const usage = await runCaffe(['plot', 'train.log', '--out=curves.jpg']);
    assert.equal(usage.code, 64);
    assert.match(
      usage.stderr,
      /--out: expected a file name ending in \.png or \.svg, received 'curves\.jpg'/,
    );
    const bad = await runCaffe(['plot', 'missing.log']);
    assert.equal(bad.code, 65);
    assert.match(bad.stderr, /missing\.log: expected a training log/);
  });
});
