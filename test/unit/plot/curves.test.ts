import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { chartSpec } from '../../../trainer/plot/chart.js';
import { mergeCurves, series, type TrainingCurves, testLoss } from '../../../trainer/plot/curves.js';

const curves = (part: Partial<TrainingCurves>): TrainingCurves => ({
  train: [],
  learningRate: [],
  tests: [],
  ...part,
});

describe('series', () => {
  it('names train loss, test loss and each non-loss test output, losses on the first axis', () => {
    const points = series(
      curves({
        train: [{ iteration: 0, loss: 2 }],
        tests: [
          {
            netIndex: 0,
            iteration: 0,
            outputs: [
              { name: 'accuracy', value: 0.1, lossWeight: 0 },
              { name: 'loss', value: 2.5, lossWeight: 1 },
            ],
          },
          { netIndex: 1, iteration: 0, outputs: [{ name: 'accuracy', value: 0.2, lossWeight: 0 }] },
        ],
      }),
    );
    assert.deepEqual(points, [
      { series: 'train loss', axis: 'loss', iteration: 0, value: 2 },
      { series: 'test loss', axis: 'loss', iteration: 0, value: 2.5 },
      { series: 'test accuracy', axis: 'accuracy', iteration: 0, value: 0.1 },
      { series: 'test#1 accuracy', axis: 'accuracy', iteration: 0, value: 0.2 },
    ]);
  });

  it('leaves out values that are not finite', () => {
    const points = series(
      curves({
        train: [
          { iteration: 0, loss: Number.NaN },
          { iteration: 1, loss: Number.POSITIVE_INFINITY },
          { iteration: 2, loss: 1 },
        ],
      }),
    );
    assert.deepEqual(
      points.map((p) => p.iteration),
      [2],
    );
  });
});

describe('testLoss', () => {
  const pass = { netIndex: 0, iteration: 0 };
  it("is Caffe's `Test loss:` when the log has it", () => {
    assert.equal(testLoss({ ...pass, loss: 0.4, outputs: [{ name: 'loss', value: 9, lossWeight: 1 }] }), 0.4);
  });
  it('is the weighted sum of the loss outputs otherwise, as Caffe sums its losses', () => {
    const outputs = [
      { name: 'loss1/loss', value: 2, lossWeight: 0.3 },
      { name: 'loss3/loss', value: 1, lossWeight: 1 },
      { name: 'accuracy', value: 0.5, lossWeight: 0 },
    ];
    assert.equal(testLoss({ ...pass, outputs }), 0.3 * 2 + 1);
  });
  it('goes by the name when no loss weight is known (a status file)', () => {
    assert.equal(testLoss({ ...pass, outputs: [{ name: 'loss', value: 0.7 }] }), 0.7);
    assert.equal(testLoss({ ...pass, outputs: [{ name: 'accuracy', value: 0.7 }] }), undefined);
  });
});

describe('mergeCurves', () => {
  it('joins sources, sorted by iteration, the later source winning a shared point', () => {
    const merged = mergeCurves([
      curves({
        train: [
          { iteration: 20, loss: 1 },
          { iteration: 10, loss: 2 },
        ],
        tests: [{ netIndex: 0, iteration: 20, outputs: [{ name: 'accuracy', value: 0.1 }] }],
      }),
      curves({
        train: [{ iteration: 20, loss: 0.9 }],
        tests: [
          { netIndex: 0, iteration: 20, outputs: [{ name: 'accuracy', value: 0.2 }] },
          { netIndex: 0, iteration: 0, outputs: [{ name: 'accuracy', value: 0 }] },
        ],
      }),
    ]);
    assert.deepEqual(merged.train, [
      { iteration: 10, loss: 2 },
      { iteration: 20, loss: 0.9 },
    ]);
    assert.deepEqual(
      merged.tests.map((t) => [t.iteration, t.outputs[0]?.value]),
      [
        [0, 0],
        [20, 0.2],
      ],
    );
  });
});

describe('chartSpec', () => {
  const options = { width: 640, height: 400, title: 'T' };
  it('puts accuracy on its own right-hand axis, and fits the whole picture to the asked size', () => {
    const spec = chartSpec(
      [
        { series: 'train loss', axis: 'loss', iteration: 0, value: 2 },
        { series: 'test accuracy', axis: 'accuracy', iteration: 0, value: 0.5 },
      ],
      options,
    ) as unknown as {
      width: number;
      height: number;
      autosize: { type: string; contains: string };
      layer: { encoding: { y: { title: string; axis?: { orient: string } } } }[];
      resolve: unknown;
    };
    assert.equal(spec.width, 640);
    assert.equal(spec.height, 400);
    assert.deepEqual(spec.autosize, { type: 'fit', contains: 'padding' });
    assert.deepEqual(
      spec.layer.map((l) => [l.encoding.y.title, l.encoding.y.axis?.orient ?? 'left']),
      [
        ['loss', 'left'],
        ['accuracy', 'right'],
      ],
    );
    assert.deepEqual(spec.resolve, { scale: { y: 'independent' } });
  });

  it('draws only the layers it has points for', () => {
    const spec = chartSpec([{ series: 'train loss', axis: 'loss', iteration: 0, value: 2 }], options) as {
      layer: unknown[];
    };
    assert.equal(spec.layer.length, 1);
  });
});
