// Checks shared by the layers that compare predictions with labels.
import { canonicalAxis, fail, formatShape } from '../checks.js';
import { count, type SetUpContext } from '../types.js';

/** Returns the class axis; fails unless there is one label per prediction (outer × inner positions). */
export function checkLabels(context: SetUpContext, axisField: string, axisValue: number): number {
  const [scores, labels] = context.bottomShapes as [number[], number[]];
  const axis = canonicalAxis(context, axisField, axisValue, scores.length);
  const positions = count(scores.slice(0, axis)) * count(scores.slice(axis + 1));
  if (count(labels) !== positions) {
    fail(
      context,
      `bottom 1 (labels): expected ${positions} labels for predictions of shape ${formatShape(scores)}, ` +
        `received shape ${formatShape(labels)}`,
    );
  }
  return axis;
}
