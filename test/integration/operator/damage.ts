// Damages one record of an LMDB shard in the object server, the way a bad disk or a botched copy
// would: the record's Datum still parses, but the JPEG inside it no longer decodes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { LmdbReader } from '../../../trainer/data/lmdb-reader.js';
import type { storageFor as StorageFor } from '../../../trainer/storage/index.js';

/** Overwrites the JPEG header of record `index` of `shard`/data.mdb; returns the record's key. */
export async function damageRecord(
  storageFor: typeof StorageFor,
  shard: string,
  index: number,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'brewery-damage-'));
  try {
    const file = join(dir, 'data.mdb');
    await storageFor(shard).getFile(`${shard}/data.mdb`, file);
    const reader = await LmdbReader.open(file);
    let entry: Awaited<ReturnType<typeof nthEntry>>;
    try {
      entry = await nthEntry(reader, index);
    } finally {
      await reader.close();
    }
    const bytes = readFileSync(file);
    const value = bytes.subarray(entry.offset, entry.offset + entry.length);
    const jpeg = value.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
    if (jpeg < 0) throw new Error(`record ${entry.key} holds no JPEG`);
    value.fill(0, jpeg + 2, jpeg + 40); // past SOI: the markers and tables are gone
    writeFileSync(file, bytes);
    await storageFor(shard).putFile(file, `${shard}/data.mdb`);
    return entry.key.toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function nthEntry(reader: LmdbReader, index: number) {
  let i = 0;
  for await (const entry of reader.index()) if (i++ === index) return entry;
  throw new Error(`the shard has fewer than ${index + 1} records`);
}
