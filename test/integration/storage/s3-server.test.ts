// What only a real S3 server shows: signatures checked (a wrong secret is refused, and the trainer treats
// that as bad input tried once), a snapshot larger than one upload part, and listings past one page.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { findLatestSnapshot } from '../../../trainer/contract/snapshots.js';
import { encodeSolverState } from '../../../trainer/proto/index.js';
import { toSolverStateMessage } from '../../../trainer/solver/state.js';
import { s3ConfigFromEnv } from '../../../trainer/storage/index.js';
import { S3Storage } from '../../../trainer/storage/s3.js';
import { ProgressSnapshotWriter, sha256 } from '../../../trainer/train/snapshots.js';
import { type ObjectStore, objectStore, objectStoreMissing } from '../../support/object-store.js';

const skip = objectStoreMissing() ?? false;
const caffe = fileURLToPath(new URL('../../../trainer/cli/main.js', import.meta.url));
/** trainer/storage/s3.ts's PART_SIZE: an object larger than this goes up in parts. */
const PART_SIZE = 16 * 1024 * 1024;
/** The most keys S3 returns in one ListObjectsV2 page. */
const PAGE = 1000;

let store: ObjectStore;
let bucket: string;

before(async () => {
  if (skip) return;
  store = await objectStore();
  bucket = await store.bucket('server-test');
});
after(async () => {
  await store?.stop();
});

/** A client with its HTTP requests counted: a deserialize-step middleware runs once per attempt. */
function countedClient(env: Record<string, string>): { client: S3Client; requests: () => number } {
  const client = new S3Client(s3ConfigFromEnv(env));
  let requests = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      requests++;
      return next(args);
    },
    { step: 'deserialize', name: 'countRequests' },
  );
  return { client, requests: () => requests };
}

function wrongSecret(): Record<string, string> {
  return { ...store.env, AWS_SECRET_ACCESS_KEY: `${store.env.AWS_SECRET_ACCESS_KEY}-wrong` };
}

test('a wrong secret is refused as bad input naming the bucket and the endpoint, after one request', {
  skip,
}, async () => {
  const uri = `${bucket}/refused/a.txt`;
  await new S3Storage(new S3Client(s3ConfigFromEnv(store.env))).write(uri, 'written with the right keys');
  const calls: [string, (storage: S3Storage) => Promise<unknown>][] = [
    ['read', (s) => s.read(uri)],
    ['write', (s) => s.write(uri, 'not allowed')],
    ['list', (s) => s.list(`${bucket}/refused`)],
    ['stat', (s) => s.stat(uri)],
  ];
  for (const [name, call] of calls) {
    const { client, requests } = countedClient(wrongSecret());
    const error = await call(new S3Storage(client)).then(
      () => assert.fail(`${name} succeeded with a wrong secret: the server does not check signatures`),
      (e: unknown) => e as Error & { cause?: { $metadata?: { attempts?: number } } },
    );
    assert.equal(error.name, 'BadInputError', `${name}: ${error.message}`);
    assert.ok(
      error.message.startsWith(`${bucket}: the object server at ${store.endpoint} refused`),
      error.message,
    );
    // What the SDK itself reports, and what went over the wire: one try, no retry on either layer.
    assert.equal(error.cause?.$metadata?.attempts, 1, `${name}: SDK attempts`);
    assert.equal(requests(), 1, `${name}: HTTP requests`);
  }
});

test('caffe train with a wrong secret exits with bad input (65), the bucket and endpoint named', {
  skip,
}, async () => {
  const solver = `${bucket}/refused/solver.prototxt`;
  await new S3Storage(new S3Client(s3ConfigFromEnv(store.env))).write(solver, 'net: "x"\nmax_iter: 1\n');
  const run = promisify(execFile)(process.execPath, [caffe, 'train', `--solver=${solver}`], {
    env: { ...process.env, ...wrongSecret() },
  });
  const failed = await run.then(
    () => assert.fail('caffe train succeeded with a wrong secret'),
    (e: unknown) => e as { code: number; stderr: string },
  );
  // 65 is ExitCode.BadInput: the operator fails the job at once (pod-end.ts, decide.ts: not retried).
  assert.equal(failed.code, 65, failed.stderr);
  assert.match(failed.stderr, new RegExp(`caffe: ${bucket}: the object server at ${store.endpoint} refused`));
  assert.match(failed.stderr, /SignatureDoesNotMatch/);
});

test('a snapshot larger than one upload part round-trips byte-exact', { skip }, async () => {
  // ProgressSnapshotWriter writes through storageFor, whose S3 client reads the AWS_* variables.
  Object.assign(process.env, store.env);
  const prefix = `${bucket}/snapshots/${randomBytes(4).toString('hex')}/big`;
  const model = randomBytes(PART_SIZE + 4321);
  // Momentum history of about 5.3M parameters: a .solverstate of more than one part too.
  const history = new Float32Array(PART_SIZE / 3);
  for (let i = 0; i < history.length; i++) history[i] = Math.sin(i) * 1e-3;
  const state = { iter: 7, history: [{ shape: [history.length], data: history }], currentStep: 0 };
  const writer = new ProgressSnapshotWriter({
    encodeModel: async () => model,
    position: () => ({ rngs: [], loaders: {} }),
    lastLoss: () => 0.5,
    tests: () => [],
  });
  await writer.writeModel(`${prefix}_iter_7.caffemodel`);
  await writer.writeSolverState(`${prefix}_iter_7.solverstate`, state);

  const storage = new S3Storage(new S3Client(s3ConfigFromEnv(store.env)));
  const latest = await findLatestSnapshot(prefix, {
    names: (f) => storage.names(f),
    read: (u) => storage.read(u),
    stat: (u) => storage.stat(u),
  });
  assert.equal(latest?.iteration, 7);
  const modelBack = await storage.read(latest.caffemodel);
  assert.ok(modelBack.equals(model), 'the .caffemodel came back different');
  const stateBytes = encodeSolverState(toSolverStateMessage(state));
  assert.ok(
    stateBytes.length > PART_SIZE,
    `the .solverstate is ${stateBytes.length} bytes, not over one part`,
  );
  const stateBack = await storage.read(latest.solverstate);
  assert.equal(sha256(stateBack), sha256(stateBytes));
  assert.equal(latest.record.solverState.sha256, sha256(stateBytes));
});

test('a prefix of more than 1,000 objects lists whole through list and walk', { skip }, async () => {
  const count = 2 * PAGE + 37;
  const prefix = `many/${randomBytes(4).toString('hex')}`;
  const client = new S3Client(s3ConfigFromEnv(store.env));
  const name = bucket.slice('s3://'.length);
  const keys = Array.from({ length: count }, (_, i) => `${prefix}/shard-${String(i).padStart(5, '0')}.bin`);
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(
      keys
        .slice(i, i + 32)
        .map((key) => client.send(new PutObjectCommand({ Bucket: name, Key: key, Body: key }))),
    );
  }
  await client.send(new PutObjectCommand({ Bucket: name, Key: `${prefix}-beside/x`, Body: 'not below' }));
  const { client: counted, requests } = countedClient(store.env);
  const storage = new S3Storage(counted);
  const listed = await storage.list(`${bucket}/${prefix}`);
  assert.equal(listed.length, count);
  assert.deepEqual(
    listed.map((o) => o.uri),
    keys.map((key) => `${bucket}/${key}`),
  );
  assert.ok(listed.every((o, i) => o.size === keys[i]!.length));
  assert.equal(requests(), Math.ceil(count / PAGE), 'list pages');
  const walked: string[] = [];
  for await (const uri of storage.walk(`${bucket}/${prefix}/`)) walked.push(uri);
  assert.deepEqual(
    walked,
    keys.map((key) => `${bucket}/${key}`),
  );
});
