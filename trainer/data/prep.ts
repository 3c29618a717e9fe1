// `caffe imagenet prep`: worker I of N turns its slice of each split into one LMDB shard of Datum
// records, plus the pixel sums of its train slice for the mean. Each shard is built in a local temp
// folder, published atomically, and marked complete last; a rerun skips marked shards and rebuilds
// an unmarked one from scratch, so a restarted worker redoes at most its own unfinished shard.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { BadInputError } from '../contract/errors.js';
import { readText } from '../files.js';
import { Rng } from '../rng.js';
import { isS3Uri, joinUri, storageFor } from '../storage/index.js';
import { MIN_IMAGE_MS, type Pace, paceFromEnv } from '../test-pace.js';
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
import { parseWordsFile, type SourceImage, scanImagenet } from './scan.js';

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
  const lists: Record<Split, SourceImage[]> = { train: scan.train, val: scan.val };
  // Every worker shuffles the same sorted lists with the same seed, so slices never overlap.
  const rng = new Rng(options.shuffleSeed);
  for (const split of splits) rng.shuffle(lists[split]);
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
  for (const split of splits) {
    const id: ShardId = { split, index: options.shardIndex, count: options.shardCount };
    markers.push(await prepShard(options, id, lists[split], optionsHash(options, lists), pace));
  }
  return markers;
}

async function prepShard(
  options: PrepOptions,
  id: ShardId,
  list: SourceImage[],
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
  const { start, end } = sliceOf(list.length, id.index, id.count);
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
    lines: [],
    skipped: [],
    converted: [],
  };
  const progress = new Progress(
    { phase: 'prep', split: id.split, shard: id.index, total: end - start },
    { intervalSeconds: options.progressIntervalSeconds },
  );
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
    result.lines.push(`${item.rel} ${item.label}`);
    progress.tick(false);
  };
  // A window of images in flight, written in list order: memory stays bounded by the window.
  const window: Promise<Outcome>[] = [];
  for (let i = start; i < end; i++) {
    await pace?.next();
    window.push(prepareImage(list[i]!, options, sums !== undefined));
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

/** Identifies the options and the exact file lists, so all shards of one dataset agree. */
function optionsHash(options: PrepOptions, lists: Record<Split, SourceImage[]>): string {
  const hash = createHash('sha256').update(JSON.stringify(publicOptions(options)));
  for (const split of ['train', 'val'] as const) {
    for (const item of lists[split]) hash.update(`${split}\t${item.rel}\t${item.label}\n`);
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
