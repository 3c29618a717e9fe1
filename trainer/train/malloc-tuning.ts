// glibc malloc settings for `caffe train`. Native TensorFlow takes every tensor's memory from malloc, and
// glibc serves a block above its mmap threshold (32 MiB at most, by its own rule) with a fresh mmap and
// gives it back with munmap when it is freed. So each large tensor an iteration makes (CaffeNet's fc6
// weights, their gradient and every temporary of their update: 151 MB apiece) is new memory the kernel
// faults in and zeroes page by page: measured on CaffeNet at batch 10, the SGD update spent about 650 ms
// of system time per iteration doing that against about 300 ms computing. With the thresholds raised,
// freed blocks stay in the heap and the next iteration reuses them (system time near 0 once the heap has
// grown). glibc reads these from the environment only when a process starts, hence relaunchArgs below.
//
// It costs memory, though: freed blocks are never returned, and the heap fragments. `caffe train` on
// CaffeNet's train_val at the tutorial's batch of 256 peaked at 5.66 GiB with it against 3.65 GiB without
// (maxRSS, measured here; real Caffe 3.11 GiB). So it is opt-in (BREWERY_MALLOC_TUNING=on), for small
// batches where the update's page faults are a large share of an iteration.

/** What `caffe train` sets when the environment does not: no mmap for big blocks, no trimming. */
export const MALLOC_TUNING: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '4294967296',
  MALLOC_TRIM_THRESHOLD_: '4294967296',
};

/**
 * The variables to add before training, or undefined: only with BREWERY_MALLOC_TUNING=on, on Linux
 * (glibc), and never when any of them is set already (the operator's or the user's value wins, and a
 * process started with them does not start again).
 */
export function mallocTuningEnv(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): Record<string, string> | undefined {
  if (platform !== 'linux' || env.BREWERY_MALLOC_TUNING !== 'on') return undefined;
  if (Object.keys(MALLOC_TUNING).some((name) => env[name] !== undefined)) return undefined;
  return { ...MALLOC_TUNING };
}
