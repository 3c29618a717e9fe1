import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { LmdbReader } from '../../../trainer/data/lmdb-reader.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import {
  readRawIndependently,
  skipUnlessIndependentReader,
  writeLmdbIndependently,
} from './independent-reader.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-lmdb-'));
after(() => rmSync(work, { recursive: true, force: true }));
const skip = skipUnlessIndependentReader();

/** Values of every size class: empty, inline, just past the inline limit, many overflow pages. */
function sampleRecords(count: number): { key: Buffer; value: Buffer }[] {
  return Array.from({ length: count }, (_, i) => {
    const size = i % 97 === 0 ? 70_000 + i : i % 13 === 0 ? 2_100 : (i * 31) % 300;
    const value = Buffer.alloc(size, (i * 11) % 256);
    return { key: Buffer.from(`${String(i).padStart(8, '0')}_n0${i % 10}/img_${i}.JPEG`), value };
  });
}

test('records written by LmdbWriter read back in key order through LmdbReader', async () => {
  const dir = join(work, 'ours-ours');
  const records = sampleRecords(5000);
  const writer = new LmdbWriter(dir);
  for (const r of records) writer.put(r.key, r.value);
  const stats = writer.finish();
  assert.equal(stats.entries, 5000);
  assert.ok(stats.depth >= 2, `5000 records should need a branch level, depth ${stats.depth}`);
  const reader = await LmdbReader.open(dir);
  assert.equal(reader.entries, 5000);
  let i = 0;
  for await (const r of reader.records()) {
    assert.deepEqual(r.key, records[i]!.key);
    assert.deepEqual(r.value, records[i]!.value, `value of record ${i}`);
    i++;
  }
  assert.equal(i, 5000);
  await reader.close();
});

test('an empty database has no records', async () => {
  const dir = join(work, 'empty');
  new LmdbWriter(dir).finish();
  const reader = await LmdbReader.open(dir);
  const keys = [];
  for await (const entry of reader.index()) keys.push(entry.key);
  assert.deepEqual(keys, []);
  await reader.close();
});

test('keys out of order are refused with both keys named', () => {
  const writer = new LmdbWriter(join(work, 'order'));
  writer.put(Buffer.from('b'), Buffer.from('1'));
  assert.throws(() => writer.put(Buffer.from('a'), Buffer.from('2')), /'a' does not sort after 'b'/);
});

test('python3-lmdb (LMDB 0.9) reads what LmdbWriter wrote', { skip }, () => {
  const dir = join(work, 'ours-python');
  const records = sampleRecords(3000);
  const writer = new LmdbWriter(dir);
  for (const r of records) writer.put(r.key, r.value);
  writer.finish();
  const read = readRawIndependently(dir);
  assert.equal(read.length, records.length);
  read.forEach((r, i) => {
    assert.equal(r.key, records[i]!.key.toString());
    assert.deepEqual(r.value, records[i]!.value, `value of record ${i}`);
  });
});

test('LmdbReader reads what python3-lmdb wrote', { skip }, async () => {
  const dir = join(work, 'python-ours');
  writeLmdbIndependently(dir, 2500);
  const reader = await LmdbReader.open(dir);
  let i = 0;
  for await (const r of reader.records()) {
    assert.equal(r.key.toString(), String(i).padStart(8, '0'));
    assert.deepEqual(r.value, Buffer.alloc((i * 37) % 9000, (i * 7) % 256), `value of record ${i}`);
    i++;
  }
  assert.equal(i, 2500);
  await reader.close();
});
