// Polling for integration tests: the cluster is eventually consistent, so tests wait for a state.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` until it returns a value other than undefined, or fails after `seconds`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  seconds = 60,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out after ${seconds}s waiting for ${what}${cause}`);
    }
    await sleep(intervalMs);
  }
}

/** True when the error is the apiserver's 404. */
export function isNotFound(error: unknown): boolean {
  const e = error as { code?: number; statusCode?: number; body?: unknown };
  return e?.code === 404 || e?.statusCode === 404;
}
