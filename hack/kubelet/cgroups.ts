// Enforcing a container's limits with the node's cgroups: a cgroup per container run, made and limited
// before the container starts, joined by its first process before it runs the container's program
// (so nothing it starts escapes), read for OOM kills and peak memory when it ends, then removed.
// Where the files are is decided in cgroup-plan.ts; this file only does the I/O.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from 'pino';

import {
  type CgroupLayout,
  type CgroupPlan,
  type ContainerLimits,
  layoutFromProcCgroup,
  oomKills,
  planContainerCgroup,
} from './cgroup-plan.js';

/** How long a container's leftover processes get to leave its cgroup before it is given up on. */
const REMOVE_ATTEMPTS = 20;
const REMOVE_WAIT_MS = 50;

export interface CgroupEnd {
  /** The memory cgroup's OOM killer killed a process of the container. */
  oomKilled: boolean;
  /** The most memory the container used, in bytes (undefined when the file could not be read). */
  peakBytes?: number;
}

/** A container's cgroup, made and limited, not yet joined. */
export class ContainerCgroup {
  constructor(readonly plan: CgroupPlan) {}

  /** Reads what happened in the cgroup; call once the container's processes have ended. */
  end(): CgroupEnd {
    const result: CgroupEnd = { oomKilled: oomKills(readOr(this.plan.oomEventsFile, '')) > 0 };
    const peak = readOr(this.plan.peakFile, '').trim();
    if (peak !== '' && Number.isFinite(Number(peak))) result.peakBytes = Number(peak);
    return result;
  }

  /** Removes the cgroup, killing any process of the container still in it. */
  async remove(log: Logger): Promise<void> {
    for (const dir of this.plan.removeDirs) {
      for (let attempt = 0; ; attempt++) {
        try {
          if (existsSync(dir)) rmdirSync(dir);
          break;
        } catch (error) {
          if (attempt >= REMOVE_ATTEMPTS) {
            log.warn({ err: error, cgroup: dir }, 'could not remove a container cgroup');
            break;
          }
          killMembers(`${dir}/cgroup.procs`);
          await sleep(REMOVE_WAIT_MS);
        }
      }
    }
  }
}

/** Makes per-container cgroups on this node; `available` is false where this process cannot. */
export class NodeCgroups {
  private constructor(
    private readonly layout: CgroupLayout | undefined,
    readonly unavailableReason?: string,
  ) {}

  /** Finds this process's cgroups and checks it may make cgroups there; logs once when it may not. */
  static detect(log: Logger, procCgroup = '/proc/self/cgroup'): NodeCgroups {
    const layout = layoutFromProcCgroup(readOr(procCgroup, ''));
    const reason = layout ? whyUnusable(layout) : `no memory and cpu cgroups in ${procCgroup}`;
    if (reason) {
      log.warn({ reason }, 'container limits are not enforced: cannot make cgroups on this node');
      return new NodeCgroups(undefined, reason);
    }
    log.info({ layout }, 'container limits enforced with cgroups');
    return new NodeCgroups(layout);
  }

  get available(): boolean {
    return this.layout !== undefined;
  }

  /** Makes and limits the cgroup of one container run; undefined when cgroups are unavailable. */
  create(name: string, limits: ContainerLimits): ContainerCgroup | undefined {
    if (!this.layout) return undefined;
    const plan = planContainerCgroup(this.layout, name, limits);
    for (const dir of plan.dirs) mkdirSync(dir, { recursive: true });
    for (const { file, value } of plan.writes) {
      try {
        writeFileSync(file, value);
      } catch (error) {
        // Kernels without swap accounting have no memory.swap.max: nothing to limit there.
        if (file.endsWith('memory.swap.max') && (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new Error(`writing ${value} to ${file}: ${(error as Error).message}`);
      }
    }
    return new ContainerCgroup(plan);
  }
}

/** Why cgroups cannot be made here (a folder under each hierarchy cannot be created), or undefined. */
function whyUnusable(layout: CgroupLayout): string | undefined {
  const plan = planContainerCgroup(layout, 'probe', { cpuPeriodUs: 0 });
  const folders = [...new Set(plan.dirs.filter((d) => !plan.removeDirs.includes(d)))];
  try {
    for (const folder of folders) mkdirSync(folder, { recursive: true });
    return undefined;
  } catch (error) {
    return `cannot create ${folders.join(', ')}: ${(error as Error).message}`;
  }
}

function killMembers(procsFile: string): void {
  for (const pid of readOr(procsFile, '')
    .split('\n')
    .map(Number)
    .filter((p) => p > 1)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
