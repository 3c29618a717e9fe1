import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { BROKEN_KINDS, generateSampleImagenet, type SampleOptions } from '../../../hack/sample-imagenet.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-sample-'));
after(() => rmSync(work, { recursive: true, force: true }));

const options = (out: string, seed: number): SampleOptions => ({
  out: join(work, out),
  classes: 3,
  perClass: 2,
  valPerClass: 1,
  seed,
  width: 32,
  height: 24,
  brokenPerKind: 1,
});

function contents(root: string, tree: Awaited<ReturnType<typeof generateSampleImagenet>>): Buffer[] {
  return tree.files.map((f) => readFileSync(join(root, f.split, f.rel)));
}

test('the same seed writes the same files, byte for byte; another seed does not', async () => {
  const a = await generateSampleImagenet(options('a', 5));
  const b = await generateSampleImagenet(options('b', 5));
  const c = await generateSampleImagenet(options('c', 6));
  assert.deepEqual(a.files, b.files);
  assert.deepEqual(contents(join(work, 'a'), a), contents(join(work, 'b'), b));
  assert.deepEqual(readFileSync(a.valLabels, 'utf8'), readFileSync(b.valLabels, 'utf8'));
  assert.notDeepEqual(contents(join(work, 'a'), a), contents(join(work, 'c'), c));
});

test('the tree has every broken kind in both splits, and labels by sorted synset', async () => {
  const tree = await generateSampleImagenet(options('d', 1));
  for (const split of ['train', 'val'] as const) {
    const kinds = new Set(tree.files.filter((f) => f.split === split && f.broken).map((f) => f.broken));
    assert.deepEqual([...kinds].sort(), [...BROKEN_KINDS].sort(), split);
  }
  assert.deepEqual(tree.synsets, [...tree.synsets].sort());
  const lines = readFileSync(tree.valLabels, 'utf8').trim().split('\n');
  const valFiles = tree.files.filter((f) => f.split === 'val');
  lines.forEach((line, i) => {
    assert.equal(line, `${valFiles[i]!.rel} ${tree.synsets.indexOf(valFiles[i]!.wnid)}`);
  });
});
