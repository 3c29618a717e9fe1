// Caffe's fillers (include/caffe/filler.hpp): the initial values of a learnable blob, drawn from our Rng.
// Every filler returns a new Float32Array in the blob's row-major order.

import { BadInputError } from '../contract/errors.js';
import type { FillerParameter } from '../proto/messages.js';
import { VarianceNorm } from '../proto/messages.js';
import type { Rng } from '../rng.js';

/** FillerParameter with caffe.proto's defaults applied. */
export interface ResolvedFiller {
  type: string;
  value: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  sparse: number;
  varianceNorm: number;
}

type FillFunction = (
  filler: ResolvedFiller,
  shape: readonly number[],
  rng: Rng,
  where: string,
) => Float32Array;

const FILLERS: Readonly<Record<string, FillFunction>> = {
  constant: fillConstant,
  uniform: fillUniform,
  gaussian: fillGaussian,
  positive_unitball: fillPositiveUnitball,
  xavier: fillXavier,
  msra: fillMsra,
  bilinear: fillBilinear,
};

/** Defaults of caffe.proto's FillerParameter. */
export function resolveFiller(param: FillerParameter | undefined): ResolvedFiller {
  return {
    type: param?.type ?? 'constant',
    value: param?.value ?? 0,
    min: param?.min ?? 0,
    max: param?.max ?? 1,
    mean: param?.mean ?? 0,
    std: param?.std ?? 1,
    sparse: param?.sparse ?? -1,
    varianceNorm: param?.varianceNorm ?? VarianceNorm.FAN_IN,
  };
}

/**
 * The values of a blob of `shape` drawn by `param`. `where` names the field for errors
 * (e.g. `layer "conv1" convolution_param.weight_filler`).
 */
export function fillBlob(
  param: FillerParameter | undefined,
  shape: readonly number[],
  rng: Rng,
  where: string,
): Float32Array {
  const filler = resolveFiller(param);
  const fill = FILLERS[filler.type];
  if (!fill) {
    throw new BadInputError(
      `type: expected one of ${Object.keys(FILLERS).join(', ')}, received "${filler.type}"`,
      where,
    );
  }
  if (countOf(shape) === 0) {
    throw new BadInputError(
      `expected a blob with at least one element, received shape [${shape.join(', ')}]`,
      where,
    );
  }
  if (filler.type !== 'gaussian' && filler.sparse !== -1) {
    throw new BadInputError(
      `sparse: only the gaussian filler supports sparsity, received sparse ${filler.sparse} for ${filler.type}`,
      where,
    );
  }
  return fill(filler, shape, rng, where);
}

/** The fan-in and fan-out Caffe uses: count / num and count / channels, with absent axes counting as 1. */
export function fanInOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const count = countOf(shape);
  const num = shape[0] ?? 1;
  const channels = shape[1] ?? 1;
  // Caffe compat: integer division, as Caffe computes both in int.
  return { fanIn: Math.trunc(count / num), fanOut: Math.trunc(count / channels) };
}

function fillConstant(filler: ResolvedFiller, shape: readonly number[]): Float32Array {
  return new Float32Array(countOf(shape)).fill(filler.value);
}

function fillUniform(filler: ResolvedFiller, shape: readonly number[], rng: Rng): Float32Array {
  return drawUniform(countOf(shape), filler.min, filler.max, rng);
}

function fillGaussian(
  filler: ResolvedFiller,
  shape: readonly number[],
  rng: Rng,
  where: string,
): Float32Array {
  const data = drawGaussian(countOf(shape), filler.mean, filler.std, rng);
  if (filler.sparse < -1 || !Number.isInteger(filler.sparse)) {
    throw new BadInputError(`sparse: expected -1 (dense) or a count >= 0, received ${filler.sparse}`, where);
  }
  if (filler.sparse >= 0) {
    if (shape.length < 1) throw new BadInputError('sparse: needs a blob with at least one axis', where);
    // Each weight survives with probability sparse / num_outputs: on average `sparse` non-zeros per input.
    const keepProbability = filler.sparse / (shape[0] ?? 1);
    for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) * rng.bernoulli(keepProbability);
  }
  return data;
}

function fillPositiveUnitball(_filler: ResolvedFiller, shape: readonly number[], rng: Rng): Float32Array {
  const count = countOf(shape);
  const data = drawUniform(count, 0, 1, rng);
  const num = shape[0] ?? 1;
  const dim = count / num;
  for (let row = 0; row < num; row++) {
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += data[row * dim + j] ?? 0;
    for (let j = 0; j < dim; j++) data[row * dim + j] = (data[row * dim + j] ?? 0) / sum;
  }
  return data;
}

function fillXavier(filler: ResolvedFiller, shape: readonly number[], rng: Rng): Float32Array {
  const scale = Math.sqrt(3 / fanForVarianceNorm(shape, filler.varianceNorm));
  return drawUniform(countOf(shape), -scale, scale, rng);
}

function fillMsra(filler: ResolvedFiller, shape: readonly number[], rng: Rng): Float32Array {
  const std = Math.sqrt(2 / fanForVarianceNorm(shape, filler.varianceNorm));
  return drawGaussian(countOf(shape), 0, std, rng);
}

/** Weights of a bilinear upsampling kernel, the same (K, K) kernel for every (output, input) pair. */
function fillBilinear(
  _filler: ResolvedFiller,
  shape: readonly number[],
  _rng: Rng,
  where: string,
): Float32Array {
  if (shape.length !== 4) {
    throw new BadInputError(`bilinear: expected a 4-axis blob, received shape [${shape.join(', ')}]`, where);
  }
  const height = shape[2] ?? 0;
  const width = shape[3] ?? 0;
  if (height !== width) {
    throw new BadInputError(`bilinear: expected a square kernel, received ${height}x${width}`, where);
  }
  const f = Math.ceil(width / 2);
  const centre = (width - 1) / (2 * f);
  const data = new Float32Array(countOf(shape));
  for (let i = 0; i < data.length; i++) {
    const x = i % width;
    const y = Math.floor(i / width) % height;
    data[i] = (1 - Math.abs(x / f - centre)) * (1 - Math.abs(y / f - centre));
  }
  return data;
}

function fanForVarianceNorm(shape: readonly number[], varianceNorm: number): number {
  const { fanIn, fanOut } = fanInOut(shape);
  if (varianceNorm === VarianceNorm.AVERAGE) return (fanIn + fanOut) / 2;
  if (varianceNorm === VarianceNorm.FAN_OUT) return fanOut;
  return fanIn;
}

function drawUniform(count: number, min: number, max: number, rng: Rng): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = rng.uniform(min, max);
  return data;
}

function drawGaussian(count: number, mean: number, std: number, rng: Rng): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = rng.gaussian(mean, std);
  return data;
}

function countOf(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}
