// Damaged LMDB shards through LmdbReader (index and values), property-based: every copy reads, or
// fails with a BadInputError naming the file and the page or record; never another exception or a
// hang (the walk is bounded by the file's pages). Pure JavaScript, so it runs in the test process.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import fc from 'fast-check';

import { PAGE_SIZE, PageFlag } from '../../../trainer/data/lmdb-format.js';
import { LmdbReader } from '../../../trainer/data/lmdb-reader.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { applyDamage, damageOf, fuzzParameters, parsesOrNamesThePlace } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-fuzz-lmdb-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A shard of 400 records of every size class (inline, just past inline, several overflow pages). */
function pristineShard(): Buffer {
  const dir = join(work, 'pristine');
  const writer = new LmdbWriter(dir);
  for (let i = 0; i < 400; i++) {
    const size = i % 50 === 0 ? 9000 + i : i % 7 === 0 ? 2100 : (i * 37) % 700;
    writer.put(Buffer.from(`${String(i).padStart(8, '0')}_n0${i % 10}/img_${i}.JPEG`), Buffer.alloc(size, i));
  }
  writer.finish();
  return readFileSync(join(dir, 'data.mdb'));
}

/** The byte ranges of the meta, branch and leaf pages: where the structure is. */
function treePages(file: Buffer): [number, number][] {
  const ranges: [number, number][] = [[0, 2 * PAGE_SIZE]];
  for (let page = 2; page * PAGE_SIZE < file.length; ) {
    const flags = file.readUInt16LE(page * PAGE_SIZE + 10);
    if (flags & PageFlag.Overflow) page += file.readUInt32LE(page * PAGE_SIZE + 12);
    else ranges.push([page * PAGE_SIZE, ++page * PAGE_SIZE]);
  }
  return ranges;
}

async function readEverything(dir: string): Promise<void> {
  const reader = await LmdbReader.open(dir);
  try {
    for await (const entry of reader.index()) await reader.read(entry);
  } finally {
    await reader.close();
  }
}

test('a damaged LMDB shard reads, or fails naming the file and the page or record', async () => {
  const pristine = pristineShard();
  const dir = join(work, 'damaged');
  mkdirSync(dir);
  await fc.assert(
    fc.asyncProperty(damageOf(pristine.length, treePages(pristine)), async (damage) => {
      writeFileSync(join(dir, 'data.mdb'), applyDamage(pristine, damage));
      await parsesOrNamesThePlace(
        () => readEverything(dir),
        /damaged\/data\.mdb(: (meta page [01]|page \d+|record '[^']*'|page \d+: record '[^']*'))?$/,
      );
    }),
    fuzzParameters(300),
  );
});
