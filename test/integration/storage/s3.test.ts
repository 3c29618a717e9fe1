import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';

import { S3Client } from '@aws-sdk/client-s3';

import { s3ConfigFromEnv } from '../../../trainer/storage/index.js';
import { S3Storage } from '../../../trainer/storage/s3.js';
import { type ObjectStore, objectStore, objectStoreMissing } from '../../support/object-store.js';

const skip = objectStoreMissing() ?? false;
const work = mkdtempSync(join(tmpdir(), 'brewery-s3-storage-'));
let store: ObjectStore;
let storage: S3Storage;
let bucket: string;

before(async () => {
  if (skip) return;
  store = await objectStore();
  storage = new S3Storage(new S3Client(s3ConfigFromEnv(store.env)));
  bucket = await store.bucket('storage-test');
});
after(async () => {
  rmSync(work, { recursive: true, force: true });
  await store?.stop();
});

test('path-style client settings come from the AWS variables', { skip }, () => {
  const config = s3ConfigFromEnv(store.env);
  assert.equal(config.endpoint, store.endpoint);
  assert.equal(config.forcePathStyle, true);
  assert.equal(config.region, store.region);
});

test('write, read, stat, list and delete an object', { skip }, async () => {
  const uri = `${bucket}/objects/a.txt`;
  await storage.write(uri, 'hello s3');
  assert.equal((await storage.read(uri)).toString(), 'hello s3');
  assert.deepEqual(await storage.stat(uri), { uri, size: 8 });
  await storage.write(`${bucket}/objects/sub/b.txt`, Readable.from([Buffer.from('streamed')]));
  await storage.write(`${bucket}/objects-other/c.txt`, 'not below the prefix');
  const listed = await storage.list(`${bucket}/objects`);
  assert.deepEqual(
    listed.map((o) => o.uri),
    [`${bucket}/objects/a.txt`, `${bucket}/objects/sub/b.txt`],
  );
  await storage.delete(uri);
  assert.equal(await storage.stat(uri), undefined);
});

test('a file larger than one part goes up as a multipart upload and comes back whole', { skip }, async () => {
  const local = join(work, 'big.bin');
  const bytes = randomBytes(20 * 1024 * 1024 + 12345);
  writeFileSync(local, bytes);
  const uri = `${bucket}/big/big.bin`;
  await storage.putFile(local, uri);
  assert.equal((await storage.stat(uri))?.size, bytes.length);
  const back = join(work, 'back.bin');
  await storage.getFile(uri, back);
  assert.ok(readFileSync(back).equals(bytes), 'downloaded bytes differ from the uploaded ones');
});

test('reading a missing object fails with the key named', { skip }, async () => {
  await assert.rejects(storage.read(`${bucket}/missing/x`), /NoSuchKey|not exist|NotFound/i);
});
