// Status numbers rounded for people: float32 values widened to doubles, and losses to 6 digits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { shortestFloat32, significant } from '../../../operator/training/status-numbers.js';

describe('shortestFloat32', () => {
  const cases: [string, number, number][] = [
    ['float32 0.1 widened to a double reads 0.1', Math.fround(0.1), 0.1],
    ['float32 0.7 widened reads 0.7', Math.fround(0.7), 0.7],
    ['an accuracy of 321/1000 in float32 reads 0.321', Math.fround(321 / 1000), 0.321],
    ['one third in float32 needs 8 digits', Math.fround(1 / 3), 0.33333334],
    ['one third as a double reads as its float32', 1 / 3, 0.33333334],
    ['1 stays 1', 1, 1],
    ['0 stays 0', 0, 0],
    ['a negative value keeps its sign', Math.fround(-0.25), -0.25],
    ['a tiny learning rate keeps its exponent', Math.fround(1e-5), 1e-5],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      const got = shortestFloat32(input);
      assert.equal(got, expected);
      assert.equal(Math.fround(got), Math.fround(input), 'the same float32 as the input');
    });
  }

  test('non-finite values pass through', () => {
    assert.ok(Number.isNaN(shortestFloat32(Number.NaN)));
    assert.equal(shortestFloat32(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
  });
});

describe('significant', () => {
  const cases: [string, number, number, number][] = [
    ['ln 3 to 6 digits', Math.log(3), 6, 1.09861],
    ['a float32 loss to 6 digits', Math.fround(6.907755374908447), 6, 6.90776],
    ['a large loss keeps its integer part', 87.33654022216797, 6, 87.3365],
    ['a small loss keeps 6 digits after its leading zeros', 0.000123456789, 6, 0.000123457],
    ['a rate to 4 digits', 1234.5678, 4, 1235],
  ];
  for (const [name, input, digits, expected] of cases) {
    test(name, () => assert.equal(significant(input, digits), expected));
  }
});
