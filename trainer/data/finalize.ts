// `caffe imagenet finalize`: once every worker is done, checks that every shard is complete, merges
// the partial sums into mean.binaryproto, and writes the list files and the manifest. Nothing here
// holds a line per image: each list file is a merge of the shards' sorted lists, a line at a time.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';

import { DATASET_COUNTS_VERSION, type DatasetCounts } from '../contract/dataset-counts.js';
import { BadInputError } from '../contract/errors.js';
import { parseRecord } from '../contract/records.js';
import { joinUri, storageFor } from '../storage/index.js';
import {
  type LabelsFile,
  labelsFileSchema,
  labelsUri,
  markerUri,
  parseShardMarker,
  type ShardMarker,
  SPLITS,
  type Split,
} from './layout.js';
import { meanBlobBytes } from './records.js';
import { asciiCompare } from './scan.js';

export interface Manifest {
  format: 'brewery.imagenet/v1';
  options: Record<string, unknown>;
  synsets: number;
  splits: Record<string, { records: number; perClass: Record<string, number> }>;
  shards: { split: Split; index: number; file: string; records: number; bytes: number; sha256: string }[];
  skipped: { split: Split; path: string; reason: string }[];
  converted: { split: Split; path: string; from: string }[];
  mean: { file: string; channels: number; height: number; width: number; perChannel: number[] };
}

/** What the operator's status shows of the manifest, as the finalize step reports it. */
export function countsOf(manifest: Manifest): DatasetCounts {
  return {
    version: DATASET_COUNTS_VERSION,
    train: manifest.splits.train?.records ?? 0,
    val: manifest.splits.val?.records ?? 0,
    skipped: manifest.skipped.length,
    shards: manifest.shards.map((s) => s.file),
  };
}

const MARKER_NAME = /\/(train|val)-(\d+)-of-(\d+)\.json$/;

export async function runFinalize(out: string, log: (line: string) => void = console.log): Promise<Manifest> {
  const storage = storageFor(out);
  const labelsText = await storage.read(labelsUri(out)).catch(() => {
    throw new BadInputError('expected a dataset made by `caffe imagenet prep`: no shards/labels.json', out);
  });
  const labels = parseRecord(labelsUri(out), labelsText.toString(), labelsFileSchema) as LabelsFile;
  const markers = await readMarkers(out, labels.splits);
  const hashes = new Set(markers.map((m) => m.optionsHash));
  if (hashes.size !== 1)
    throw new BadInputError('shards were made with different options or file lists', out);
  for (const m of markers) {
    const stat = await storage.stat(joinUri(out, m.file));
    // The marker is written after its shard is published, so a shard of another size is damaged.
    if (stat?.size !== m.bytes) {
      throw new BadInputError(
        `expected ${m.bytes} bytes as its marker says, found ${stat ? stat.size : 'nothing'}`,
        joinUri(out, m.file),
      );
    }
  }
  const mean = await mergeMean(
    out,
    markers.filter((m) => m.split === 'train'),
  );
  const size = { channels: mean.channels, height: mean.height, width: mean.width };
  await storage.write(
    joinUri(out, 'mean.binaryproto'),
    meanBlobBytes(mean.data, size.channels, size.height, size.width),
  );
  const perChannel = channelMeans(mean.data, size.channels);
  perChannel.forEach((v, c) => {
    log(`mean_value channel [${c}]: ${v}`);
  });

  await storage.write(joinUri(out, 'synsets.txt'), lines(labels.synsets));
  if (labels.words) {
    const words = labels.words;
    await storage.write(
      joinUri(out, 'synset_words.txt'),
      lines(labels.synsets.map((s) => `${s} ${words[s] ?? ''}`)),
    );
  }
  const manifest: Manifest = {
    format: 'brewery.imagenet/v1',
    options: labels.options,
    synsets: labels.synsets.length,
    splits: {},
    shards: [],
    skipped: labels.unlabeled.map((u) => ({ split: u.split, path: u.path, reason: u.reason })),
    converted: [],
    mean: { file: 'mean.binaryproto', ...size, perChannel },
  };
  for (const split of labels.splits) {
    const shards = markers.filter((m) => m.split === split);
    const written = { lines: 0 };
    await storage.write(joinUri(out, `${split}.txt`), Readable.from(mergedLists(out, shards, written)));
    const perClass: Record<string, number> = {};
    for (const m of shards) {
      for (const [label, n] of Object.entries(m.labels)) {
        const wnid = labels.synsets[Number(label)]!;
        perClass[wnid] = (perClass[wnid] ?? 0) + n;
      }
      manifest.shards.push({
        split,
        index: m.index,
        file: m.file,
        records: m.records,
        bytes: m.bytes,
        sha256: m.sha256,
      });
      // One push per entry: push(...array) throws past about 100k arguments.
      for (const s of m.skipped) manifest.skipped.push({ split, ...s });
      for (const c of m.converted) manifest.converted.push({ split, ...c });
    }
    manifest.splits[split] = { records: written.lines, perClass: sortKeys(perClass) };
    log(`${split}: ${written.lines} records in ${shards.length} shards`);
  }
  const bySplitPath = (a: { split: string; path: string }, b: { split: string; path: string }) =>
    asciiCompare(a.split, b.split) || asciiCompare(a.path, b.path);
  manifest.skipped.sort(bySplitPath);
  manifest.converted.sort(bySplitPath);
  log(`skipped ${manifest.skipped.length} files, converted ${manifest.converted.length}`);
  await storage.write(joinUri(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * The shards' sorted list files merged into one sorted list, in chunks of text; each file's line
 * count and checksum are checked against its marker as it ends (a mismatch fails the write).
 */
async function* mergedLists(out: string, shards: ShardMarker[], written: { lines: number }) {
  const heads = await Promise.all(shards.map((m) => openList(out, m)));
  let chunk = '';
  for (;;) {
    let least: ListReader | undefined;
    for (const head of heads) {
      if (head.line !== undefined && (!least || asciiCompare(head.line, least.line!) < 0)) least = head;
    }
    if (!least) break;
    chunk += `${least.line}\n`;
    written.lines++;
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
    await least.next();
  }
  if (chunk.length > 0) yield chunk;
}

interface ListReader {
  /** The current line, or undefined once the file has ended. */
  line: string | undefined;
  next(): Promise<void>;
}

async function openList(out: string, marker: ShardMarker): Promise<ListReader> {
  const uri = joinUri(out, marker.list.file);
  const stream = await storageFor(out).readStream(uri);
  const hash = createHash('sha256');
  stream.on('data', (bytes: Buffer) => hash.update(bytes));
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })[
    Symbol.asyncIterator
  ]();
  let count = 0;
  const reader: ListReader = {
    line: undefined,
    async next() {
      const step = await lines.next();
      if (!step.done) {
        count++;
        reader.line = step.value;
        return;
      }
      reader.line = undefined;
      const sha256 = hash.digest('hex');
      if (count !== marker.list.lines || sha256 !== marker.list.sha256) {
        throw new BadInputError(
          `expected ${marker.list.lines} lines with sha256 ${marker.list.sha256} as its marker says, found ${count} with ${sha256}`,
          uri,
        );
      }
    },
  };
  await reader.next();
  return reader;
}

async function readMarkers(out: string, splits: Split[]): Promise<ShardMarker[]> {
  const storage = storageFor(out);
  const found = (await storage.list(joinUri(out, 'shards'))).flatMap((o) => {
    const m = MARKER_NAME.exec(o.uri);
    return m ? [{ split: m[1] as Split, index: Number(m[2]), count: Number(m[3]) }] : [];
  });
  const counts = new Set(found.map((f) => f.count));
  if (counts.size > 1)
    throw new BadInputError(`shards of different worker counts: ${[...counts].join(', ')}`, out);
  const count = found[0]?.count;
  if (count === undefined) throw new Error(`${out}: no finished shard yet`);
  const missing: string[] = [];
  const markers: ShardMarker[] = [];
  for (const split of SPLITS.filter((s) => splits.includes(s))) {
    for (let index = 0; index < count; index++) {
      const uri = markerUri(out, { split, index, count });
      if (!found.some((f) => f.split === split && f.index === index)) missing.push(uri);
      else markers.push(parseShardMarker((await storage.read(uri)).toString(), uri));
    }
  }
  if (missing.length > 0)
    throw new Error(`shards not finished yet (no completion marker): ${missing.join(', ')}`);
  return markers;
}

async function mergeMean(out: string, train: ShardMarker[]) {
  const first = train.find((m) => m.sums)?.sums;
  const records = train.reduce((n, m) => n + m.records, 0);
  if (!first || records === 0)
    throw new BadInputError('the train split has no records, so there is no mean', out);
  const total = new Float64Array(first.channels * first.height * first.width);
  for (const m of train) {
    if (!m.sums) throw new BadInputError('the shard has no pixel sums', joinUri(out, m.file));
    const uri = joinUri(out, m.sums.file);
    const bytes = await storageFor(out).read(uri);
    // The marker holds the sums' checksum: a damaged file is caught before its numbers are used.
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== m.sums.sha256) {
      throw new BadInputError(`expected sha256 ${m.sums.sha256} as its marker says, found ${actual}`, uri);
    }
    if (bytes.byteLength !== total.length * 8) {
      throw new BadInputError(`expected ${total.length} float64 sums, found ${bytes.byteLength} bytes`, uri);
    }
    const part = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    for (let i = 0; i < total.length; i++) total[i]! += part[i]!;
  }
  // Caffe compat: compute_image_mean sums in float32, which loses precision past 2^24 per element;
  // we sum in float64 and round once, so the mean is the exact one rounded to float32.
  const data = new Float32Array(total.length);
  for (let i = 0; i < total.length; i++) data[i] = total[i]! / records;
  return { ...first, data };
}

export function channelMeans(mean: Float32Array, channels: number): number[] {
  const area = mean.length / channels;
  return Array.from({ length: channels }, (_, c) => {
    let sum = 0;
    for (let i = 0; i < area; i++) sum += mean[c * area + i]!;
    return sum / area;
  });
}

function lines(items: string[]): string {
  return items.length === 0 ? '' : `${items.join('\n')}\n`;
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => asciiCompare(a, b)));
}
