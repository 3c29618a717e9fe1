// Averaging crops, the top k, labels and the two output forms.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  averageRows,
  jsonPredictions,
  parseLabels,
  predictionLines,
  topK,
} from '../../../trainer/classify/predictions.js';

describe('predictions', () => {
  it('average the crops of one image class by class', () => {
    assert.deepEqual(Array.from(averageRows([0.5, 0.25, 0.25, 0.75], 2)), [0.375, 0.5]);
    assert.throws(() => averageRows([1, 2, 3], 2), /expected a multiple of 2 values/);
  });

  it('rank the largest first, equal scores in index order, at most k', () => {
    assert.deepEqual(topK([0.1, 0.4, 0.1, 0.4], 3), [
      { index: 1, prob: 0.4 },
      { index: 3, prob: 0.4 },
      { index: 0, prob: 0.1 },
    ]);
    assert.equal(topK([1, 2], 5).length, 2);
  });

  it('take one label per line and refuse a file of the wrong length', () => {
    assert.deepEqual(parseLabels('n01 tench\nn02 goldfish\n\n', 2, 'words.txt'), [
      'n01 tench',
      'n02 goldfish',
    ]);
    assert.throws(
      () => parseLabels('a\nb\nc\n', 2, 'words.txt'),
      /words.txt: expected one label per class of the net's output \(2\), received 3 lines/,
    );
  });

  it('print cpp_classification’s lines, with the index when there are no labels', () => {
    const result = { image: 'cat.jpg', top: [{ index: 1, prob: 0.31337 }] };
    assert.deepEqual(predictionLines(result, ['n0 tench', 'n1 goldfish']), [
      '---------- Prediction for cat.jpg ----------',
      '0.3134 - "n1 goldfish"',
    ]);
    assert.deepEqual(predictionLines(result, undefined).slice(1), ['0.3134 - "1"']);
  });

  it('give JSON with a null label when there are no labels', () => {
    const results = [{ image: 'a.png', top: [{ index: 0, prob: 0.5 }] }];
    assert.deepEqual(jsonPredictions(results, undefined), [
      { image: 'a.png', top5: [{ index: 0, label: null, prob: 0.5 }] },
    ]);
    assert.equal(jsonPredictions(results, ['x'])[0]!.top5[0]!.label, 'x');
  });
});
