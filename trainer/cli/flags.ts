// Caffe-style flags (`--solver=S`, `--iterations 50`, `--oversample`) with node's own parser.
import { parseArgs } from 'node:util';

import { UsageError } from '../errors.js';

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
