import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { memoryBytes, parseQuantity, wholeCores } from '../../../trainer/contract/quantity.js';

describe('parseQuantity', () => {
  const cases: [string | number, number | undefined][] = [
    ['500m', 0.5],
    ['2', 2],
    ['1Gi', 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['128974848', 128974848],
    ['129M', 129e6],
    ['1e3', 1000],
    ['4k', 4000],
    [3, 3],
    ['1 Gi', undefined],
    ['GB', undefined],
    ['', undefined],
  ];
  for (const [input, expected] of cases) {
    it(`reads ${JSON.stringify(input)} as ${expected}`, () => assert.equal(parseQuantity(input), expected));
  }
});

describe('wholeCores and memoryBytes', () => {
  it('round CPU up to whole cores, at least one', () => {
    assert.equal(wholeCores('500m'), 1);
    assert.equal(wholeCores('1'), 1);
    assert.equal(wholeCores('1500m'), 2);
    assert.equal(wholeCores('0'), undefined);
  });
  it('round memory up to whole bytes', () => {
    assert.equal(memoryBytes('1.5'), 2);
    assert.equal(memoryBytes('1Mi'), 1048576);
    assert.equal(memoryBytes('x'), undefined);
  });
});
