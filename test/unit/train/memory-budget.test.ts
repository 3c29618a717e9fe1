import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RUNTIME_BYTES, sizeLoader } from '../../../trainer/train/memory-budget.js';

const MiB = 2 ** 20;
// CaffeNet's train batch of 32 at 3x227x227 floats.
const CAFFENET_32 = 32 * 3 * 227 * 227 * 4;

describe('sizeLoader', () => {
  it('without a budget keeps Caffe prefetch of 4, two per thread', () => {
    assert.deepEqual(
      sizeLoader({ budgetBytes: undefined, threads: 8, batchBytes: CAFFENET_32, netBytes: 0, loaders: 2 }),
      {
        threads: 8,
        batchesInFlight: 16,
      },
    );
    assert.deepEqual(
      sizeLoader({ budgetBytes: undefined, threads: 1, batchBytes: 1, netBytes: 0, loaders: 1 }),
      {
        threads: 1,
        batchesInFlight: 4,
      },
    );
  });

  it('a roomy budget changes nothing', () => {
    const sizing = sizeLoader({
      budgetBytes: 64 * 1024 * MiB,
      threads: 2,
      batchBytes: CAFFENET_32,
      netBytes: 500 * MiB,
      loaders: 2,
    });
    assert.deepEqual(sizing, { threads: 2, batchesInFlight: 4 });
  });

  it('a tight budget holds fewer batches, and no more threads than batches', () => {
    // 4 GiB - 320 MiB runtime - 2,600 MiB nets = 1,176 MiB; half of it over 2 loaders is 294 MiB;
    // a batch in flight costs 1.5 x 18.9 MiB = 28.3 MiB: 10 fit, below the 2 x 8 threads = 16 wanted.
    const sizing = sizeLoader({
      budgetBytes: 4096 * MiB,
      threads: 8,
      batchBytes: CAFFENET_32,
      netBytes: 2600 * MiB,
      loaders: 2,
    });
    assert.deepEqual(sizing, { threads: 8, batchesInFlight: 10 });
    const tighter = sizeLoader({
      budgetBytes: RUNTIME_BYTES + 2600 * MiB + 120 * MiB,
      threads: 8,
      batchBytes: CAFFENET_32,
      netBytes: 2600 * MiB,
      loaders: 2,
    });
    // 120 MiB / 2 / 2 loaders = 30 MiB: one batch in flight, so one thread.
    assert.deepEqual(tighter, { threads: 1, batchesInFlight: 1 });
  });

  it('a budget that cannot hold one batch still keeps one, and says so', () => {
    const sizing = sizeLoader({
      budgetBytes: 256 * MiB,
      threads: 2,
      batchBytes: CAFFENET_32,
      netBytes: 100 * MiB,
      loaders: 1,
    });
    assert.equal(sizing.batchesInFlight, 1);
    assert.equal(sizing.threads, 1);
    assert.match(
      sizing.overBudget ?? '',
      /a memory budget of 256 MiB leaves no room for one batch of 19 MiB/,
    );
  });
});
