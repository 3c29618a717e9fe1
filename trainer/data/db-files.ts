// LMDB folders at local paths or s3:// URIs: the LMDB format needs a seekable local file, so an S3
// database is built in (or fetched into) a local temp folder and moved as one object, data.mdb.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isS3Uri, joinUri, localPath, storageFor } from '../storage/index.js';
import { LmdbWriter } from './lmdb-writer.js';

/** A new LMDB at `dbUri`; the returned `finish` publishes it (for S3: uploads data.mdb, atomically). */
export async function createDb(dbUri: string): Promise<{ writer: LmdbWriter; finish(): Promise<number> }> {
  if (!isS3Uri(dbUri)) {
    const writer = new LmdbWriter(localPath(dbUri));
    return { writer, finish: async () => writer.finish().entries };
  }
  if ((await storageFor(dbUri).list(dbUri)).length > 0)
    throw new Error(`${dbUri}: the database already exists`);
  const temp = join(tmpdir(), `brewery-db-${randomBytes(6).toString('hex')}`);
  await mkdir(temp, { recursive: true });
  const writer = new LmdbWriter(join(temp, 'lmdb'));
  return {
    writer,
    async finish() {
      const entries = writer.finish().entries;
      await storageFor(dbUri).putFile(join(temp, 'lmdb', 'data.mdb'), joinUri(dbUri, 'data.mdb'), {
        move: true,
      });
      await rm(temp, { recursive: true, force: true });
      return entries;
    },
  };
}

/** A local LMDB folder holding the database at `dbUri`; `release` removes any downloaded copy. */
export async function localDb(
  dbUri: string,
  cacheDir?: string,
): Promise<{ path: string; release(): Promise<void> }> {
  if (!isS3Uri(dbUri)) return { path: localPath(dbUri), release: async () => {} };
  const folder = join(cacheDir ?? tmpdir(), `brewery-db-${randomBytes(6).toString('hex')}`);
  await storageFor(dbUri).getFile(joinUri(dbUri, 'data.mdb'), join(folder, 'data.mdb'));
  return { path: folder, release: () => rm(folder, { recursive: true, force: true }) };
}
