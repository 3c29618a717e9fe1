// Finds the images of an ImageNet-layout tree and gives each its label, as Caffe's ImageNet recipe
// does: synset folders sorted in ASCII order and numbered from 0.
//   train/<wnid>/*.JPEG
//   val/*.JPEG with a label file of `NAME LABEL` (Caffe's val.txt) or `NAME WNID` lines, or val/<wnid>/*
import { resolve } from 'node:path';

import { BadInputError } from '../contract/errors.js';
import { readText } from '../files.js';
import { isS3Uri, storageFor } from '../storage/index.js';
import { asciiCompare, type ImageList, ImageListBuilder } from './image-list.js';

export { asciiCompare, type SourceImage } from './image-list.js';

export interface ScanResult {
  synsets: string[];
  /** Sorted by path. */
  train: ImageList;
  val: ImageList;
  /** Files found but not usable before any decoding (no label, not in a synset folder). */
  unlabeled: { split: 'train' | 'val'; path: string; reason: string }[];
}

export interface ScanOptions {
  train: string;
  val?: string;
  valLabels?: string;
}

/** Lists and labels both splits, one listing page at a time into compact lists. */
export async function scanImagenet(options: ScanOptions): Promise<ScanResult> {
  const unlabeled: ScanResult['unlabeled'] = [];
  // Synsets are known only once the whole train tree is listed, so images are first numbered by the
  // order their folder was found in, then relabelled by the sorted synsets.
  const found = new Map<string, number>();
  const trainRoot = rootOf(options.train);
  const train = new ImageListBuilder();
  for await (const rel of walkRelative(trainRoot)) {
    const slash = rel.indexOf('/');
    if (slash < 0) {
      unlabeled.push({ split: 'train', path: rel, reason: 'not in a synset folder' });
      continue;
    }
    const folder = rel.slice(0, slash);
    let k = found.get(folder);
    if (k === undefined) {
      k = found.size;
      found.set(folder, k);
    }
    if (rel.indexOf('/', slash + 1) >= 0)
      unlabeled.push({ split: 'train', path: rel, reason: 'not in a synset folder' });
    else train.add(rel, k);
  }
  const synsets = [...found.keys()].sort(asciiCompare);
  if (synsets.length === 0) {
    throw new BadInputError('expected synset folders (train/<wnid>/*.JPEG), found none', options.train);
  }
  const labelOf = new Map(synsets.map((s, i) => [s, i]));
  const finalLabel = new Int32Array(found.size);
  for (const [folder, k] of found) finalLabel[k] = labelOf.get(folder)!;
  train.relabel(finalLabel);

  const valRoot = options.val ? rootOf(options.val) : '';
  const val = new ImageListBuilder();
  if (options.val) {
    const labels = options.valLabels
      ? parseLabelFile(await readText(options.valLabels), synsets, options.valLabels)
      : undefined;
    for await (const rel of walkRelative(valRoot)) {
      const parts = rel.split('/');
      const label = labels ? labels.get(rel) : parts.length === 2 ? labelOf.get(parts[0]!) : undefined;
      if (label !== undefined) val.add(rel, label);
      else {
        const reason = labels
          ? `no line in ${options.valLabels}`
          : 'not in a synset folder of the train split';
        unlabeled.push({ split: 'val', path: rel, reason });
      }
    }
  }
  return { synsets, train: train.build(trainRoot), val: val.build(valRoot), unlabeled };
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

function rootOf(root: string): string {
  return isS3Uri(root) ? root.replace(/\/+$/, '') : resolve(root);
}

/** Every file below `root` as a path relative to it, in path order; hidden files are left out. */
async function* walkRelative(base: string): AsyncGenerator<string> {
  for await (const uri of storageFor(base).walk(base)) {
    const rel = uri.slice(base.length + 1);
    if (!rel.split('/').some((part) => part.startsWith('.'))) yield rel;
  }
}
