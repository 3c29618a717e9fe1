// A record that does not decode, met by the training loader and by `caffe train`: by default it is
// bad input naming the shard and record (exit 65, so the operator fails the job at once); with
// --skip-damaged-records it is skipped, counted and named in a warning, and batches keep their size.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { BadInputError } from '../../../trainer/contract/errors.js';
import { encodeJpeg } from '../../../trainer/data/images.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { DataLoader, type LoaderOptions } from '../../../trainer/data/loader.js';
import { encodedDatumBytes } from '../../../trainer/data/records.js';
import { CAFFE_MAIN } from '../../support/tiny-net.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-damaged-'));
const shard = join(work, 'train_lmdb');
const DAMAGED_KEY = '00000005_n01/img_5.JPEG';
after(() => rmSync(work, { recursive: true, force: true }));

before(async () => {
  const writer = new LmdbWriter(shard);
  for (let i = 0; i < 12; i++) {
    const key = `${String(i).padStart(8, '0')}_n0${i % 2}/img_${i}.JPEG`;
    const pixels = Uint8Array.from({ length: 16 * 16 * 3 }, (_, p) => (p * 3 + i * 40) % 256);
    const jpeg = await encodeJpeg({ pixels, width: 16, height: 16, channels: 3 }, 95);
    // Record 5 holds bytes no decoder reads, inside a Datum that parses.
    const image = key === DAMAGED_KEY ? Buffer.from('\xff\xd8 not a JPEG after all', 'latin1') : jpeg;
    writer.put(Buffer.from(key), encodedDatumBytes(image, i % 2));
  }
  writer.finish();
});

const options = (extra: Partial<LoaderOptions> = {}): LoaderOptions => ({
  source: { type: 'Data', uri: shard },
  batchSize: 4,
  phase: 'TEST',
  transform: {},
  shuffle: false,
  seed: 1,
  threads: 1,
  ...extra,
});

test('by default a record that does not decode fails the batch, naming the shard and record', async () => {
  const loader = await DataLoader.open(options());
  try {
    await loader.next(); // records 0-3
    await assert.rejects(loader.next(), (error: Error) => {
      assert.ok(error instanceof BadInputError, String(error));
      assert.equal(
        error.message.split(': ')[0],
        `${shard} record '${DAMAGED_KEY}'`,
        `the message names the shard and record: ${error.message}`,
      );
      assert.match(error.message, /no decoder can read it/);
      return true;
    });
  } finally {
    await loader.close();
  }
});

test('when skipping, the damaged record is named once per pass and its slot holds the image before it', async () => {
  const skipped: string[] = [];
  const loader = await DataLoader.open(options({ onDamagedRecord: (message) => skipped.push(message) }));
  try {
    await loader.next();
    const batch = await loader.next(); // records 4-7; record 5 is slot 1
    await loader.next();
    assert.deepEqual(batch.shape, [4, 3, 16, 16]);
    assert.equal(skipped.length, 1);
    assert.match(
      skipped[0]!,
      new RegExp(`^${shard} record '${DAMAGED_KEY.replace('.', '\\.')}': no decoder`),
    );
    const size = 3 * 16 * 16;
    assert.deepEqual(batch.data.subarray(size, 2 * size), batch.data.subarray(0, size));
    assert.equal(batch.labels[1], batch.labels[0]);
    assert.notDeepEqual(batch.data.subarray(2 * size, 3 * size), batch.data.subarray(0, size));
  } finally {
    await loader.close();
  }
});

const NET = `name: "damaged"
layer { name: "data" type: "Data" top: "data" top: "label"
  transform_param { scale: 0.0039 } data_param { source: "${shard}" batch_size: 4 backend: LMDB } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`;

async function train(flags: string[]) {
  writeFileSync(join(work, 'net.prototxt'), NET);
  writeFileSync(
    join(work, 'solver.prototxt'),
    `net: "net.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 5\ndisplay: 1\nsnapshot_after_train: false\nsolver_mode: CPU\nrandom_seed: 3\n`,
  );
  const run = promisify(execFile)(
    process.execPath,
    [CAFFE_MAIN, 'train', '--solver=solver.prototxt', '--backend=cpu', '--data-shape=3,16,16', ...flags],
    { cwd: work, encoding: 'utf8' },
  );
  return run.then(
    ({ stderr }) => ({ code: 0, stderr }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
}

test('caffe train over a damaged record exits 65 naming it, or with --skip-damaged-records trains on', async () => {
  const failed = await train([]);
  assert.equal(failed.code, 65, failed.stderr);
  const last = failed.stderr.trim().split('\n').at(-1)!;
  assert.match(
    last,
    new RegExp(`^caffe: ${shard} record '${DAMAGED_KEY.replace('.', '\\.')}': no decoder can read it`),
  );
  assert.doesNotMatch(failed.stderr, /^\s+at /m);

  const skipped = await train(['--skip-damaged-records']);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stderr, /Skipping damaged record #1: .*record '00000005_n01\/img_5\.JPEG'/);
  // Five batches of four pass record 5 twice (12 records, wrapping once): batches used, not prefetched.
  assert.match(skipped.stderr, /Skipped 2 damaged records/);
  assert.match(skipped.stderr, /Optimization Done/);
});
