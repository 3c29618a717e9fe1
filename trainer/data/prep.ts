// `caffe imagenet prep`: worker I of N turns its slice of each split into one LMDB shard of Datum
// records, plus the pixel sums of its train slice for the mean. Each shard is built in a local temp
// folder, published atomically, and marked complete last; a rerun skips marked shards and rebuilds
// an unmarked one from scratch, so a restarted worker redoes at most its own unfinished shard.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { BadInputError } from '../contract/errors.js';
import { readText } from '../files.js';
import { Rng } from '../rng.js';
import { isS3Uri, joinUri, storageFor } from '../storage/index.js';
import { MIN_IMAGE_MS, type Pace, paceFromEnv } from '../test-pace.js';
import type { ImageList, SourceImage } from './image-list.js';
import {
  addInterleavedInto,
  decodeImage,
  decodeInterleaved,
  describeSource,
  type InterleavedImage,
  type ResizeMode,
  resizeToJpeg,
} from './images.js';
import {
  type LabelsFile,
  labelsUri,
  listUri,
  markerUri,
  parseShardMarker,
  recordKey,
  type ShardId,
  type ShardMarker,
  type Split,
  shardDbUri,
  shardName,
  sliceOf,
  sumsUri,
} from './layout.js';
import { LmdbWriter } from './lmdb-writer.js';
import { Progress } from './progress.js';
import { encodedDatumBytes, rawDatumBytes } from './records.js';
import { parseWordsFile, scanImagenet } from './scan.js';

export interface PrepOptions {
  train: string;
  val?: string;
  valLabels?: string;
  words?: string;
  out: string;
  /** Output side in pixels (default 256). */
  size: number;
  resize: ResizeMode;
  /** Store JPEG bytes (default) or raw planar BGR. */
  encoded: boolean;
  /** JPEG quality of encoded records (default 95, OpenCV's imencode default). */
  quality: number;
  shuffleSeed: number;
  shardCount: number;
  shardIndex: number;
  /** Images decoded at once (default: the core count). */
  threads: number;
  progressIntervalSeconds: number;
}

type Outcome =
  | {
      ok: true;
      item: SourceImage;
      datum: Uint8Array;
      /** For the mean: what a reader decodes from the record (encoded), or its planar pixels (raw). */
      decoded?: InterleavedImage;
      pixels?: Uint8Array;
      converted?: string;
    }
  | { ok: false; item: SourceImage; reason: string };

export async function runPrep(options: PrepOptions): Promise<ShardMarker[]> {
  const scan = await scanImagenet(options);
  const words = options.words ? Object.fromEntries(parseWordsFile(await readText(options.words))) : undefined;
  const splits: Split[] = options.val ? ['train', 'val'] : ['train'];
  const lists: Record<Split, ImageList> = { train: scan.train, val: scan.val };
  // Every worker shuffles the same sorted lists with the same seed, so slices never overlap. The
  // shuffle moves list positions, not images: the same draws as Rng.shuffle of the images.
  const rng = new Rng(options.shuffleSeed);
  const orders: Record<Split, Uint32Array> = {
    train: identity(scan.train.length),
    val: identity(scan.val.length),
  };
  for (const split of splits) shuffleInPlace(rng, orders[split]);
  const labels: LabelsFile = {
    synsets: scan.synsets,
    ...(words ? { words: Object.fromEntries(scan.synsets.map((s) => [s, words[s] ?? ''])) } : {}),
    splits,
    unlabeled: scan.unlabeled,
    options: publicOptions(options),
  };
  await storageFor(options.out).write(labelsUri(options.out), `${JSON.stringify(labels, null, 1)}\n`);
  const pace = paceFromEnv(MIN_IMAGE_MS, 'image', (message) => process.stderr.write(`${message}\n`));
  const markers: ShardMarker[] = [];
  const hash = optionsHash(options, lists, orders);
  for (const split of splits) {
    const id: ShardId = { split, index: options.shardIndex, count: options.shardCount };
    markers.push(await prepShard(options, id, { list: lists[split], order: orders[split] }, hash, pace));
  }
  return markers;
}

async function prepShard(
  options: PrepOptions,
  id: ShardId,
  { list, order }: { list: ImageList; order: Uint32Array },
  hash: string,
  pace: Pace | undefined,
) {
  const storage = storageFor(options.out);
  const marker = markerUri(options.out, id);
  const existing = await storage.stat(marker);
  if (existing) {
    const done = parseShardMarker((await storage.read(marker)).toString(), marker);
    if (done.optionsHash !== hash) {
      throw new BadInputError(
        `shard ${shardName(id)} was made with other options or another file list; use a new --out`,
        marker,
      );
    }
    return done;
  }
  const { start, end } = sliceOf(order.length, id.index, id.count);
  const temp = tempFolder(options.out, id);
  await rm(temp, { recursive: true, force: true }); // what a killed run left behind
  await mkdir(temp, { recursive: true });
  const writer = new LmdbWriter(join(temp, 'lmdb'));
  const sumsShape = { channels: 3, height: options.size, width: options.size };
  const sums = id.split === 'train' ? new Float64Array(3 * options.size * options.size) : undefined;
  const result: ShardMarker = {
    ...id,
    optionsHash: hash,
    file: joinUri(id.split, shardName(id), 'data.mdb'),
    records: 0,
    bytes: 0,
    sha256: '',
    labels: {},
    list: {
      file: listUri(options.out, id).slice(options.out.replace(/\/+$/, '').length + 1),
      lines: 0,
      sha256: '',
    },
    skipped: [],
    converted: [],
  };
  const progress = new Progress(
    { phase: 'prep', split: id.split, shard: id.index, total: end - start },
    { intervalSeconds: options.progressIntervalSeconds },
  );
  // Which records of the slice were kept: their list-file lines are written once the shard is done.
  const kept = new Uint8Array(end - start);
  const handle = (outcome: Outcome, index: number) => {
    const { item } = outcome;
    if (!outcome.ok) {
      result.skipped.push({ path: item.rel, reason: outcome.reason });
      progress.tick(true);
      return;
    }
    writer.put(Buffer.from(recordKey(index, item.rel)), outcome.datum);
    if (sums && outcome.pixels) addInto(sums, outcome.pixels);
    if (sums && outcome.decoded) addInterleavedInto(sums, outcome.decoded);
    if (outcome.converted) result.converted.push({ path: item.rel, from: outcome.converted });
    result.labels[item.label] = (result.labels[item.label] ?? 0) + 1;
    kept[index - start] = 1;
    progress.tick(false);
  };
  // A window of images in flight, written in list order: memory stays bounded by the window.
  const window: Promise<Outcome>[] = [];
  for (let i = start; i < end; i++) {
    await pace?.next();
    window.push(prepareImage(list.item(order[i]!), options, sums !== undefined));
    if (window.length >= options.threads * 2) handle(await window.shift()!, i - window.length);
  }
  for (let i = end - window.length; i < end; i++) handle(await window.shift()!, i);
  progress.finish();
  const stats = writer.finish();
  result.records = stats.entries;
  result.bytes = stats.fileSize;
  result.sha256 = await sha256File(join(temp, 'lmdb', 'data.mdb'));
  await storage.putFile(join(temp, 'lmdb', 'data.mdb'), joinUri(shardDbUri(options.out, id), 'data.mdb'), {
    move: true,
  });
  if (sums) {
    const bytes = Buffer.from(sums.buffer, sums.byteOffset, sums.byteLength);
    await storage.write(sumsUri(options.out, id), bytes);
    const file = sumsUri(options.out, id).slice(options.out.replace(/\/+$/, '').length + 1);
    result.sums = { file, ...sumsShape, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  result.list = {
    ...result.list,
    ...writeSortedList(join(temp, 'list.txt'), list, order.subarray(start, end), kept),
  };
  await storage.putFile(join(temp, 'list.txt'), listUri(options.out, id), { move: true });
  await storage.write(marker, `${JSON.stringify(result)}\n`); // last: the shard now counts as done
  await rm(temp, { recursive: true, force: true });
  await rmdir(dirname(temp)).catch(() => {}); // the temp parent, once no shard uses it
  return result;
}

/** Reads, decodes, resizes and encodes one image; an unreadable file becomes a skip, not an error. */
async function prepareImage(item: SourceImage, options: PrepOptions, forMean: boolean): Promise<Outcome> {
  const bytes = await storageFor(item.uri).read(item.uri); // I/O errors stop the run: a retry may fix them
  if (bytes.length === 0) return { ok: false, item, reason: 'empty file' };
  const converted = describeSource(bytes);
  try {
    if (options.encoded) {
      const jpeg = await resizeToJpeg(bytes, options.size, options.resize, options.quality);
      // The mean is over what a reader decodes from the records, as compute_image_mean computes it.
      const decoded = forMean ? await decodeInterleaved(jpeg, { offThread: true }) : undefined;
      return { ok: true, item, datum: encodedDatumBytes(jpeg, item.label), decoded, converted };
    }
    const size = options.size;
    const image = await decodeImage(bytes, { width: size, height: size, mode: options.resize });
    const datum = rawDatumBytes(image.pixels, 3, size, size, item.label);
    return { ok: true, item, datum, pixels: image.pixels, converted };
  } catch (error) {
    // A BadInputError from images.ts already says why no decoder can read it.
    const message = (error as Error).message.split('\n')[0] ?? '';
    const reason = error instanceof BadInputError ? message : `no decoder can read it: ${message}`;
    return { ok: false, item, reason };
  }
}

/**
 * Writes the kept records' `rel label` lines in path order (the list is sorted by path, so sorting
 * list positions sorts the lines), a chunk at a time; returns their count and checksum.
 */
function writeSortedList(path: string, list: ImageList, slice: Uint32Array, kept: Uint8Array) {
  const positions = slice.filter((_, i) => kept[i] === 1).sort();
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    let chunk = '';
    const flush = () => {
      const bytes = Buffer.from(chunk);
      hash.update(bytes);
      writeSync(fd, bytes);
      chunk = '';
    };
    for (const i of positions) {
      chunk += `${list.rel(i)} ${list.label(i)}\n`;
      if (chunk.length >= 1 << 16) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { lines: positions.length, sha256: hash.digest('hex') };
}

function identity(length: number): Uint32Array {
  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  return order;
}

/** Rng.shuffle's Fisher-Yates, draw for draw, over a typed array. */
function shuffleInPlace(rng: Rng, items: Uint32Array): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const swap = items[i]!;
    items[i] = items[j]!;
    items[j] = swap;
  }
}

function addInto(sums: Float64Array, pixels: Uint8Array): void {
  for (let i = 0; i < sums.length; i++) sums[i]! += pixels[i]!;
}

function tempFolder(out: string, id: ShardId): string {
  const name = `${id.split}-${shardName(id)}`;
  if (!isS3Uri(out)) return join(resolve(out), '.tmp', name);
  const tag = createHash('sha256').update(out).digest('hex').slice(0, 12);
  return join(tmpdir(), `brewery-prep-${tag}`, name);
}

function publicOptions(options: PrepOptions) {
  const { size, resize, encoded, quality, shuffleSeed, shardCount } = options;
  return { size, resize, encoded, quality, shuffleSeed, shardCount };
}

/** Identifies the options and the exact file lists (in shuffled order), so all shards of one dataset agree. */
function optionsHash(
  options: PrepOptions,
  lists: Record<Split, ImageList>,
  orders: Record<Split, Uint32Array>,
): string {
  const hash = createHash('sha256').update(JSON.stringify(publicOptions(options)));
  for (const split of ['train', 'val'] as const) {
    let chunk = '';
    for (const i of orders[split]) {
      chunk += `${split}\t${lists[split].rel(i)}\t${lists[split].label(i)}\n`;
      if (chunk.length >= 1 << 16) {
        hash.update(chunk);
        chunk = '';
      }
    }
    hash.update(chunk);
  }
  return hash.digest('hex');
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolveHash(hash.digest('hex')));
  });
}
