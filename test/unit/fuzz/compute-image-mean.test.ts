// Damaged shards through the `caffe compute_image_mean` command, as a user meets them: every run
// exits 0 or 65, a 65 with one line naming the shard and the page or record, never a stack trace or
// an abort. A few runs here (each is a process); hack/fuzz/image-mean.ts runs a thousand on demand.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';

import { encodeJpeg } from '../../../trainer/data/images.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { encodedDatumBytes } from '../../../trainer/data/records.js';
import { applyDamage, damageOf, fuzzParameters } from './support.js';

const CAFFE = fileURLToPath(new URL('../../../trainer/cli/main.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'brewery-fuzz-mean-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** 60 encoded 32x32 records, as prep writes them (values just past the inline limit go to overflow). */
async function pristineShard(): Promise<Buffer> {
  const dir = join(work, 'pristine');
  const writer = new LmdbWriter(dir);
  for (let i = 0; i < 60; i++) {
    const pixels = Uint8Array.from({ length: 32 * 32 * 3 }, (_, p) => (p * (i + 3) + i * 17) % 256);
    const jpeg = await encodeJpeg({ pixels, width: 32, height: 32, channels: 3 }, 95);
    writer.put(
      Buffer.from(`${String(i).padStart(8, '0')}_n0${i % 3}/img_${i}.JPEG`),
      encodedDatumBytes(jpeg, i % 3),
    );
  }
  writer.finish();
  return readFileSync(join(dir, 'data.mdb'));
}

test('caffe compute_image_mean over a damaged shard exits 0, or 65 with one line naming the shard', async () => {
  const pristine = await pristineShard();
  const dir = join(work, 'damaged');
  mkdirSync(dir);
  const outcomes: number[] = [];
  await fc.assert(
    fc.asyncProperty(damageOf(pristine.length, [[0, 3 * 4096]]), async (damage) => {
      writeFileSync(join(dir, 'data.mdb'), applyDamage(pristine, damage));
      const run = spawnSync(process.execPath, [CAFFE, 'compute_image_mean', dir], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(run.signal, null, `killed by ${run.signal}:\n${run.stderr}`);
      assert.ok(run.status === 0 || run.status === 65, `exit ${run.status}:\n${run.stderr}`);
      assert.doesNotMatch(run.stderr, /^\s+at .+:\d+:\d+\)?$/m, 'a stack trace');
      if (run.status === 65) {
        assert.match(run.stderr, /^caffe: \S*damaged(\/data\.mdb)?[:\s].*\n$/, 'one line naming the shard');
      }
      outcomes.push(run.status);
    }),
    fuzzParameters(8),
  );
  assert.ok(outcomes.length > 0);
});
