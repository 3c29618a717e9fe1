import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { limitFiles, limitsFromContents } from '../../../trainer/cgroup-limits.js';

describe('limitFiles', () => {
  it('on cgroup v1 lists the memory and cpu files of the cgroup and each ancestor', () => {
    const files = limitFiles('4:memory:/pods/p1\n1:cpu,cpuacct:/pods/p1\n0::/\n', '/cg');
    assert.deepEqual(files, {
      version: 1,
      memory: [
        '/cg/memory/pods/p1/memory.limit_in_bytes',
        '/cg/memory/pods/memory.limit_in_bytes',
        '/cg/memory/memory.limit_in_bytes',
      ],
      cpu: [
        ['/cg/cpu/pods/p1/cpu.cfs_quota_us', '/cg/cpu/pods/p1/cpu.cfs_period_us'],
        ['/cg/cpu/pods/cpu.cfs_quota_us', '/cg/cpu/pods/cpu.cfs_period_us'],
        ['/cg/cpu/cpu.cfs_quota_us', '/cg/cpu/cpu.cfs_period_us'],
      ],
    });
  });
  it('on cgroup v2 lists memory.max and cpu.max up the unified hierarchy', () => {
    assert.deepEqual(limitFiles('0::/kubepods/pod1/c1\n', '/cg'), {
      version: 2,
      memory: [
        '/cg/kubepods/pod1/c1/memory.max',
        '/cg/kubepods/pod1/memory.max',
        '/cg/kubepods/memory.max',
        '/cg/memory.max',
      ],
      cpu: [
        ['/cg/kubepods/pod1/c1/cpu.max'],
        ['/cg/kubepods/pod1/cpu.max'],
        ['/cg/kubepods/cpu.max'],
        ['/cg/cpu.max'],
      ],
    });
  });
});

describe('limitsFromContents', () => {
  it('on v1 takes the tightest limit along the path; the unlimited value and -1 are no limit', () => {
    const files = limitFiles('4:memory:/a/b\n1:cpu:/a/b\n', '/cg')!;
    const contents: Record<string, string> = {
      '/cg/memory/a/b/memory.limit_in_bytes': '9223372036854771712\n',
      '/cg/memory/a/memory.limit_in_bytes': '1073741824\n',
      '/cg/memory/memory.limit_in_bytes': '9223372036854771712\n',
      '/cg/cpu/a/b/cpu.cfs_quota_us': '150000\n',
      '/cg/cpu/a/b/cpu.cfs_period_us': '100000\n',
      '/cg/cpu/a/cpu.cfs_quota_us': '-1\n',
      '/cg/cpu/a/cpu.cfs_period_us': '100000\n',
    };
    assert.deepEqual(
      limitsFromContents(files, (f) => contents[f]),
      { memoryBytes: 1073741824, cores: 1.5 },
    );
  });
  it('on v2 reads memory.max and cpu.max, where "max" is no limit', () => {
    const files = limitFiles('0::/pod\n', '/cg')!;
    const contents: Record<string, string> = {
      '/cg/pod/memory.max': '4294967296\n',
      '/cg/pod/cpu.max': '100000 100000\n',
      '/cg/memory.max': 'max\n',
      '/cg/cpu.max': 'max 100000\n',
    };
    assert.deepEqual(
      limitsFromContents(files, (f) => contents[f]),
      { memoryBytes: 4294967296, cores: 1 },
    );
  });
  it('finds no limits where no file can be read', () => {
    assert.deepEqual(
      limitsFromContents(limitFiles('0::/\n')!, () => undefined),
      {},
    );
  });
});
