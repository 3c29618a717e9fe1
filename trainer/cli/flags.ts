// Caffe-style flags (`--solver=S`, `--iterations 50`, `--oversample`) with node's own parser.
import { parseArgs } from 'node:util';
import { UsageError } from '../contract/errors.js';
import { type DataShapeDefaults, DEFAULT_DATA_SHAPE } from '../net/spec/index.js';
import { Phase } from '../proto/index.js';

export type FlagSpec = Record<
  string,
  { type: 'string' | 'boolean'; multiple?: boolean; default?: string | boolean }
>;

export function parseFlags<T extends FlagSpec>(argv: string[], spec: T, usage: string) {
  try {
    return parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${usage}`);
  }
}

/** A flag's value as a number, or a usage error naming the flag. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, received '${value}'`);
  return n;
}

/** --phase=TRAIN|TEST (default TRAIN) as Caffe's Phase number. */
export function phaseFlag(value: string | undefined): number {
  if (value === undefined || value === 'TRAIN') return Phase.TRAIN;
  if (value === 'TEST') return Phase.TEST;
  throw new UsageError(`--phase: expected TRAIN or TEST, received '${value}'`);
}

/** --data-shape=C,H,W: the image size of Data layers without crop_size, which Caffe reads from the
 * database's first record. Default 3,256,256. */
export function dataShapeFlag(value: string | undefined): DataShapeDefaults {
  if (value === undefined) return DEFAULT_DATA_SHAPE;
  const dims = value.split(',').map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new UsageError(`--data-shape: expected C,H,W as three positive integers, received '${value}'`);
  }
  const [channels, height, width] = dims as [number, number, number];
  return { channels, height, width };
}
