// PURE: which cgroup files hold a container's limits, on cgroup v1 (one hierarchy per controller:
// memory.limit_in_bytes, cpu.cfs_quota_us/cpu.cfs_period_us) and on cgroup v2 (one unified hierarchy:
// memory.max, cpu.max), as the kernel documents them (Documentation/admin-guide/cgroup-v1/memory.rst,
// Documentation/scheduler/sched-bwc.rst, Documentation/admin-guide/cgroup-v2.rst). The values are
// those the kubelet writes for a container's limits (pkg/kubelet/cm: MilliCPUToQuota, period 100 ms).

import { memoryBytes, parseQuantity } from '../../trainer/contract/quantity.js';

/** The CFS period the kubelet uses unless --cpu-cfs-quota-period says otherwise: 100 ms. */
export const CFS_PERIOD_US = 100_000;
/** The kernel's smallest quota (1 ms), which the kubelet also enforces. */
const MIN_QUOTA_US = 1000;
/** The folder, beside or under the kubelet's own cgroup, that holds one cgroup per container. */
export const PODS_FOLDER = 'brewery-pods';

/** Where this process sits: v1 names a path per controller, v2 one path in the unified hierarchy. */
export type CgroupLayout =
  | { version: 1; mount: string; memoryPath: string; cpuPath: string }
  | { version: 2; mount: string; path: string };

export interface ContainerLimits {
  memoryBytes?: number;
  /** CPU time per period in microseconds, from limits.cpu. */
  cpuQuotaUs?: number;
  cpuPeriodUs: number;
}

export interface CgroupPlan {
  /** Folders to create, parents first. */
  dirs: string[];
  /** Files to write before the container runs, in order. */
  writes: { file: string; value: string }[];
  /** Where the container's first process writes its pid (every hierarchy it joins). */
  procsFiles: string[];
  /** The container's own folders, removed when it ends (children before parents). */
  removeDirs: string[];
  /** A `key value` file whose `oom_kill` line counts the OOM killer's kills in this cgroup. */
  oomEventsFile: string;
  /** The most memory the cgroup has used, in bytes. */
  peakFile: string;
}

/** A container's limits from its resources.limits (cpu in cores or millicores, memory in bytes). */
export function containerLimits(limits: Record<string, string | number> | undefined): ContainerLimits {
  const result: ContainerLimits = { cpuPeriodUs: CFS_PERIOD_US };
  const memory = limits?.memory === undefined ? undefined : memoryBytes(limits.memory);
  if (memory !== undefined) result.memoryBytes = memory;
  const cores = limits?.cpu === undefined ? undefined : parseQuantity(limits.cpu);
  if (cores !== undefined && cores > 0) {
    result.cpuQuotaUs = Math.max(MIN_QUOTA_US, Math.round(cores * CFS_PERIOD_US));
  }
  return result;
}

/**
 * The cgroup files of container `name` (unique on this host, e.g. `<pod uid>_<container>`). On v1 it
 * nests under the kubelet's own cgroup in each hierarchy. On v2 a cgroup with processes may not hand
 * controllers to children (the "no internal processes" rule), so the pods' folder is the kubelet's
 * sibling, which its parent's subtree_control already gives memory and cpu, and that folder hands
 * them on to the containers.
 */
export function planContainerCgroup(layout: CgroupLayout, name: string, limits: ContainerLimits): CgroupPlan {
  const writes: CgroupPlan['writes'] = [];
  if (layout.version === 1) {
    const memory = join(layout.mount, 'memory', layout.memoryPath, PODS_FOLDER, name);
    const cpu = join(layout.mount, 'cpu', layout.cpuPath, PODS_FOLDER, name);
    if (limits.memoryBytes !== undefined) {
      writes.push({ file: `${memory}/memory.limit_in_bytes`, value: String(limits.memoryBytes) });
    }
    if (limits.cpuQuotaUs !== undefined) {
      writes.push({ file: `${cpu}/cpu.cfs_period_us`, value: String(limits.cpuPeriodUs) });
      writes.push({ file: `${cpu}/cpu.cfs_quota_us`, value: String(limits.cpuQuotaUs) });
    }
    return {
      dirs: [parent(memory), memory, parent(cpu), cpu],
      writes,
      procsFiles: [`${memory}/cgroup.procs`, `${cpu}/cgroup.procs`],
      removeDirs: [memory, cpu],
      oomEventsFile: `${memory}/memory.oom_control`,
      peakFile: `${memory}/memory.max_usage_in_bytes`,
    };
  }
  const pods =
    layout.path === '/'
      ? join(layout.mount, PODS_FOLDER)
      : join(layout.mount, parent(layout.path), PODS_FOLDER);
  const dir = `${pods}/${name}`;
  writes.push({ file: `${pods}/cgroup.subtree_control`, value: '+memory +cpu' });
  if (limits.memoryBytes !== undefined) {
    writes.push({ file: `${dir}/memory.max`, value: String(limits.memoryBytes) });
    // A real node runs pods without swap; swapping would hide an over-limit container.
    writes.push({ file: `${dir}/memory.swap.max`, value: '0' });
  }
  if (limits.cpuQuotaUs !== undefined) {
    writes.push({ file: `${dir}/cpu.max`, value: `${limits.cpuQuotaUs} ${limits.cpuPeriodUs}` });
  }
  return {
    dirs: [pods, dir],
    writes,
    procsFiles: [`${dir}/cgroup.procs`],
    removeDirs: [dir],
    oomEventsFile: `${dir}/memory.events`,
    peakFile: `${dir}/memory.peak`,
  };
}

/**
 * This process's layout from /proc/self/cgroup (`hierarchy-id:controllers:path` lines): v1 when a
 * hierarchy names the memory controller, v2 when only the unified `0::path` line is there.
 */
export function layoutFromProcCgroup(text: string, mount = '/sys/fs/cgroup'): CgroupLayout | undefined {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const first = line.indexOf(':');
      const second = line.indexOf(':', first + 1);
      return { controllers: line.slice(first + 1, second).split(','), path: line.slice(second + 1) };
    });
  const memory = lines.find((l) => l.controllers.includes('memory'));
  const cpu = lines.find((l) => l.controllers.includes('cpu'));
  if (memory && cpu) return { version: 1, mount, memoryPath: memory.path, cpuPath: cpu.path };
  const unified = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === '');
  if (unified && lines.length === 1) return { version: 2, mount, path: unified.path };
  return undefined;
}

/** The oom_kill count in memory.oom_control (v1) or memory.events (v2); 0 when the line is missing. */
export function oomKills(eventsText: string): number {
  const line = eventsText.split('\n').find((l) => l.startsWith('oom_kill '));
  return line ? Number(line.slice('oom_kill '.length)) || 0 : 0;
}

function join(...parts: string[]): string {
  return parts.join('/').replace(/\/+/g, '/').replace(/\/$/, '');
}

function parent(path: string): string {
  const cut = path.replace(/\/$/, '').lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}
