import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  containerLimits,
  layoutFromProcCgroup,
  oomKills,
  planContainerCgroup,
} from '../../../hack/kubelet/cgroup-plan.js';
import { joiningArgv } from '../../../hack/kubelet/process.js';

const V1_PROC = ['9:name=systemd:/', '4:memory:/process_api/abc', '2:cpuacct:/', '1:cpu:/', '0::/'].join(
  '\n',
);

describe('containerLimits', () => {
  it('turns limits.cpu into a CFS quota per 100 ms period and limits.memory into bytes', () => {
    assert.deepEqual(containerLimits({ cpu: '1500m', memory: '1Gi' }), {
      cpuPeriodUs: 100_000,
      cpuQuotaUs: 150_000,
      memoryBytes: 1073741824,
    });
  });
  it('gives at least the kernel minimum of 1 ms of quota', () => {
    assert.equal(containerLimits({ cpu: '1m' }).cpuQuotaUs, 1000);
  });
  it('leaves what is not limited unlimited', () => {
    assert.deepEqual(containerLimits(undefined), { cpuPeriodUs: 100_000 });
  });
});

describe('layoutFromProcCgroup', () => {
  it('reads a cgroup v1 node (a hierarchy per controller, the unified line ignored)', () => {
    assert.deepEqual(layoutFromProcCgroup(V1_PROC), {
      version: 1,
      mount: '/sys/fs/cgroup',
      memoryPath: '/process_api/abc',
      cpuPath: '/',
    });
  });
  it('reads a cgroup v1 node whose cpu and cpuacct share a hierarchy', () => {
    const layout = layoutFromProcCgroup('5:cpu,cpuacct:/kubelet\n3:memory:/kubelet\n');
    assert.deepEqual(layout, {
      version: 1,
      mount: '/sys/fs/cgroup',
      memoryPath: '/kubelet',
      cpuPath: '/kubelet',
    });
  });
  it('reads a cgroup v2 node (only the unified line)', () => {
    assert.deepEqual(layoutFromProcCgroup('0::/system.slice/kubelet.service\n'), {
      version: 2,
      mount: '/sys/fs/cgroup',
      path: '/system.slice/kubelet.service',
    });
  });
  it('finds nothing in an empty file', () => {
    assert.equal(layoutFromProcCgroup(''), undefined);
  });
});

describe('planContainerCgroup', () => {
  const limits = { memoryBytes: 268435456, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000 };

  it('on cgroup v1 nests under the kubelet cgroup of each hierarchy', () => {
    const layout = layoutFromProcCgroup(V1_PROC)!;
    const plan = planContainerCgroup(layout, 'uid-1_trainer', limits);
    const memory = '/sys/fs/cgroup/memory/process_api/abc/brewery-pods/uid-1_trainer';
    const cpu = '/sys/fs/cgroup/cpu/brewery-pods/uid-1_trainer';
    assert.deepEqual(plan, {
      dirs: [
        '/sys/fs/cgroup/memory/process_api/abc/brewery-pods',
        memory,
        '/sys/fs/cgroup/cpu/brewery-pods',
        cpu,
      ],
      writes: [
        { file: `${memory}/memory.limit_in_bytes`, value: '268435456' },
        { file: `${cpu}/cpu.cfs_period_us`, value: '100000' },
        { file: `${cpu}/cpu.cfs_quota_us`, value: '50000' },
      ],
      procsFiles: [`${memory}/cgroup.procs`, `${cpu}/cgroup.procs`],
      removeDirs: [memory, cpu],
      oomEventsFile: `${memory}/memory.oom_control`,
      peakFile: `${memory}/memory.max_usage_in_bytes`,
    });
  });

  it('on cgroup v2 puts the containers beside the kubelet cgroup, handing them memory and cpu', () => {
    const layout = layoutFromProcCgroup('0::/system.slice/kubelet.service\n')!;
    const plan = planContainerCgroup(layout, 'uid-1_trainer', limits);
    const pods = '/sys/fs/cgroup/system.slice/brewery-pods';
    const dir = `${pods}/uid-1_trainer`;
    assert.deepEqual(plan, {
      dirs: [pods, dir],
      writes: [
        { file: `${pods}/cgroup.subtree_control`, value: '+memory +cpu' },
        { file: `${dir}/memory.max`, value: '268435456' },
        { file: `${dir}/memory.swap.max`, value: '0' },
        { file: `${dir}/cpu.max`, value: '50000 100000' },
      ],
      procsFiles: [`${dir}/cgroup.procs`],
      removeDirs: [dir],
      oomEventsFile: `${dir}/memory.events`,
      peakFile: `${dir}/memory.peak`,
    });
  });

  it('on cgroup v2 with the kubelet in the root cgroup uses a folder under the root', () => {
    const plan = planContainerCgroup({ version: 2, mount: '/sys/fs/cgroup', path: '/' }, 'c', {
      cpuPeriodUs: 100_000,
    });
    assert.deepEqual(plan.dirs, ['/sys/fs/cgroup/brewery-pods', '/sys/fs/cgroup/brewery-pods/c']);
    assert.deepEqual(plan.writes, [
      { file: '/sys/fs/cgroup/brewery-pods/cgroup.subtree_control', value: '+memory +cpu' },
    ]);
  });
});

describe('oomKills', () => {
  it('reads the count from v1 memory.oom_control', () => {
    assert.equal(oomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), 2);
  });
  it('reads the count from v2 memory.events, not oom or oom_group_kill', () => {
    assert.equal(oomKills('low 0\nhigh 0\nmax 12\noom 3\noom_kill 1\noom_group_kill 0\n'), 1);
  });
  it('is 0 where the line is missing', () => {
    assert.equal(oomKills('under_oom 0\n'), 0);
  });
});

describe('joiningArgv', () => {
  it('joins every cgroup before it execs the command line as given', () => {
    assert.deepEqual(
      joiningArgv(
        ['caffe', 'train', "--solver=it's.prototxt"],
        ['/cg/a/cgroup.procs', "/cg/b'/cgroup.procs"],
      ),
      [
        '/bin/sh',
        '-c',
        `echo $$ > '/cg/a/cgroup.procs' && echo $$ > '/cg/b'\\''/cgroup.procs' && exec "$@"`,
        'caffe',
        'caffe',
        'train',
        "--solver=it's.prototxt",
      ],
    );
  });
});
