import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';

import { joinUri, LocalStorage, storageFor } from '../../../trainer/storage/index.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-local-storage-'));
after(() => rmSync(work, { recursive: true, force: true }));
const storage = new LocalStorage();

test('a write creates parent folders and leaves no temporary file behind', async () => {
  const uri = join(work, 'a/b/c.txt');
  await storage.write(uri, 'hello');
  assert.equal((await storage.read(uri)).toString(), 'hello');
  assert.deepEqual(readdirSync(join(work, 'a/b')), ['c.txt']);
});

test('a failed streamed write leaves the previous object whole', async () => {
  const uri = join(work, 'whole.txt');
  await storage.write(uri, 'first version');
  const failing = new Readable({
    read() {
      this.push('partial');
      this.destroy(new Error('source broke'));
    },
  });
  await assert.rejects(storage.write(uri, failing), /source broke/);
  assert.equal((await storage.read(uri)).toString(), 'first version');
  assert.deepEqual(
    readdirSync(work).filter((n) => n.startsWith('whole')),
    ['whole.txt'],
  );
});

test('list walks folders, sorts by path and leaves temporary files out', async () => {
  const root = join(work, 'tree');
  await storage.write(join(root, 'z.bin'), new Uint8Array(3));
  await storage.write(join(root, 'sub/a.bin'), new Uint8Array(5));
  writeFileSync(join(root, 'sub/a.bin.tmp-brewery-1-abcd'), 'half');
  const listed = await storage.list(root);
  assert.deepEqual(listed, [
    { uri: join(root, 'sub/a.bin'), size: 5 },
    { uri: join(root, 'z.bin'), size: 3 },
  ]);
  assert.deepEqual(await storage.list(join(work, 'missing')), []);
});

test('stat, delete and putFile with move', async () => {
  const source = join(work, 'source.bin');
  writeFileSync(source, 'payload');
  const target = join(work, 'moved/target.bin');
  await storage.putFile(source, target, { move: true });
  assert.deepEqual(await storage.stat(target), { uri: target, size: 7 });
  assert.equal(await storage.stat(source), undefined);
  await storage.delete(target);
  assert.equal(await storage.stat(target), undefined);
  await storage.delete(target); // deleting twice is fine
});

test('joinUri and storageFor pick by scheme', () => {
  assert.equal(joinUri('s3://b/x/', 'train', '/a'), 's3://b/x/train/a');
  assert.equal(joinUri('/data/out', 'val'), '/data/out/val');
  assert.equal(storageFor('/tmp/x').constructor.name, 'LocalStorage');
  assert.notEqual(storageFor('s3://b/k'), storageFor('/tmp/x'));
});
