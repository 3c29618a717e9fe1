// Damaged copies of the small binary and JSON files Brewery reads, property-based, each through its
// reading path: Datum records (parse, and a raw record's pixels), mean .binaryproto files,
// .solverstate files, snapshot progress records and shard markers. Each reads, or fails with a
// BadInputError naming the file (and the byte or field where the format says). The JPEG inside an
// encoded record goes through the native codec, so codec.test.ts fuzzes it in a child process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import fc from 'fast-check';

import { parseShardMarker, type ShardMarker } from '../../../trainer/data/layout.js';
import {
  encodedDatumBytes,
  meanBlobBytes,
  rawDatumBytes,
  rawDatumValues,
  readDatum,
  readMeanBlob,
} from '../../../trainer/data/records.js';
import { decodeSolverState, encodeSolverState } from '../../../trainer/proto/index.js';
import {
  fromSolverStateMessage,
  type SolverStateMessage,
  toSolverStateMessage,
} from '../../../trainer/solver/state.js';
import {
  type ProgressRecord,
  progressFileFor,
  readProgress,
  sha256,
} from '../../../trainer/train/snapshots.js';
import { applyDamage, damageOf, fuzzParameters, parsesOrNamesThePlace } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-fuzz-records-'));
after(() => rmSync(work, { recursive: true, force: true }));

const pixels = Uint8Array.from({ length: 3 * 5 * 4 }, (_, i) => (i * 7) % 256);

test('a damaged raw Datum parses to pixels that fill its shape, or fails naming the record and byte', async () => {
  const record = rawDatumBytes(pixels, 3, 5, 4, 7);
  const where = "train/shard-00000-of-00001 record '00000001_n01/a.JPEG'";
  await fc.assert(
    fc.asyncProperty(damageOf(record.length), async (damage) => {
      await parsesOrNamesThePlace(
        () => rawDatumValues(readDatum(applyDamage(record, damage), where), where),
        /^train\/shard-00000-of-00001 record '00000001_n01\/a\.JPEG'(:byte \d+)?$/,
      );
    }),
    fuzzParameters(300),
  );
});

test('a damaged encoded Datum parses, or fails naming the record and byte', async () => {
  const record = encodedDatumBytes(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, ...pixels]), 3);
  await fc.assert(
    fc.asyncProperty(damageOf(record.length), async (damage) => {
      await parsesOrNamesThePlace(() => readDatum(applyDamage(record, damage), 'r'), /^r(:byte \d+)?$/);
    }),
    fuzzParameters(200),
  );
});

test('a damaged mean .binaryproto reads as a 1xCxHxW blob, or fails naming the file', async () => {
  const mean = Float32Array.from({ length: 3 * 5 * 4 }, (_, i) => i / 3);
  const file = meanBlobBytes(mean, 3, 5, 4);
  await fc.assert(
    fc.asyncProperty(damageOf(file.length, [[0, 12]]), async (damage) => {
      await parsesOrNamesThePlace(
        () => readMeanBlob(applyDamage(file, damage), 'mean.binaryproto'),
        /^mean\.binaryproto(:byte \d+)?$/,
      );
    }),
    fuzzParameters(300),
  );
});

test('a damaged .solverstate reads, or fails naming the file and the byte or history blob', async () => {
  const file = encodeSolverState(
    toSolverStateMessage({
      iter: 1200,
      learnedNet: 'snap/net_iter_1200.caffemodel',
      history: [
        { shape: [4, 3, 2, 2], data: Float32Array.from({ length: 48 }, (_, i) => i / 10) },
        { shape: [4], data: Float32Array.of(1, 2, 3, 4) },
      ],
      currentStep: 2,
    }),
  );
  await fc.assert(
    fc.asyncProperty(damageOf(file.length), async (damage) => {
      await parsesOrNamesThePlace(() => {
        const bytes = applyDamage(file, damage);
        const message = decodeSolverState(bytes, 'net_iter_1200.solverstate') as SolverStateMessage;
        return fromSolverStateMessage(message, 'net_iter_1200.solverstate');
      }, /^net_iter_1200\.solverstate(:byte \d+|: history\[\d+\])?$/);
    }),
    fuzzParameters(300),
  );
});

test('a damaged progress record reads, or fails naming the file', async () => {
  const stateFile = join(work, 'net_iter_100.solverstate');
  const stateBytes = Buffer.from('state');
  const record: ProgressRecord = {
    version: 1,
    iteration: 100,
    model: { file: 'net_iter_100.caffemodel', sha256: 'a'.repeat(64), bytes: 10 },
    solverState: { file: stateFile, sha256: sha256(stateBytes), bytes: stateBytes.length },
    tests: [{ netIndex: 0, iteration: 100, outputs: [{ name: 'accuracy', value: 0.5, lossWeight: 0 }] }],
    position: {
      rngs: [{ words: [1, 2, 3, 4], spareGaussian: null }],
      loaders: {
        '0/data': {
          epoch: 0,
          epochSeed: 5,
          part: 0,
          partSeed: 6,
          record: 12,
          rng: { words: [5, 6, 7, 8], spareGaussian: 0.5 },
          batches: 3,
        },
      },
    },
  };
  const text = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
  const progressFile = progressFileFor(stateFile);
  await fc.assert(
    fc.asyncProperty(damageOf(text.length), async (damage) => {
      writeFileSync(progressFile, applyDamage(text, damage));
      await parsesOrNamesThePlace(() => readProgress(stateFile, stateBytes), /net_iter_100\.progress\.json$/);
    }),
    fuzzParameters(200),
  );
});

test('a damaged shard marker parses, or fails naming the file', async () => {
  const marker: ShardMarker = {
    split: 'train',
    index: 0,
    count: 2,
    optionsHash: 'b'.repeat(64),
    file: 'train/shard-00000-of-00002/data.mdb',
    records: 2,
    bytes: 16384,
    sha256: 'c'.repeat(64),
    labels: { '0': 1, '1': 1 },
    list: { file: 'shards/train-00000-of-00002.txt', lines: 2, sha256: 'e'.repeat(64) },
    skipped: [],
    converted: [],
    sums: {
      file: 'shards/train-00000-of-00002.sum',
      channels: 3,
      height: 8,
      width: 8,
      sha256: 'd'.repeat(64),
    },
  };
  const text = Buffer.from(`${JSON.stringify(marker)}\n`);
  await fc.assert(
    fc.asyncProperty(damageOf(text.length), async (damage) => {
      await parsesOrNamesThePlace(
        () => parseShardMarker(applyDamage(text, damage).toString(), 'shards/train-00000-of-00002.json'),
        /^shards\/train-00000-of-00002\.json$/,
      );
    }),
    fuzzParameters(200),
  );
});
