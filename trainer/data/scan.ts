// Finds the images of an ImageNet-layout tree and gives each its label, as Caffe's ImageNet recipe
// does: synset folders sorted in ASCII order and numbered from 0.
//   train/<wnid>/*.JPEG
//   val/*.JPEG with a label file of `NAME LABEL` (Caffe's val.txt) or `NAME WNID` lines, or val/<wnid>/*
import { resolve } from 'node:path';

import { BadInputError } from '../contract/errors.js';
import { readText } from '../files.js';
import { isS3Uri, storageFor } from '../storage/index.js';

export interface SourceImage {
  /** Path relative to the split's root: `n01440764/n01440764_10026.JPEG`. Also the DB key's tail. */
  rel: string;
  uri: string;
  label: number;
}

export interface ScanResult {
  synsets: string[];
  train: SourceImage[];
  val: SourceImage[];
  /** Files found but not usable before any decoding (no label, not in a synset folder). */
  unlabeled: { split: 'train' | 'val'; path: string; reason: string }[];
}

export interface ScanOptions {
  train: string;
  val?: string;
  valLabels?: string;
}

export async function scanImagenet(options: ScanOptions): Promise<ScanResult> {
  const unlabeled: ScanResult['unlabeled'] = [];
  const trainFiles = await listRelative(options.train);
  const synsets = [
    ...new Set(trainFiles.filter((f) => f.rel.includes('/')).map((f) => f.rel.split('/')[0]!)),
  ];
  synsets.sort(asciiCompare);
  if (synsets.length === 0) {
    throw new BadInputError('expected synset folders (train/<wnid>/*.JPEG), found none', options.train);
  }
  const labelOf = new Map(synsets.map((s, i) => [s, i]));
  const train: SourceImage[] = [];
  for (const file of trainFiles) {
    const parts = file.rel.split('/');
    if (parts.length !== 2)
      unlabeled.push({ split: 'train', path: file.rel, reason: 'not in a synset folder' });
    else train.push({ ...file, label: labelOf.get(parts[0]!)! });
  }
  const val: SourceImage[] = [];
  if (options.val) {
    const valFiles = await listRelative(options.val);
    const labels = options.valLabels
      ? parseLabelFile(await readText(options.valLabels), synsets, options.valLabels)
      : undefined;
    for (const file of valFiles) {
      const parts = file.rel.split('/');
      const label = labels ? labels.get(file.rel) : parts.length === 2 ? labelOf.get(parts[0]!) : undefined;
      if (label !== undefined) val.push({ ...file, label });
      else {
        const reason = labels
          ? `no line in ${options.valLabels}`
          : 'not in a synset folder of the train split';
        unlabeled.push({ split: 'val', path: file.rel, reason });
      }
    }
  }
  return { synsets, train, val, unlabeled };
}

/**
 * Parses a label file: one `NAME LABEL` or `NAME WNID` per line, split at the last space as Caffe does.
 * Numeric labels must be below the class count; wnids must be among the train synsets.
 */
export function parseLabelFile(text: string, synsets: string[], where: string): Map<string, number> {
  const labelOf = new Map(synsets.map((s, i) => [s, i]));
  const labels = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const space = line.lastIndexOf(' ');
    if (space <= 0) throw new BadInputError(`expected 'NAME LABEL', received '${line}'`, `${where}:${i + 1}`);
    const name = line.slice(0, space).trim();
    const value = line.slice(space + 1);
    const label = /^\d+$/.test(value) ? Number(value) : labelOf.get(value);
    if (label === undefined || label >= synsets.length) {
      throw new BadInputError(
        `expected a label below ${synsets.length} or a train synset, received '${value}'`,
        `${where}:${i + 1}`,
      );
    }
    labels.set(name, label);
  });
  return labels;
}

/** Parses a words file (`WNID words, more words` per line) into a map. */
export function parseWordsFile(text: string): Map<string, string> {
  const words = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const space = line.search(/\s/);
    if (space < 0) words.set(line, '');
    else words.set(line.slice(0, space), line.slice(space + 1).trim());
  }
  return words;
}

/** Byte-wise comparison, as C's strcmp and Python's sort order of ASCII names. */
export function asciiCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every file below `root` as a path relative to it; hidden files are left out. */
async function listRelative(root: string): Promise<{ rel: string; uri: string }[]> {
  const base = isS3Uri(root) ? root.replace(/\/+$/, '') : resolve(root);
  const objects = await storageFor(base).list(base);
  return objects
    .map((o) => ({ rel: o.uri.slice(base.length + 1), uri: o.uri }))
    .filter((f) => !f.rel.split('/').some((part) => part.startsWith('.')))
    .sort((a, b) => asciiCompare(a.rel, b.rel));
}
