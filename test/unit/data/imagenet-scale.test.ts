// Prep and finalize at 200,000 list lines with a V8 heap too small to hold a line per image as
// objects and strings: a regression to keeping every line (or every listed file) fails here. The tree
// is ILSVRC-shaped (hack/sample-ilsvrc.ts) with a pool of 8 tiny images, so listing is what costs;
// prep writes one of 1,000 shards (200 images decoded), and finalize merges four shards' lists.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { generateIlsvrcTree, type IlsvrcTree } from '../../../hack/sample-ilsvrc.js';
import {
  type LabelsFile,
  labelsUri,
  listUri,
  markerUri,
  type ShardMarker,
  shardDbUri,
  sumsUri,
} from '../../../trainer/data/layout.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { encodedDatumBytes } from '../../../trainer/data/records.js';
import { CAFFE } from './prep-checks.js';

const LINES = 200_000;
/**
 * Old-space limits (MiB). Prep holds its compact lists (about 40 bytes per image, 8 MiB here) and
 * finalize a marker per shard; holding every line as strings and objects took 70 and 40 MiB of heap.
 */
const PREP_HEAP_MIB = 40;
const FINALIZE_HEAP_MIB = 24;

const work = mkdtempSync(join(tmpdir(), 'brewery-scale-'));
after(() => rmSync(work, { recursive: true, force: true }));
let tree: IlsvrcTree;

before(async () => {
  tree = await generateIlsvrcTree({ out: join(work, 'tree'), total: LINES, pool: 8, seed: 3 });
});

function runWithHeap(heapMiB: number, args: string[]) {
  return new Promise<{ code: number | null; stderr: string }>((resolveRun) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMiB}`, CAFFE, ...args]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.stdout.resume();
    child.on('close', (code) => resolveRun({ code, stderr }));
  });
}

test(`a prep worker lists and labels ${LINES} images within a ${PREP_HEAP_MIB} MiB heap`, async () => {
  const out = join(work, 'prep');
  const run = await runWithHeap(PREP_HEAP_MIB, [
    'imagenet',
    'prep',
    `--train=${tree.train}`,
    `--val=${tree.val}`,
    `--val-labels=${tree.valLabels}`,
    `--words=${tree.words}`,
    `--out=${out}`,
    '--size=16',
    '--shard-count=1000',
    '--shard-index=0',
    '--threads=2',
    '--progress-interval=600',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const marker = JSON.parse(readFileSync(markerUri(out, { split: 'train', index: 0, count: 1000 }), 'utf8'));
  assert.equal(marker.records, LINES / 1000);
  const lines = readFileSync(join(out, marker.list.file), 'utf8').trim().split('\n');
  assert.equal(lines.length, LINES / 1000);
  assert.deepEqual(lines, [...lines].sort());
  for (const line of lines) {
    const [rel, label] = line.split(' ');
    assert.equal(tree.synsets[Number(label)], rel!.split('/')[0], line);
  }
});

test(`finalize merges ${LINES} list lines from four shards within a ${FINALIZE_HEAP_MIB} MiB heap`, async () => {
  const out = join(work, 'finalize');
  const { perClass } = writeShards(out, 4);
  const run = await runWithHeap(FINALIZE_HEAP_MIB, ['imagenet', 'finalize', `--out=${out}`]);
  assert.equal(run.code, 0, run.stderr);
  const train = readFileSync(join(out, 'train.txt'), 'utf8');
  const lines = train.trim().split('\n');
  assert.equal(lines.length, LINES);
  for (let i = 1; i < lines.length; i++)
    assert.ok(lines[i - 1]! < lines[i]!, `line ${i + 1} is out of order`);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.splits.train.records, LINES);
  assert.deepEqual(
    manifest.splits.train.perClass,
    Object.fromEntries(tree.synsets.map((s, k) => [s, perClass[k]])),
  );
});

/**
 * A prepared dataset as `count` prep workers leave it: per shard an LMDB of one record, pixel sums,
 * its sorted list file and its marker. The tree's train images are dealt to the shards round-robin.
 */
function writeShards(out: string, count: number) {
  const names: string[][] = Array.from({ length: count }, () => []);
  const perClass = tree.perClass.map(() => 0);
  let n = 0;
  tree.synsets.forEach((wnid, k) => {
    for (let i = 0; i < tree.perClass[k]!; i++, n++) {
      names[n % count]!.push(`${wnid}/${wnid}_${i}.JPEG ${k}`);
      perClass[k]!++;
    }
  });
  const hash = 'a'.repeat(64);
  const labels: LabelsFile = { synsets: tree.synsets, splits: ['train'], unlabeled: [], options: {} };
  mkdirSync(join(out, 'shards'), { recursive: true });
  writeFileSync(labelsUri(out), JSON.stringify(labels));
  for (let index = 0; index < count; index++) {
    const id = { split: 'train' as const, index, count };
    const db = shardDbUri(out, id);
    const writer = new LmdbWriter(db);
    writer.put(Buffer.from('00000000_x'), encodedDatumBytes(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), 0));
    const stats = writer.finish();
    const sums = Buffer.from(new Float64Array(3 * 4 * 4).fill(100 * (index + 1)).buffer);
    writeFileSync(sumsUri(out, id), sums);
    const list = `${names[index]!.sort().join('\n')}\n`;
    writeFileSync(listUri(out, id), list);
    const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
    const labelCounts: Record<string, number> = {};
    for (const line of names[index]!) {
      const label = line.slice(line.lastIndexOf(' ') + 1);
      labelCounts[label] = (labelCounts[label] ?? 0) + 1;
    }
    const marker: ShardMarker = {
      ...id,
      optionsHash: hash,
      file: `train/${db.slice(db.lastIndexOf('/') + 1)}/data.mdb`,
      records: names[index]!.length,
      bytes: stats.fileSize,
      sha256: sha(readFileSync(join(db, 'data.mdb'))),
      labels: labelCounts,
      list: { file: listUri(out, id).slice(out.length + 1), lines: names[index]!.length, sha256: sha(list) },
      skipped: [],
      converted: [],
      sums: {
        file: sumsUri(out, id).slice(out.length + 1),
        channels: 3,
        height: 4,
        width: 4,
        sha256: sha(sums),
      },
    };
    writeFileSync(markerUri(out, id), JSON.stringify(marker));
  }
  return { perClass };
}
