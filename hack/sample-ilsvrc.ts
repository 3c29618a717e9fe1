// An ILSVRC2012-shaped tree at full count or scaled down: 1,000 synset folders of 732 to 1,300 images
// adding up to 1,281,167, and 50,000 val images in one flat folder with Caffe's `NAME LABEL` val.txt
// and a words file. The pixels are not what scales, the counts are: every image is a tiny JPEG (16 to
// 32 px a side) from a pool of a few hundred distinct ones, hard-linked into place, so the full tree
// costs directory entries rather than gigabytes. The same seed gives the same tree.
//
//   node dist/hack/sample-imagenet.js --ilsvrc --out=DIR [--total=1281167] [--classes=1000] [--pool=256]
import { existsSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

import { Rng } from '../trainer/rng.js';

/** ILSVRC2012's train and val counts (the tutorial's dataset). */
export const ILSVRC2012 = {
  classes: 1000,
  train: 1_281_167,
  val: 50_000,
  minPerClass: 732,
  maxPerClass: 1300,
};

export interface IlsvrcOptions {
  out: string;
  /** Train images in all (default ILSVRC2012's 1,281,167); fewer scales every class down alike. */
  total?: number;
  /** Synset folders (default 1,000). */
  classes?: number;
  /** Val images (default 50,000 scaled as `total` is). */
  val?: number;
  /** Distinct images hard-linked into the tree (default 256). */
  pool?: number;
  seed?: number;
}

export interface IlsvrcTree {
  train: string;
  val: string;
  valLabels: string;
  words: string;
  /** Synsets in ASCII order: index = label. */
  synsets: string[];
  /** Train images per synset, in synset order. */
  perClass: number[];
  /** Val images per synset, in synset order. */
  valPerClass: number[];
}

export async function generateIlsvrcTree(options: IlsvrcOptions): Promise<IlsvrcTree> {
  const classes = options.classes ?? ILSVRC2012.classes;
  const total = options.total ?? ILSVRC2012.train;
  const valCount = options.val ?? Math.round((ILSVRC2012.val * total) / ILSVRC2012.train);
  const rng = new Rng(options.seed ?? 1);
  if (!Number.isInteger(classes) || classes < 1)
    throw new Error(`--classes: expected a positive integer, received ${classes}`);
  if (!Number.isInteger(total) || total < classes) {
    throw new Error(
      `--total: expected an integer of at least one image per class (${classes}), received ${total}`,
    );
  }
  const synsets = ilsvrcWnids(classes, rng);
  const perClass = scaleCounts(ilsvrcClassCounts(classes, rng), total);
  const pool = await imagePool(options.pool ?? 256, rng);
  const train = join(options.out, 'train');
  const val = join(options.out, 'val');
  if (existsSync(train) || existsSync(val)) throw new Error(`${options.out}: expected no train/ or val/ yet`);
  mkdirSync(val, { recursive: true });
  mkdirSync(train);
  await writePool(join(options.out, '.pool'), pool);

  let linked = 0;
  const link = (target: string) => {
    linkSync(join(options.out, '.pool', pool.names[rng.nextInt(pool.names.length)]!), target);
    linked++;
  };
  synsets.forEach((wnid, k) => {
    mkdirSync(join(train, wnid));
    // ILSVRC's numbers within a class are sparse (n01440764_10026.JPEG): gaps of 1 to 8.
    let number = 1 + rng.nextInt(100);
    for (let i = 0; i < perClass[k]!; i++) {
      link(join(train, wnid, `${wnid}_${number}.JPEG`));
      number += 1 + rng.nextInt(8);
    }
  });

  // Val: the classes dealt round-robin, then shuffled, numbered as ILSVRC2012's val images are.
  const valLabelOf = new Uint16Array(valCount);
  for (let n = 0; n < valCount; n++) valLabelOf[n] = n % classes;
  for (let i = valCount - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [valLabelOf[i], valLabelOf[j]] = [valLabelOf[j]!, valLabelOf[i]!];
  }
  const valPerClass = new Array<number>(classes).fill(0);
  const valLines: string[] = [];
  for (let n = 0; n < valCount; n++) {
    const name = `ILSVRC2012_val_${String(n + 1).padStart(8, '0')}.JPEG`;
    link(join(val, name));
    valLines.push(`${name} ${valLabelOf[n]}`);
    valPerClass[valLabelOf[n]!]!++;
  }
  const valLabels = join(options.out, 'val.txt');
  const words = join(options.out, 'words.txt');
  writeFileSync(valLabels, valLines.length ? `${valLines.join('\n')}\n` : '');
  writeFileSync(
    words,
    synsets.map((wnid, k) => `${wnid} synthetic class ${k}, tiny image ${k % 7}\n`).join(''),
  );
  if (linked !== total + valCount) throw new Error(`linked ${linked} files, expected ${total + valCount}`);
  return { train, val, valLabels, words, synsets, perClass, valPerClass };
}

/** `n` and 8 digits, distinct and sorted, spread like ILSVRC's (n01440764 ... n15075141). */
export function ilsvrcWnids(count: number, rng: Rng): string[] {
  const seen = new Set<string>();
  while (seen.size < count) seen.add(`n${String(1_000_000 + rng.nextInt(14_999_999)).padStart(8, '0')}`);
  return [...seen].sort();
}

/**
 * Per-class counts shaped like ILSVRC2012's: most classes full at 1,300, the rest down to 732, the
 * smallest exactly 732, adding up to 1,281,167 for 1,000 classes (scaled to other class counts).
 */
export function ilsvrcClassCounts(classes: number, rng: Rng): number[] {
  const { maxPerClass: max, minPerClass: min } = ILSVRC2012;
  const target = Math.round((ILSVRC2012.train * classes) / ILSVRC2012.classes);
  const counts = new Array<number>(classes).fill(max);
  let missing = max * classes - target;
  if (classes > 1 && missing >= max - min) {
    counts[rng.nextInt(classes)] = min; // ILSVRC2012's smallest class
    missing -= max - min;
  }
  while (missing > 0) {
    const k = rng.nextInt(classes);
    const cut = Math.min(missing, counts[k]! - min, 1 + rng.nextInt(300));
    counts[k]! -= cut;
    missing -= cut;
  }
  return counts;
}

/** Scales counts to add up to exactly `total` (largest remainders), at least one per class. */
export function scaleCounts(counts: number[], total: number): number[] {
  const sum = counts.reduce((a, b) => a + b, 0);
  if (sum === total) return counts;
  const exact = counts.map((c) => (c * (total - counts.length)) / sum);
  const scaled = exact.map((x) => 1 + Math.floor(x));
  let left = total - scaled.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, k) => ({ k, r: x - Math.floor(x) }))
    .sort((a, b) => b.r - a.r || a.k - b.k);
  for (let i = 0; left > 0; i++, left--) scaled[byRemainder[i % counts.length]!.k]!++;
  return scaled;
}

interface Pool {
  names: string[];
  files: Buffer[];
}

/** Distinct tiny JPEGs, 16 to 32 px a side: a gradient and a disc in seeded colours, with noise. */
async function imagePool(size: number, rng: Rng): Promise<Pool> {
  const names: string[] = [];
  const files: Buffer[] = [];
  for (let i = 0; i < size; i++) {
    const width = 16 + rng.nextInt(17);
    const height = 16 + rng.nextInt(17);
    const base = [rng.nextInt(256), rng.nextInt(256), rng.nextInt(256)];
    const spot = [rng.nextInt(256), rng.nextInt(256), rng.nextInt(256)];
    const cx = rng.nextInt(width);
    const cy = rng.nextInt(height);
    const r2 = (4 + rng.nextInt(8)) ** 2;
    const pixels = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inside = (x - cx) ** 2 + (y - cy) ** 2 < r2;
        for (let c = 0; c < 3; c++) {
          const value = (inside ? spot[c]! : base[c]! + (x * 4 - y * 2)) + (rng.nextInt(31) - 15);
          pixels[3 * (y * width + x) + c] = Math.max(0, Math.min(255, value));
        }
      }
    }
    names.push(`pool-${String(i).padStart(4, '0')}.JPEG`);
    files.push(
      await sharp(pixels, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  return { names, files };
}

async function writePool(dir: string, pool: Pool): Promise<void> {
  mkdirSync(dir, { recursive: true });
  pool.names.forEach((name, i) => {
    writeFileSync(join(dir, name), pool.files[i]!);
  });
}
