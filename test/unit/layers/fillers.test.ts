import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import { fanInOut, fillBlob } from '../../../trainer/net/fillers.js';
import { VarianceNorm } from '../../../trainer/proto/messages.js';
import { Rng } from '../../../trainer/rng.js';

function stats(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

const WHERE = 'layer "t" weight_filler';

describe('fillers', () => {
  it('constant fills the value and defaults to 0; the default type is constant', () => {
    assert.deepEqual(
      [...fillBlob({ type: 'constant', value: 2.5 }, [2, 3], new Rng(1), WHERE)],
      [2.5, 2.5, 2.5, 2.5, 2.5, 2.5],
    );
    assert.deepEqual([...fillBlob(undefined, [3], new Rng(1), WHERE)], [0, 0, 0]);
  });

  it('uniform stays in [min, max) with the middle as its mean', () => {
    const values = fillBlob({ type: 'uniform', min: -2, max: 4 }, [100, 100], new Rng(2), WHERE);
    assert.ok(values.every((v) => v >= -2 && v < 4));
    const { mean, std } = stats(values);
    assert.ok(Math.abs(mean - 1) < 0.1, `mean ${mean}`); // 5 × 1.73 / 100
    assert.ok(Math.abs(std - 6 / Math.sqrt(12)) < 0.05, `std ${std}`);
  });

  it('gaussian has the requested mean and std', () => {
    const { mean, std } = stats(
      fillBlob({ type: 'gaussian', mean: 0.5, std: 0.01 }, [100, 200], new Rng(3), WHERE),
    );
    assert.ok(Math.abs(mean - 0.5) < 0.0005, `mean ${mean}`); // 5 × 0.01 / sqrt(20000) ≈ 0.00035
    assert.ok(Math.abs(std - 0.01) < 0.0003, `std ${std}`);
  });

  it('sparse gaussian keeps each weight with probability sparse / num_outputs', () => {
    const values = fillBlob({ type: 'gaussian', std: 1, sparse: 3 }, [10, 2000], new Rng(4), WHERE);
    const kept = values.filter((v) => v !== 0).length / values.length;
    assert.ok(Math.abs(kept - 0.3) < 0.016, `kept ${kept}`); // 5 × sqrt(.21 / 20000)
  });

  it('xavier draws U(-a, a) with a = sqrt(3 / n) for each variance_norm', () => {
    // Shape (num 8, channels 16, 3, 3): fan_in = 16·9 = 144, fan_out = 8·9 = 72.
    assert.deepEqual(fanInOut([8, 16, 3, 3]), { fanIn: 144, fanOut: 72 });
    for (const [norm, n] of [
      [VarianceNorm.FAN_IN, 144],
      [VarianceNorm.FAN_OUT, 72],
      [VarianceNorm.AVERAGE, 108],
    ] as const) {
      const values = fillBlob({ type: 'xavier', varianceNorm: norm }, [8, 16, 3, 3], new Rng(5), WHERE);
      const bound = Math.sqrt(3 / n);
      const largest = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assert.ok(
        largest <= bound && largest > 0.98 * bound,
        `norm ${norm}: largest ${largest}, bound ${bound}`,
      );
      const { std } = stats(values);
      assert.ok(Math.abs(std / (bound / Math.sqrt(3)) - 1) < 0.06, `norm ${norm}: std ${std}`);
    }
  });

  it('msra draws N(0, 2 / n) with n by variance_norm', () => {
    // Shape (32, 16, 3, 3): fan_in = 16·9 = 144, fan_out = 32·9 = 288.
    for (const [norm, n] of [
      [VarianceNorm.FAN_IN, 144],
      [VarianceNorm.FAN_OUT, 288],
    ] as const) {
      const { mean, std } = stats(
        fillBlob({ type: 'msra', varianceNorm: norm }, [32, 16, 3, 3], new Rng(6), WHERE),
      );
      const expected = Math.sqrt(2 / n);
      assert.ok(Math.abs(mean) < 5 * (expected / Math.sqrt(4608)), `mean ${mean}`);
      assert.ok(Math.abs(std / expected - 1) < 0.05, `norm ${norm}: std ${std}, expected ${expected}`);
    }
  });

  it('positive_unitball makes each row non-negative and sum to 1', () => {
    const values = fillBlob({ type: 'positive_unitball' }, [4, 5], new Rng(7), WHERE);
    assert.ok(values.every((v) => v >= 0 && v <= 1));
    for (let row = 0; row < 4; row++) {
      const sum = values.slice(row * 5, row * 5 + 5).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6, `row ${row} sums to ${sum}`);
    }
  });

  it('bilinear writes the interpolation kernel of a 4x4 filter', () => {
    // f = ceil(4 / 2) = 2, centre c = 3 / 4: per axis 1 - |x/2 - 0.75| = 0.25, 0.75, 0.75, 0.25.
    const axis = [0.25, 0.75, 0.75, 0.25];
    const expected = axis.flatMap((y) => axis.map((x) => x * y));
    const values = fillBlob({ type: 'bilinear' }, [2, 1, 4, 4], new Rng(8), WHERE);
    assert.deepEqual([...values.slice(0, 16)], expected);
    assert.deepEqual([...values.slice(16)], expected);
    assert.throws(
      () => fillBlob({ type: 'bilinear' }, [1, 1, 3, 4], new Rng(8), WHERE),
      /expected a square kernel, received 3x4/,
    );
  });

  it('draws the same values from the same seed', () => {
    const a = fillBlob({ type: 'gaussian', std: 0.1 }, [3, 7], new Rng(11), WHERE);
    assert.deepEqual(fillBlob({ type: 'gaussian', std: 0.1 }, [3, 7], new Rng(11), WHERE), a);
    assert.notDeepEqual(fillBlob({ type: 'gaussian', std: 0.1 }, [3, 7], new Rng(12), WHERE), a);
  });

  it('rejects unknown types, listing the known ones, and sparsity outside gaussian', () => {
    assert.throws(
      () => fillBlob({ type: 'orthogonal' }, [2, 2], new Rng(1), WHERE),
      (e: unknown) =>
        e instanceof BadInputError &&
        e.message ===
          `${WHERE}: type: expected one of constant, uniform, gaussian, positive_unitball, xavier, msra, bilinear, received "orthogonal"`,
    );
    assert.throws(
      () => fillBlob({ type: 'xavier', sparse: 2 }, [2, 2], new Rng(1), WHERE),
      /only the gaussian filler supports sparsity/,
    );
  });
});
