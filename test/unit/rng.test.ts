import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Rng } from '../../trainer/rng.js';

function draws(rng: Rng, n: number, draw: (r: Rng) => number): number[] {
  return Array.from({ length: n }, () => draw(rng));
}

function meanAndStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe('Rng', () => {
  it('produces the xoshiro128** reference sequence from the state 1, 2, 3, 4', () => {
    // Expected values from an independent Python implementation of the published algorithm.
    const rng = Rng.fromState({ words: [1, 2, 3, 4], spareGaussian: null });
    assert.deepEqual(
      draws(rng, 6, (r) => r.nextUint32()),
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
    );
  });

  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = draws(new Rng(42), 8, (r) => r.nextUint32());
    assert.deepEqual(
      draws(new Rng(42), 8, (r) => r.nextUint32()),
      a,
    );
    assert.notDeepEqual(
      draws(new Rng(43), 8, (r) => r.nextUint32()),
      a,
    );
    assert.notDeepEqual(
      draws(new Rng(-1), 8, (r) => r.nextUint32()),
      a,
    );
  });

  it('resumes exactly from a saved state, including a pending Gaussian, through JSON', () => {
    const rng = new Rng(7);
    draws(rng, 5, (r) => r.nextFloat());
    rng.gaussian(0, 1); // leaves the second Box-Muller value pending
    const saved = JSON.parse(JSON.stringify(rng.saveState()));
    assert.notEqual(saved.spareGaussian, null);
    const expected = draws(rng, 10, (r) => r.gaussian(0, 1) + r.nextFloat());
    const resumed = Rng.fromState(saved);
    assert.deepEqual(
      draws(resumed, 10, (r) => r.gaussian(0, 1) + r.nextFloat()),
      expected,
    );
  });

  it('draws uniform floats in [0, 1) with mean 1/2 and std 1/sqrt(12)', () => {
    const values = draws(new Rng(3), 20000, (r) => r.nextFloat());
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const { mean, std } = meanAndStd(values);
    // 5 standard errors: 0.2887 / sqrt(20000) ≈ 0.002.
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(std - 1 / Math.sqrt(12)) < 0.01, `std ${std}`);
  });

  it('draws Gaussians with the requested mean and standard deviation', () => {
    const { mean, std } = meanAndStd(draws(new Rng(5), 20000, (r) => r.gaussian(3, 2)));
    assert.ok(Math.abs(mean - 3) < 0.07, `mean ${mean}`); // 5 × 2 / sqrt(20000)
    assert.ok(Math.abs(std - 2) < 0.05, `std ${std}`);
  });

  it('draws Bernoulli ones with probability p and integers below n', () => {
    const ones = draws(new Rng(9), 20000, (r) => r.bernoulli(0.3)).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(ones / 20000 - 0.3) < 0.017, `share ${ones / 20000}`); // 5 × sqrt(.21 / 20000)
    const ints = draws(new Rng(9), 6000, (r) => r.nextInt(6));
    assert.ok(ints.every((v) => Number.isInteger(v) && v >= 0 && v < 6));
    for (let face = 0; face < 6; face++) {
      const share = ints.filter((v) => v === face).length / 6000;
      assert.ok(Math.abs(share - 1 / 6) < 0.025, `face ${face}: ${share}`);
    }
    assert.throws(() => new Rng(1).nextInt(0), /expected an integer in \[1, 2\^32\], received 0/);
  });

  it('rejects a state that is not four words or is all zero', () => {
    assert.throws(
      () => Rng.fromState({ words: [0, 0, 0, 0], spareGaussian: null }),
      /all four words are zero/,
    );
    assert.throws(() => Rng.fromState({ words: [1, 2] as never, spareGaussian: null }), /expected 4 words/);
  });
});
