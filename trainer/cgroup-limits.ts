// What this process may use, read from its cgroup at start: the memory limit and the CPU quota as cores,
// on cgroup v1 (memory.limit_in_bytes, cpu.cfs_quota_us / cpu.cfs_period_us) and v2 (memory.max,
// cpu.max), as the kernel documents them (Documentation/admin-guide/cgroup-v1/memory.rst,
// Documentation/scheduler/sched-bwc.rst, Documentation/admin-guide/cgroup-v2.rst). A limit set on an
// ancestor binds too, so the tightest along the path counts. Inside a container the process may see
// its own cgroup as the root of the mount: the mount's root is read as well.
import { readFileSync } from 'node:fs';

/** v1 writes "no limit" as the largest page-aligned 64-bit value; anything this big is no limit. */
const NO_LIMIT_FROM = 2 ** 60;

export interface CgroupLimits {
  memoryBytes?: number;
  /** CPU quota over period, e.g. 1.5. */
  cores?: number;
}

/** The files that may hold this process's limits, nearest cgroup first. */
export interface LimitFiles {
  version: 1 | 2;
  memory: string[];
  /** v1: [quota, period] pairs; v2: cpu.max files. */
  cpu: string[][];
}

/** PURE: the limit files for a /proc/self/cgroup text. */
export function limitFiles(procCgroup: string, mount = '/sys/fs/cgroup'): LimitFiles | undefined {
  const entries = procCgroup
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const parts = line.trim().split(':');
      return { controllers: (parts[1] ?? '').split(','), path: parts.slice(2).join(':') };
    });
  const memory = entries.find((e) => e.controllers.includes('memory'));
  const cpu = entries.find((e) => e.controllers.includes('cpu'));
  if (memory || cpu) {
    return {
      version: 1,
      memory: memory ? ancestors(memory.path).map((p) => `${mount}/memory${p}/memory.limit_in_bytes`) : [],
      cpu: cpu
        ? ancestors(cpu.path).map((p) => [
            `${mount}/cpu${p}/cpu.cfs_quota_us`,
            `${mount}/cpu${p}/cpu.cfs_period_us`,
          ])
        : [],
    };
  }
  const unified = entries.find((e) => e.controllers.length === 1 && e.controllers[0] === '');
  if (!unified) return undefined;
  const paths = ancestors(unified.path);
  return {
    version: 2,
    memory: paths.map((p) => `${mount}${p}/memory.max`),
    cpu: paths.map((p) => [`${mount}${p}/cpu.max`]),
  };
}

/** PURE: the tightest limits from the files' contents (undefined where a file was not readable). */
export function limitsFromContents(
  files: LimitFiles,
  read: (file: string) => string | undefined,
): CgroupLimits {
  const result: CgroupLimits = {};
  const memories = files.memory
    .map((file) => read(file)?.trim())
    .filter((text): text is string => text !== undefined && text !== 'max')
    .map(Number)
    .filter((bytes) => Number.isFinite(bytes) && bytes > 0 && bytes < NO_LIMIT_FROM);
  if (memories.length > 0) result.memoryBytes = Math.min(...memories);
  const cores = files.cpu
    .map((group) => {
      const [quota, period] =
        files.version === 1
          ? [read(group[0]!)?.trim(), read(group[1]!)?.trim()]
          : (read(group[0]!)?.trim().split(/\s+/) ?? []);
      const q = Number(quota);
      const p = Number(period);
      return quota === 'max' || !(q > 0) || !(p > 0) ? undefined : q / p;
    })
    .filter((c): c is number => c !== undefined);
  if (cores.length > 0) result.cores = Math.min(...cores);
  return result;
}

/** Reads this process's cgroup limits; empty where there are no cgroups to read. */
export function readCgroupLimits(procCgroup = '/proc/self/cgroup', mount = '/sys/fs/cgroup'): CgroupLimits {
  const files = limitFiles(readOr(procCgroup) ?? '', mount);
  return files ? limitsFromContents(files, readOr) : {};
}

/** `/a/b` → [`/a/b`, `/a`, ``]: the path and each ancestor up to the mount's root. */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const result: string[] = [];
  for (let n = parts.length; n >= 0; n--) result.push(n === 0 ? '' : `/${parts.slice(0, n).join('/')}`);
  return result;
}

function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
