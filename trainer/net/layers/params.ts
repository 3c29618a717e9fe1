// Reading and checking layer parameters at set-up: proto2 leaves unset fields undefined, so each reader
// applies caffe.proto's default and rejects values Caffe would reject, naming the field.

import { BadInputError } from '../../contract/errors.js';

/** A non-negative integer field (uint32 in caffe.proto). */
export function nonNegativeInt(
  value: number | undefined,
  fallback: number,
  field: string,
  where: string,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) {
    throw new BadInputError(`${field}: expected a non-negative integer, received ${v}`, where);
  }
  return v;
}

export function positiveInt(
  value: number | undefined,
  fallback: number | undefined,
  field: string,
  where: string,
) {
  const v = value ?? fallback;
  if (v === undefined)
    throw new BadInputError(`${field}: expected a positive integer, received nothing`, where);
  if (!Number.isInteger(v) || v <= 0) {
    throw new BadInputError(`${field}: expected a positive integer, received ${v}`, where);
  }
  return v;
}

export function finiteNumber(
  value: number | undefined,
  fallback: number,
  field: string,
  where: string,
): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v))
    throw new BadInputError(`${field}: expected a finite number, received ${v}`, where);
  return v;
}

/** Caffe's CanonicalAxisIndex: an axis in [-numAxes, numAxes), negative counting from the end. */
export function canonicalAxis(axis: number, numAxes: number, field: string, where: string): number {
  if (!Number.isInteger(axis) || axis < -numAxes || axis >= numAxes) {
    throw new BadInputError(
      `${field}: expected an axis in [${-numAxes}, ${numAxes}) for a ${numAxes}-axis blob, received ${axis}`,
      where,
    );
  }
  return axis < 0 ? axis + numAxes : axis;
}

/** A value from an enum of caffe.proto, by its number. */
export function enumValue<T extends Record<string, number>>(
  value: number | undefined,
  fallback: number,
  values: T,
  field: string,
  where: string,
): number {
  const v = value ?? fallback;
  if (!Object.values(values).includes(v)) {
    const names = Object.entries(values).map(([name, n]) => `${name} (${n})`);
    throw new BadInputError(`${field}: expected one of ${names.join(', ')}, received ${v}`, where);
  }
  return v;
}

/** A layer parameter Caffe supports but this trainer does not; named so the user can change the prototxt. */
export function unsupported(field: string, received: unknown, where: string): never {
  throw new BadInputError(`${field}: ${String(received)} is not supported by this trainer`, where);
}

export function countOf(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}
