// Writes a small ImageNet-layout tree for tests, demos and benchmarks: K classes of synthetic images
// a net can learn (each class its own shape and colours, with noise and jitter), a val split with a
// Caffe-style label file, a words file, and deliberately broken files of every kind real ImageNet has.
//
//   node dist/hack/sample-imagenet.js --out=DIR [--classes=10] [--per-class=100] [--val-per-class=10]
//        [--seed=1] [--size=500x375] [--broken-per-kind=1]
//
//   DIR/train/<wnid>/<wnid>_<n>.JPEG   DIR/val/ILSVRC2012_val_<n>.JPEG   DIR/val.txt   DIR/words.txt
// The same seed gives the same bytes.
//
// With --ilsvrc it writes an ILSVRC2012-shaped tree of tiny images instead (see sample-ilsvrc.ts):
//   node dist/hack/sample-imagenet.js --ilsvrc --out=DIR [--total=1281167] [--classes=1000] [--pool=256]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import sharp from 'sharp';

import { Rng } from '../trainer/rng.js';
import { generateIlsvrcTree } from './sample-ilsvrc.js';

export interface SampleOptions {
  out: string;
  classes: number;
  perClass: number;
  valPerClass: number;
  seed: number;
  width: number;
  height: number;
  /** Broken files of each kind in train (val gets one of each kind as well). */
  brokenPerKind: number;
}

/** Kinds of odd files: the first three decode (and are kept), the last three no decoder can read. */
export const BROKEN_KINDS = ['cmyk', 'gray', 'png', 'noise', 'empty', 'truncated'] as const;
export type BrokenKind = (typeof BROKEN_KINDS)[number];
export const KEPT_KINDS: readonly BrokenKind[] = ['cmyk', 'gray', 'png'];

export interface SampleFile {
  split: 'train' | 'val';
  /** Path relative to the split's folder. */
  rel: string;
  wnid: string;
  broken?: BrokenKind;
}

export interface SampleTree {
  train: string;
  val: string;
  valLabels: string;
  words: string;
  /** Synsets in ASCII order: index = label. */
  synsets: string[];
  files: SampleFile[];
}

const SHAPES = ['disc', 'square', 'stripes', 'ring', 'cross'] as const;

export async function generateSampleImagenet(options: SampleOptions): Promise<SampleTree> {
  const rng = new Rng(options.seed);
  const wnids = distinctWnids(options.classes, rng);
  const synsets = [...wnids].sort();
  const train = join(options.out, 'train');
  const val = join(options.out, 'val');
  mkdirSync(val, { recursive: true });
  const files: SampleFile[] = [];
  const words = wnids.map(
    (wnid, k) => `${wnid} ${SHAPES[k % SHAPES.length]} of hue ${hueOf(k, options.classes)}, class ${k}`,
  );

  for (let k = 0; k < wnids.length; k++) {
    const wnid = wnids[k]!;
    mkdirSync(join(train, wnid), { recursive: true });
    for (let i = 0; i < options.perClass; i++) {
      const rel = `${wnid}/${wnid}_${i + 1}.JPEG`;
      writeFileSync(join(train, rel), await classImage(k, options, rng, 'jpeg'));
      files.push({ split: 'train', rel, wnid });
    }
  }
  let b = 0;
  for (const kind of BROKEN_KINDS) {
    for (let n = 0; n < options.brokenPerKind; n++, b++) {
      const k = b % wnids.length;
      const rel = `${wnids[k]}/${wnids[k]}_broken_${kind}_${n}.JPEG`;
      writeFileSync(join(train, rel), await brokenFile(kind, k, options, rng));
      files.push({ split: 'train', rel, wnid: wnids[k]!, broken: kind });
    }
  }

  // Val: classes interleaved in a seeded order, numbered as ILSVRC2012's val images are.
  const valItems: { k: number; broken?: BrokenKind }[] = [];
  for (let k = 0; k < wnids.length; k++) for (let i = 0; i < options.valPerClass; i++) valItems.push({ k });
  rng.shuffle(valItems);
  BROKEN_KINDS.forEach((kind, i) => {
    valItems.push({ k: i % wnids.length, broken: kind });
  });
  const valLines: string[] = [];
  for (let n = 0; n < valItems.length; n++) {
    const { k, broken } = valItems[n]!;
    const rel = `ILSVRC2012_val_${String(n + 1).padStart(8, '0')}.JPEG`;
    const bytes = broken
      ? await brokenFile(broken, k, options, rng)
      : await classImage(k, options, rng, 'jpeg');
    writeFileSync(join(val, rel), bytes);
    valLines.push(`${rel} ${synsets.indexOf(wnids[k]!)}`);
    files.push({ split: 'val', rel, wnid: wnids[k]!, ...(broken ? { broken } : {}) });
  }
  const valLabels = join(options.out, 'val.txt');
  const wordsFile = join(options.out, 'words.txt');
  writeFileSync(valLabels, `${valLines.join('\n')}\n`);
  writeFileSync(wordsFile, `${words.join('\n')}\n`);
  return { train, val, valLabels, words: wordsFile, synsets, files };
}

/** wnid-like names (`n` and 8 digits), distinct, in an order that is not their sorted order. */
function distinctWnids(count: number, rng: Rng): string[] {
  const seen = new Set<string>();
  while (seen.size < count) seen.add(`n0${String(1_000_000 + rng.nextInt(8_999_999)).padStart(7, '0')}`);
  return [...seen];
}

function hueOf(k: number, classes: number): number {
  return Math.round((360 * k) / Math.max(1, classes));
}

/** One image of class k: a class colour background, a class shape in the opposite hue, jitter and noise. */
async function classImage(
  k: number,
  options: SampleOptions,
  rng: Rng,
  format: 'jpeg' | 'raw',
): Promise<Buffer> {
  const { width, height } = options;
  const background = hsvToRgb(hueOf(k, options.classes), 0.7, 0.8);
  const foreground = hsvToRgb((hueOf(k, options.classes) + 180) % 360, 0.9, 0.95);
  const shape = SHAPES[k % SHAPES.length]!;
  const cx = width * (0.35 + 0.3 * rng.nextFloat());
  const cy = height * (0.35 + 0.3 * rng.nextFloat());
  const radius = Math.min(width, height) * (0.2 + 0.1 * rng.nextFloat());
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = insideShape(shape, x - cx, y - cy, radius);
      const colour = inside ? foreground : background;
      const at = 3 * (y * width + x);
      for (let c = 0; c < 3; c++) {
        const noise = (rng.nextUint32() % 41) - 20;
        pixels[at + c] = Math.max(0, Math.min(255, colour[c]! + noise));
      }
    }
  }
  if (format === 'raw') return pixels;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function insideShape(shape: (typeof SHAPES)[number], dx: number, dy: number, r: number): boolean {
  switch (shape) {
    case 'disc':
      return dx * dx + dy * dy < r * r;
    case 'square':
      return Math.abs(dx) < r * 0.8 && Math.abs(dy) < r * 0.8;
    case 'stripes':
      return Math.floor((dy + 1000) / (r / 3)) % 2 === 0;
    case 'ring': {
      const d = Math.sqrt(dx * dx + dy * dy);
      return d < r && d > r * 0.55;
    }
    case 'cross':
      return (Math.abs(dx) < r * 0.25 && Math.abs(dy) < r) || (Math.abs(dy) < r * 0.25 && Math.abs(dx) < r);
  }
}

async function brokenFile(kind: BrokenKind, k: number, options: SampleOptions, rng: Rng): Promise<Buffer> {
  const raw = () => classImage(k, options, rng, 'raw');
  const image = async () =>
    sharp(await raw(), { raw: { width: options.width, height: options.height, channels: 3 } });
  switch (kind) {
    case 'cmyk':
      return (await image()).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
    case 'gray':
      return (await image()).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer();
    case 'png':
      return (await image()).png().toBuffer();
    case 'noise':
      return Buffer.from(Array.from({ length: 4096 }, () => rng.nextUint32() & 0xff));
    case 'empty':
      return Buffer.alloc(0);
    case 'truncated': {
      // Cut inside the headers: no scan data survives, so nothing can be recovered.
      const whole = await classImage(k, options, rng, 'jpeg');
      return whole.subarray(0, 200);
    }
  }
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const c = v * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = v - c;
  const [r, g, b] =
    h < 60
      ? [c, x, 0]
      : h < 120
        ? [x, c, 0]
        : h < 180
          ? [0, c, x]
          : h < 240
            ? [0, x, c]
            : h < 300
              ? [x, 0, c]
              : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      classes: { type: 'string', default: '10' },
      'per-class': { type: 'string', default: '100' },
      'val-per-class': { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      size: { type: 'string', default: '500x375' },
      'broken-per-kind': { type: 'string', default: '1' },
      ilsvrc: { type: 'boolean', default: false },
      total: { type: 'string' },
      pool: { type: 'string' },
    },
  });
  if (!values.out) throw new Error('--out=DIR is required');
  if (values.ilsvrc) {
    const tree = await generateIlsvrcTree({
      out: resolve(values.out),
      seed: Number(values.seed),
      ...(values.total ? { total: Number(values.total) } : {}),
      ...(argv.some((a) => a.startsWith('--classes')) ? { classes: Number(values.classes) } : {}),
      ...(values.pool ? { pool: Number(values.pool) } : {}),
    });
    const train = tree.perClass.reduce((a, b) => a + b, 0);
    const val = tree.valPerClass.reduce((a, b) => a + b, 0);
    console.log(
      `wrote ${train} train and ${val} val files in ${tree.synsets.length} classes under ${values.out}`,
    );
    return;
  }
  const size = /^(\d+)x(\d+)$/.exec(values.size);
  if (!size) throw new Error(`--size: expected WIDTHxHEIGHT, received '${values.size}'`);
  const tree = await generateSampleImagenet({
    out: resolve(values.out),
    classes: Number(values.classes),
    perClass: Number(values['per-class']),
    valPerClass: Number(values['val-per-class']),
    seed: Number(values.seed),
    width: Number(size[1]),
    height: Number(size[2]),
    brokenPerKind: Number(values['broken-per-kind']),
  });
  const broken = tree.files.filter((f) => f.broken).length;
  console.log(
    `wrote ${tree.files.length} files (${broken} broken on purpose) in ${tree.synsets.length} classes under ${values.out}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
