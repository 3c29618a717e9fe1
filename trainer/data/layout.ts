// Where a prepared dataset keeps its parts:
//   <out>/train/shard-00000-of-00004/data.mdb   one LMDB per worker and split
//   <out>/val/shard-00000-of-00004/data.mdb
//   <out>/shards/train-00000-of-00004.json      the shard's completion marker, written last
//   <out>/shards/train-00000-of-00004.sum       the shard's pixel sums for the mean (train only)
//   <out>/shards/train-00000-of-00004.txt       the shard's list-file lines, sorted (finalize merges them)
//   <out>/shards/labels.json                    synsets and words, the same from every worker
//   <out>/mean.binaryproto, synsets.txt, synset_words.txt, train.txt, val.txt, manifest.json (finalize)
import { z } from 'zod';

import { parseRecord } from '../contract/records.js';
import { joinUri } from '../storage/index.js';

export type Split = 'train' | 'val';
export const SPLITS: readonly Split[] = ['train', 'val'];

export interface ShardId {
  split: Split;
  index: number;
  count: number;
}

/** Counts and checks of one finished shard, kept in its completion marker. */
export interface ShardMarker {
  split: Split;
  index: number;
  count: number;
  /** Hash of the options the shard was made with; a rerun with other options is refused. */
  optionsHash: string;
  /** Path of the shard's data.mdb relative to the output root. */
  file: string;
  records: number;
  bytes: number;
  sha256: string;
  /** Records per label. */
  labels: Record<string, number>;
  /**
   * The shard's list-file lines (`rel label`), sorted, in a file of their own: a marker stays small
   * whatever the shard holds, and finalize merges the files a line at a time.
   */
  list: { file: string; lines: number; sha256: string };
  skipped: { path: string; reason: string }[];
  converted: { path: string; from: string }[];
  /** Pixel sums for the mean (train only): a float64 C x H x W array in the .sum file. */
  sums?: { file: string; channels: number; height: number; width: number; sha256: string };
}

const count = z.number().int().nonnegative();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const shardMarkerSchema = z.looseObject({
  split: z.enum(['train', 'val']),
  index: count,
  count: z.number().int().positive(),
  optionsHash: z.string(),
  file: z.string().min(1),
  records: count,
  bytes: count,
  sha256,
  labels: z.record(z.string(), count),
  list: z.looseObject({ file: z.string().min(1), lines: count, sha256 }),
  skipped: z.array(z.looseObject({ path: z.string(), reason: z.string() })),
  converted: z.array(z.looseObject({ path: z.string(), from: z.string() })),
  sums: z
    .looseObject({
      file: z.string().min(1),
      channels: z.number().int().positive(),
      height: z.number().int().positive(),
      width: z.number().int().positive(),
      sha256,
    })
    .optional(),
});

/** A shard's completion marker from its JSON text; a damaged one is bad input naming the file and field. */
export function parseShardMarker(text: string, where: string): ShardMarker {
  return parseRecord(where, text, shardMarkerSchema) as ShardMarker;
}

/** What every worker knows alike: written by each, identically, before its shards. */
export interface LabelsFile {
  synsets: string[];
  words?: Record<string, string>;
  splits: Split[];
  /** Files left out before decoding (no label, not in a synset folder). */
  unlabeled: { split: Split; path: string; reason: string }[];
  options: Record<string, unknown>;
}

const split = z.enum(['train', 'val']);
/** labels.json as prep writes it; finalize reads it back (parseRecord names the file in its errors). */
export const labelsFileSchema = z.looseObject({
  synsets: z.array(z.string()),
  words: z.record(z.string(), z.string()).optional(),
  splits: z.array(split),
  unlabeled: z.array(z.looseObject({ split, path: z.string(), reason: z.string() })),
  options: z.record(z.string(), z.unknown()),
});

function pad(n: number): string {
  return String(n).padStart(5, '0');
}

export function shardName(id: ShardId): string {
  return `shard-${pad(id.index)}-of-${pad(id.count)}`;
}

export function shardDbUri(out: string, id: ShardId): string {
  return joinUri(out, id.split, shardName(id));
}

export function markerUri(out: string, id: ShardId): string {
  return joinUri(out, 'shards', `${id.split}-${pad(id.index)}-of-${pad(id.count)}.json`);
}

export function sumsUri(out: string, id: ShardId): string {
  return joinUri(out, 'shards', `${id.split}-${pad(id.index)}-of-${pad(id.count)}.sum`);
}

export function listUri(out: string, id: ShardId): string {
  return joinUri(out, 'shards', `${id.split}-${pad(id.index)}-of-${pad(id.count)}.txt`);
}

export function labelsUri(out: string): string {
  return joinUri(out, 'shards', 'labels.json');
}

/** The records [start, end) of the full list that worker `index` of `count` writes. */
export function sliceOf(total: number, index: number, count: number): { start: number; end: number } {
  return { start: Math.floor((index * total) / count), end: Math.floor(((index + 1) * total) / count) };
}

/** A DB key as convert_imageset makes it: the list index, zero-padded to 8 digits, `_`, the path. */
export function recordKey(index: number, rel: string): string {
  return `${String(index).padStart(8, '0')}_${rel}`;
}
