// Parameter checks shared by the shape rules. Errors name the field and say what was expected and received.
import { BadInputError } from '../../contract/errors.js';
import type { SetUpContext, Shape } from './types.js';

export function fail(context: SetUpContext, message: string): never {
  throw new BadInputError(message, context.where);
}

export function positiveInteger(context: SetUpContext, field: string, value: number | undefined): number {
  if (value === undefined || !Number.isInteger(value) || value <= 0) {
    fail(context, `${field}: expected a positive integer, received ${value ?? 'nothing'}`);
  }
  return value;
}

export function nonNegativeInteger(context: SetUpContext, field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    fail(context, `${field}: expected an integer ≥ 0, received ${value}`);
  return value;
}

/** Caffe's CanonicalAxisIndex: a negative axis counts from the end. */
export function canonicalAxis(context: SetUpContext, field: string, axis: number, numAxes: number): number {
  if (axis < -numAxes || axis >= numAxes) {
    fail(
      context,
      `${field}: expected an axis in [${-numAxes}, ${numAxes - 1}] for a ${numAxes}-D bottom, received ${axis}`,
    );
  }
  return axis < 0 ? axis + numAxes : axis;
}

export function expectAxes(context: SetUpContext, shape: Shape, axes: number, what = 'bottom'): void {
  if (shape.length !== axes) {
    fail(context, `${what}: expected a ${axes}-D blob, received shape ${formatShape(shape)}`);
  }
}

export function formatShape(shape: Shape): string {
  return shape.length === 0 ? '(scalar)' : shape.join('x');
}
