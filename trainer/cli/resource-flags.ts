// --threads and --memory_budget, and what they default to: the process's cgroup (the pod's limits) and,
// where nothing limits it, the machine. Shared by `caffe train` and `caffe imagenet prep`.
import { availableParallelism } from 'node:os';

import type { CgroupLimits } from '../cgroup-limits.js';
import { UsageError } from '../contract/errors.js';
import { memoryBytes } from '../contract/quantity.js';

export interface RunSize {
  threads: number;
  memoryBudgetBytes?: number;
  /** Where each figure came from, for the log: `2 threads (cgroup CPU quota 1.5), ...`. */
  description: string;
}

/** PURE (given the cgroup's limits and the core count): the threads and memory budget of a run. */
export function runSize(
  flags: { threads?: string; memoryBudget?: string },
  limits: CgroupLimits,
  cores = availableParallelism(),
): RunSize {
  let threads: number;
  let threadsFrom: string;
  if (flags.threads !== undefined) {
    threads = Number(flags.threads);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new UsageError(`--threads: expected a positive integer, received '${flags.threads}'`);
    }
    threadsFrom =
      limits.cores === undefined ? '--threads' : `--threads; cgroup CPU quota ${round(limits.cores)}`;
  } else if (limits.cores !== undefined) {
    threads = Math.max(1, Math.ceil(limits.cores - 1e-9));
    threadsFrom = `cgroup CPU quota ${round(limits.cores)}`;
  } else {
    threads = cores;
    threadsFrom = 'cores';
  }
  const size: RunSize = { threads, description: `${threads} threads (${threadsFrom})` };
  if (flags.memoryBudget !== undefined) {
    const bytes = memoryBytes(flags.memoryBudget);
    if (bytes === undefined) {
      throw new UsageError(
        `--memory_budget: expected bytes or a quantity like 900Mi or 4Gi, received '${flags.memoryBudget}'`,
      );
    }
    size.memoryBudgetBytes = bytes;
    const cgroup = limits.memoryBytes === undefined ? '' : `; cgroup memory limit ${mib(limits.memoryBytes)}`;
    size.description += `, memory budget ${mib(bytes)} (--memory_budget${cgroup})`;
  } else if (limits.memoryBytes !== undefined) {
    size.memoryBudgetBytes = limits.memoryBytes;
    size.description += `, memory budget ${mib(limits.memoryBytes)} (cgroup memory limit)`;
  } else {
    size.description += ', no memory limit';
  }
  return size;
}

function round(cores: number): number {
  return Math.round(cores * 1000) / 1000;
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
