// Which compute backend to try, and in what order: pure decisions, no imports of any backend.

import { UsageError } from '../contract/errors.js';

/** What a user may ask for with --backend or BREWERY_BACKEND. */
export const backendChoices = ['auto', 'tensorflow', 'tensorflow-gpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];

/** The backends we can start, fastest first. */
export type BackendCandidate = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * The choice from a flag value or the environment; the flag wins. An empty or absent value means
 * `auto`. `source` names where the value came from, for the error message.
 */
export function parseBackendChoice(flag: string | undefined, env: string | undefined): BackendChoice {
  const [raw, source] = flag ? [flag, '--backend'] : [env, 'BREWERY_BACKEND'];
  if (!raw) return 'auto';
  const value = raw.trim().toLowerCase();
  if ((backendChoices as readonly string[]).includes(value)) return value as BackendChoice;
  throw new UsageError(`${source}: expected one of ${backendChoices.join(', ')}, received "${raw}"`);
}

/**
 * The candidates to try in order. `auto` falls through to the next when one cannot start; an explicit
 * choice has no fallback, so asking for a backend that is missing is an error, not a silent slow run.
 * `tensorflow` means native TensorFlow: the GPU build when present, else the CPU build;
 * `tensorflow-gpu` the GPU build only (`npm run setup:gpu`), which runs on the CPU when no GPU is found.
 */
export function candidatesFor(choice: BackendChoice): BackendCandidate[] {
  switch (choice) {
    case 'auto':
      return ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
    case 'tensorflow':
      return ['tensorflow-gpu', 'tensorflow'];
    case 'tensorflow-gpu':
      return ['tensorflow-gpu'];
    case 'wasm':
      return ['wasm'];
    case 'cpu':
      return ['cpu'];
  }
}

/** A candidate that could not start, and the loader's or backend's own reason. */
export type BackendFailure = { candidate: BackendCandidate; reason: string };

/**
 * The one line that says why a slower backend runs, or undefined when none is due. A CPU machine has no
 * GPU build, so native TensorFlow on the CPU after a missing GPU build says nothing; wasm (or pure JS)
 * after native failed says what native's loader reported and how to provision it.
 */
export function fallbackReason(
  started: BackendCandidate,
  failures: readonly BackendFailure[],
): string | undefined {
  if (started === 'tensorflow-gpu' || started === 'tensorflow') return undefined;
  const native = failures.find((f) => f.candidate === 'tensorflow');
  const others = failures.filter((f) => f.candidate !== 'tensorflow' && f.candidate !== 'tensorflow-gpu');
  if (!native && others.length === 0) return undefined;
  const reasons = [
    ...(native ? [`native TensorFlow is not available (${native.reason})`] : []),
    ...others.map((f) => `${f.candidate} did not start (${f.reason})`),
  ];
  const hint = native ? '; `npm run setup` (or setup:native) provisions native TensorFlow' : '';
  return `Falling back to ${started}, slower: ${reasons.join('; ')}${hint}`;
}

/** Threads for the wasm backend: every core this process may use, or the override when given. */
export function wasmThreadsFor(availableCores: number, override: string | undefined): number {
  if (override !== undefined && override !== '') {
    const n = Number(override);
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError(`BREWERY_WASM_THREADS: expected a positive integer, received "${override}"`);
    }
    return n;
  }
  return Math.max(1, availableCores);
}
