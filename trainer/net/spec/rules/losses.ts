// Shape rules of the loss layers added with issue 14: each has a scalar loss as its only top.
import { fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { count, type SetUpContext, type ShapeRule } from '../types.js';
import { checkLabels } from './labels.js';

function lossRule(
  type: string,
  bottoms: number,
  check: (context: SetUpContext) => void,
  maxBottoms = bottoms,
): ShapeRule {
  return {
    type,
    bottoms: { min: bottoms, max: maxBottoms },
    tops: { min: 1, max: 1 },
    setUp(context) {
      check(context);
      return { topShapes: [[]], paramShapes: [] };
    },
  };
}

/** One label per item (axis 0) for predictions of shape N × ...: Caffe's num-based loss layers. */
function oneLabelPerItem(context: SetUpContext): void {
  const [scores, labels] = context.bottomShapes as [number[], number[]];
  if (count(labels) !== scores[0]) {
    fail(
      context,
      `bottom 1 (labels): expected ${scores[0]} labels (one per item), received shape ${formatShape(labels)}`,
    );
  }
}

registerShapeRule(
  lossRule('EuclideanLoss', 2, (context) => {
    const [a, b] = context.bottomShapes as [number[], number[]];
    if (count(a) !== count(b) || a[0] !== b[0]) {
      fail(
        context,
        `bottom 1: expected the count and first axis of bottom 0 (${formatShape(a)}), received ${formatShape(b)}`,
      );
    }
  }),
);
registerShapeRule(lossRule('HingeLoss', 2, oneLabelPerItem));
registerShapeRule(lossRule('MultinomialLogisticLoss', 2, oneLabelPerItem));
registerShapeRule(
  lossRule('ContrastiveLoss', 3, (context) => {
    const [a, b, similar] = context.bottomShapes as [number[], number[], number[]];
    if (a.join('x') !== b.join('x') || count(a.slice(2)) !== 1) {
      fail(
        context,
        `bottoms 0 and 1: expected equal shapes N × C × 1 × 1, received ${formatShape(a)} and ${formatShape(b)}`,
      );
    }
    if (count(similar) !== a[0]) {
      fail(
        context,
        `bottom 2 (similarity): expected ${a[0]} values (one per pair), received shape ${formatShape(similar)}`,
      );
    }
  }),
);
registerShapeRule(
  lossRule(
    'InfogainLoss',
    2,
    (context) => {
      const axis = checkLabels(
        context,
        'infogain_loss_param.axis',
        context.layer.infogainLossParam?.axis ?? 1,
      );
      const classes = context.bottomShapes[0]![axis]!;
      const matrix = context.bottomShapes[2];
      if (matrix && count(matrix) !== classes * classes) {
        fail(
          context,
          `bottom 2 (infogain matrix H): expected ${classes}x${classes} values, received shape ${formatShape(matrix)}`,
        );
      }
      if (!matrix && !context.layer.infogainLossParam?.source) {
        fail(
          context,
          'infogain_loss_param.source: expected the H matrix file, or H as bottom 2, received neither',
        );
      }
    },
    3,
  ),
);
