// `caffe classify` as a user runs it: generated images, a tiny deploy net with known weights, and the
// --json output checked against the same classification computed here, step by step.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import { floatImage, resizeBilinear } from '../../../trainer/classify/image.js';
import { encodeBlobProto, encodeNetParameter } from '../../../trainer/proto/index.js';
import { Rng } from '../../../trainer/rng.js';

const cli = fileURLToPath(new URL('../../../trainer/cli/main.js', import.meta.url));

// Input 3x6x6 → InnerProduct (4 classes) → Softmax. Batch 7: classify must resize it to its crop count.
const DEPLOY = `
name: "tiny"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 7 dim: 3 dim: 6 dim: 6 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 4 } }
layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
`;
const CLASSES = 4;
const SIDE = 6;
const MEAN_SIDE = 8;
const LABELS = ['n0 tench', 'n1 goldfish', 'n2 shark', 'n3 ray'];

interface Image {
  file: string;
  height: number;
  width: number;
  /** Interleaved RGB bytes as written. */
  rgb: Uint8Array;
}

const rng = new Rng(42);
const weights = Float32Array.from({ length: CLASSES * 3 * SIDE * SIDE }, () => rng.uniform(-0.02, 0.02));
const bias = Float32Array.from({ length: CLASSES }, () => rng.uniform(-0.5, 0.5));
const mean = Float32Array.from({ length: 3 * MEAN_SIDE * MEAN_SIDE }, () => rng.uniform(90, 130));

let dir = '';
let images: Image[] = [];
const file = (name: string) => path.join(dir, name);

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'classify-cli-'));
  await writeFile(file('deploy.prototxt'), DEPLOY);
  const net = encodeNetParameter({
    name: 'tiny',
    layer: [
      {
        name: 'ip',
        type: 'InnerProduct',
        blobs: [
          { shape: { dim: [CLASSES, 3 * SIDE * SIDE] }, data: weights },
          { shape: { dim: [CLASSES] }, data: bias },
        ],
      },
    ],
  });
  await writeFile(file('tiny.caffemodel'), net);
  await writeFile(
    file('mean.binaryproto'),
    encodeBlobProto({ num: 1, channels: 3, height: MEAN_SIDE, width: MEAN_SIDE, data: mean }),
  );
  await writeFile(file('words.txt'), `${LABELS.join('\n')}\n`);
  await writeFile(file('broken.png'), 'not an image at all');
  // One image at the net's input size (used as it is), one larger and one not square (both resized).
  images = [];
  for (const [name, height, width] of [
    ['exact.png', SIDE, SIDE],
    ['large.png', 13, 11],
    ['wide.png', 5, 9],
  ] as const) {
    const rgb = Uint8Array.from({ length: height * width * 3 }, () => rng.nextInt(256));
    await sharp(rgb, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(file(name));
    images.push({ file: file(name), height, width, rgb });
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function classify(args: string[]) {
  const result = spawnSync(process.execPath, [cli, 'classify', '--backend=cpu', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The image as planar BGR floats, resized to `dims` unless it is already the net's input size. */
function prepared(image: Image, dims: number): { data: Float32Array; side: number } {
  const area = image.height * image.width;
  const bgr = new Float32Array(3 * area);
  for (let i = 0; i < area; i++) {
    for (let c = 0; c < 3; c++) bgr[c * area + i] = image.rgb[i * 3 + (2 - c)]!;
  }
  if (image.height === SIDE && image.width === SIDE) return { data: bgr, side: SIDE };
  const resized = resizeBilinear(floatImage(bgr, 3, image.height, image.width), dims, dims);
  return { data: resized.data, side: dims };
}

/** Probabilities of the tiny net for one 3x6x6 crop taken at (top, left) of a side x side plane. */
function netProbs(plane: (c: number, y: number, x: number) => number): number[] {
  const logits = Array.from({ length: CLASSES }, (_, k) => {
    let sum = bias[k]!;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < SIDE; y++)
        for (let x = 0; x < SIDE; x++) sum += weights[((k * 3 + c) * SIDE + y) * SIDE + x]! * plane(c, y, x);
    return sum;
  });
  const top = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/** What classify should print for one image: crops of the mean-subtracted image, averaged, top 5. */
function expectedTop(
  image: Image,
  options: { oversample: boolean; meanFile: boolean; meanValues?: number[] },
) {
  const dims = options.meanFile ? MEAN_SIDE : SIDE;
  const { data, side } = prepared(image, dims);
  const meanPlane = options.meanFile
    ? resizeBilinear(floatImage(mean, 3, MEAN_SIDE, MEAN_SIDE), dims, dims).data
    : undefined;
  // An image used as it is meets the centre of the mean.
  const meanShift = side === dims ? 0 : Math.floor((dims - side) / 2);
  const value = (c: number, y: number, x: number) => {
    const m = meanPlane
      ? meanPlane[(c * dims + y + meanShift) * dims + x + meanShift]!
      : (options.meanValues?.[c] ?? 0);
    return data[(c * side + y) * side + x]! - m;
  };
  const far = side - SIDE;
  const centre = Math.floor(far / 2);
  const corners = options.oversample
    ? [
        [0, 0],
        [0, far],
        [far, 0],
        [far, far],
        [centre, centre],
      ]
    : [[centre, centre]];
  const crops = corners.flatMap(([top, left]) => {
    const plain = netProbs((c, y, x) => value(c, top! + y, left! + x));
    if (!options.oversample) return [plain];
    return [plain, netProbs((c, y, x) => value(c, top! + y, left! + SIDE - 1 - x))];
  });
  const averaged = Array.from(
    { length: CLASSES },
    (_, k) => crops.reduce((s, p) => s + p[k]!, 0) / crops.length,
  );
  return averaged
    .map((prob, index) => ({ index, prob }))
    .sort((a, b) => b.prob - a.prob)
    .slice(0, 5);
}

interface JsonResult {
  image: string;
  top5: { index: number; label: string | null; prob: number }[];
}

function assertMatches(actual: JsonResult[], expected: { index: number; prob: number }[][], labels: boolean) {
  assert.equal(actual.length, images.length);
  actual.forEach((result, i) => {
    assert.equal(result.image, images[i]!.file);
    assert.deepEqual(Object.keys(result), ['image', 'top5']);
    assert.deepEqual(
      result.top5.map((p) => p.index),
      expected[i]!.map((p) => p.index),
      `image ${result.image}`,
    );
    result.top5.forEach((p, k) => {
      assert.deepEqual(Object.keys(p), ['index', 'label', 'prob']);
      assert.equal(p.label, labels ? LABELS[p.index] : null);
      assert.ok(
        Math.abs(p.prob - expected[i]![k]!.prob) < 1e-5,
        `${result.image} class ${p.index}: ${p.prob} vs ${expected[i]![k]!.prob}`,
      );
    });
  });
}

describe('caffe classify', () => {
  it('oversamples images resized to the mean file’s size, with the mean subtracted, and labels them', () => {
    const files = images.map((i) => i.file);
    const run = classify([
      `--model=${file('deploy.prototxt')}`,
      `--weights=${file('tiny.caffemodel')}`,
      `--mean=${file('mean.binaryproto')}`,
      `--labels=${file('words.txt')}`,
      '--oversample',
      '--json',
      ...files,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const expected = images.map((image) => expectedTop(image, { oversample: true, meanFile: true }));
    assertMatches(JSON.parse(run.stdout) as JsonResult[], expected, true);
  });

  it('centre-crops images resized to the input size, with per-channel mean values and no labels', () => {
    const run = classify([
      `--model=${file('deploy.prototxt')}`,
      `--weights=${file('tiny.caffemodel')}`,
      '--mean-value=100,110,120',
      '--json',
      ...images.map((i) => i.file),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const expected = images.map((image) =>
      expectedTop(image, { oversample: false, meanFile: false, meanValues: [100, 110, 120] }),
    );
    assertMatches(JSON.parse(run.stdout) as JsonResult[], expected, false);
  });

  it('prints cpp_classification’s lines without --json', () => {
    const image = images[1]!;
    const run = classify([
      `--model=${file('deploy.prototxt')}`,
      `--weights=${file('tiny.caffemodel')}`,
      image.file,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const expected = expectedTop(image, { oversample: false, meanFile: false });
    assert.deepEqual(run.stdout.trimEnd().split('\n'), [
      `---------- Prediction for ${image.file} ----------`,
      ...expected.map((p) => `${p.prob.toFixed(4)} - "${p.index}"`),
    ]);
  });

  for (const [what, name, message] of [
    ['a missing image', 'absent.png', 'no such file'],
    ['a corrupt image', 'broken.png', 'cannot decode the image'],
  ] as const) {
    it(`exits 65 for ${what}, naming the file`, () => {
      const run = classify([
        `--model=${file('deploy.prototxt')}`,
        `--weights=${file('tiny.caffemodel')}`,
        images[0]!.file,
        file(name),
      ]);
      assert.equal(run.code, 65, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`caffe: ${file(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${message}`),
      );
      assert.equal(run.stdout, '');
    });
  }
});
