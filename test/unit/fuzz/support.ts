// Shared parts of the fuzz tests: damaged copies of good bytes as fast-check arbitraries, the run
// count and seed (fixed and small in CI; BREWERY_FUZZ_RUNS and BREWERY_FUZZ_SEED for a longer run on
// demand), and the one property every reader must have: it parses, or it throws a BadInputError that
// names the place, never another exception.
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { BadInputError } from '../../../trainer/contract/errors.js';

/** fast-check's parameters: the given run count (or BREWERY_FUZZ_RUNS) and a fixed seed. */
export function fuzzParameters(runs: number): fc.Parameters<unknown> {
  const seed = Number(process.env.BREWERY_FUZZ_SEED ?? 25);
  return { seed, numRuns: Number(process.env.BREWERY_FUZZ_RUNS ?? runs), endOnFailure: true };
}

export type Damage =
  | { kind: 'truncate'; at: number }
  | { kind: 'overwrite'; changes: [number, number][] }
  | { kind: 'insert'; at: number; bytes: number[] };

/**
 * How a file gets damaged: cut short, some bytes changed (anywhere, or within the `hot` byte ranges
 * where its structure lies), or bytes inserted, which shifts everything after them.
 */
export function damageOf(length: number, hot: [number, number][] = [[0, length]]): fc.Arbitrary<Damage> {
  const position = fc.integer({ min: 0, max: Math.max(0, length - 1) });
  const hotPosition = fc.tuple(fc.integer({ min: 0, max: hot.length - 1 }), fc.nat()).map(([range, n]) => {
    const [start, end] = hot[range]!;
    return Math.min(length - 1, start + (n % Math.max(1, end - start)));
  });
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: position }),
    fc.record({
      kind: fc.constant('overwrite' as const),
      changes: fc.array(fc.tuple(fc.oneof(position, hotPosition), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 12,
      }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: position,
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
    }),
  );
}

export function applyDamage(bytes: Uint8Array, damage: Damage): Buffer {
  if (damage.kind === 'truncate') return Buffer.from(bytes.subarray(0, damage.at));
  if (damage.kind === 'insert') {
    return Buffer.concat([
      bytes.subarray(0, damage.at),
      Buffer.from(damage.bytes),
      bytes.subarray(damage.at),
    ]);
  }
  const copy = Buffer.from(bytes);
  for (const [at, value] of damage.changes) copy[at] = value;
  return copy;
}

/** Runs `read`: it may succeed, or throw a BadInputError whose `where` matches `place`; nothing else. */
export async function parsesOrNamesThePlace(read: () => unknown, place: RegExp): Promise<void> {
  try {
    await read();
  } catch (error) {
    if (!(error instanceof BadInputError)) {
      assert.fail(`expected a BadInputError, received ${(error as Error)?.stack ?? String(error)}`);
    }
    assert.match(error.where ?? '', place, `the error names no place: ${error.message}`);
    assert.doesNotMatch(error.message, /\n/, 'the message is one line');
  }
}
