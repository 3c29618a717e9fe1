import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { V1Container, V1Pod } from '@kubernetes/client-node';

import {
  expandVars,
  type ImageMap,
  type LaunchInput,
  planLaunch,
  resolveCommand,
  rewritePaths,
} from '../../../hack/kubelet/container-command.js';

const imageMap: ImageMap = {
  images: {
    'registry.example/brewery/trainer:1.0': {
      entrypoint: ['node', '/opt/trainer.js'],
      binaries: { caffe: ['node', '/opt/caffe.js'] },
    },
    '*brewery*/operator*': { entrypoint: ['node', '/opt/operator.js'] },
    'tools/*': { binaries: { convert: ['/usr/bin/convert-local'] } },
  },
};

describe('resolveCommand', () => {
  const cases: Array<{
    name: string;
    image: string;
    command: string[];
    args: string[];
    argv?: string[];
    error?: RegExp;
  }> = [
    {
      name: 'a mapped image without a command runs its entrypoint with the args',
      image: 'registry.example/brewery/trainer:1.0',
      command: [],
      args: ['train', '--solver=s.prototxt'],
      argv: ['node', '/opt/trainer.js', 'train', '--solver=s.prototxt'],
    },
    {
      name: 'a command naming a binary of the image runs that binary with the rest and the args',
      image: 'registry.example/brewery/trainer:1.0',
      command: ['caffe', 'train'],
      args: ['--solver=s.prototxt'],
      argv: ['node', '/opt/caffe.js', 'train', '--solver=s.prototxt'],
    },
    {
      name: 'a binary named by an absolute path is found by its base name',
      image: 'registry.example/brewery/trainer:1.0',
      command: ['/usr/local/bin/caffe', 'time'],
      args: [],
      argv: ['node', '/opt/caffe.js', 'time'],
    },
    {
      name: 'a command the image does not provide runs as given',
      image: 'registry.example/brewery/trainer:1.0',
      command: ['sh', '-c', 'echo hi'],
      args: [],
      argv: ['sh', '-c', 'echo hi'],
    },
    {
      name: 'a glob pattern matches',
      image: 'ghcr.io/x/brewery-test/operator:dev',
      command: [],
      args: ['--leader-elect=false'],
      argv: ['node', '/opt/operator.js', '--leader-elect=false'],
    },
    {
      name: 'an unmapped image runs its command on the host',
      image: 'busybox',
      command: ['sh', '-c', 'sleep 5'],
      args: [],
      argv: ['sh', '-c', 'sleep 5'],
    },
    {
      name: 'an unmapped image without a command cannot run',
      image: 'busybox',
      command: [],
      args: ['x'],
      error: /image "busybox".*no --image-map pattern matches/,
    },
    {
      name: 'a mapped image without an entrypoint needs a command',
      image: 'tools/magick',
      command: [],
      args: [],
      error: /image "tools\/magick".*no entrypoint/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = resolveCommand(c.image, c.command, c.args, imageMap);
      if (c.error) {
        assert.equal(result.ok, false);
        assert.match(result.ok ? '' : result.message, c.error);
      } else {
        assert.deepEqual(result, { ok: true, argv: c.argv });
      }
    });
  }
});

describe('expandVars', () => {
  const vars: Record<string, string> = { A: 'alpha', B: 'beta', EMPTY: '' };
  const cases: Array<[string, string, string]> = [
    ['a defined variable is replaced', '$(A)/x', 'alpha/x'],
    ['two variables', '$(A)$(B)', 'alphabeta'],
    ['an undefined variable stays as written', '$(NOPE)-$(A)', '$(NOPE)-alpha'],
    ['$$ escapes a dollar', '$$(A)', '$(A)'],
    ['a lone dollar stays', 'cost $5 $', 'cost $5 $'],
    ['an unterminated reference stays', 'x $(A', 'x $(A'],
    ['an empty value replaces', '[$(EMPTY)]', '[]'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () =>
      assert.equal(
        expandVars(input, (n) => vars[n]),
        expected,
      ),
    );
  }
});

describe('rewritePaths', () => {
  const mounts: Array<[string, string]> = [
    ['/data/cache', '/state/pods/p/volumes/cache'],
    ['/data', '/state/pods/p/volumes/data'],
    ['/dev/termination-log', '/state/pods/p/c.termination-log'],
  ];
  const cases: Array<[string, string, string]> = [
    ['the mount path itself', '/data', '/state/pods/p/volumes/data'],
    ['a path below it', '/data/train.txt', '/state/pods/p/volumes/data/train.txt'],
    ['a nested mount wins', '/data/cache/x', '/state/pods/p/volumes/cache/x'],
    ['after = in a flag', '--solver=/data/s.prototxt', '--solver=/state/pods/p/volumes/data/s.prototxt'],
    [
      'inside a shell line',
      'cat /data/a > /dev/termination-log',
      'cat /state/pods/p/volumes/data/a > /state/pods/p/c.termination-log',
    ],
    ['not a longer name', '/database/x', '/database/x'],
    ['not inside another path', '/srv/data/x', '/srv/data/x'],
    ['not inside a URI', 's3://bucket/data/x', 's3://bucket/data/x'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.equal(rewritePaths(input, mounts), expected));
  }
});

describe('planLaunch', () => {
  const pod: V1Pod = {
    metadata: {
      name: 'trainer-0',
      namespace: 'ml',
      uid: 'u-1',
      labels: { app: 'caffe' },
      annotations: { note: 'n' },
    },
    spec: { nodeName: 'local-0', serviceAccountName: 'trainer', containers: [] },
  };
  const base = (container: V1Container, over: Partial<LaunchInput> = {}): LaunchInput => ({
    pod,
    container,
    imageMap,
    podIP: '127.1.0.7',
    hostIP: '127.0.0.1',
    nodeName: 'local-0',
    podDir: '/state/pods/ml_trainer-0_u-1',
    volumeFolders: new Map([['data', '/state/pods/ml_trainer-0_u-1/volumes/data']]),
    terminationMessageFile: '/state/pods/ml_trainer-0_u-1/main.termination-log',
    containerRoot: '/state/pods/ml_trainer-0_u-1/rootfs/main',
    hostEnv: { PATH: '/usr/bin', HOME: '/home/kubelet' },
    apiserver: { host: '127.0.0.1', port: '6443' },
    lookups: {
      configMaps: new Map([['settings', { MODE: 'fast', DIR: '/data/out' }]]),
      secrets: new Map([['creds', { KEY: 's3cret' }]]),
    },
    ...over,
  });

  it('resolves env from values, the downward API, ConfigMaps, Secrets and envFrom with a prefix', () => {
    const result = planLaunch(
      base({
        name: 'main',
        image: 'busybox',
        command: ['sh', '-c', 'echo $(GREETING) $(POD_IP)'],
        env: [
          { name: 'GREETING', value: 'hello-$(MY_NAME)' },
          { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'LATER', value: '$(MY_NAME)' },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'KEY' } } },
          { name: 'MISSING', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
        ],
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
      }),
    );
    assert.ok(result.ok, JSON.stringify(result));
    // GREETING comes before MY_NAME, so $(MY_NAME) is not yet defined there (as in Kubernetes).
    assert.equal(result.env.GREETING, 'hello-$(MY_NAME)');
    assert.equal(result.env.LATER, 'trainer-0');
    assert.equal(result.env.APP, 'caffe');
    assert.equal(result.env.SA, 'trainer');
    assert.equal(result.env.IP, '127.1.0.7');
    assert.equal(result.env.KEY, 's3cret');
    assert.equal('MISSING' in result.env, false);
    assert.equal(result.env.CFG_MODE, 'fast');
    assert.equal(result.env.PATH, '/usr/bin');
    assert.equal(result.env.KUBERNETES_SERVICE_HOST, '127.0.0.1');
    assert.equal(result.env.KUBERNETES_SERVICE_PORT, '6443');
    assert.equal(result.env.POD_NAME, 'trainer-0');
    assert.equal(result.env.POD_NAMESPACE, 'ml');
    assert.equal(result.env.NODE_NAME, 'local-0');
    assert.deepEqual(result.argv, ['sh', '-c', 'echo hello-$(MY_NAME) 127.1.0.7']);
    assert.equal(result.cwd, '/state/pods/ml_trainer-0_u-1');
  });

  it('rewrites mount paths in command, args, env values and workingDir, and lists the mounts', () => {
    const result = planLaunch(
      base({
        name: 'main',
        image: 'registry.example/brewery/trainer:1.0',
        command: ['caffe', 'train'],
        args: ['--solver=/data/solver.prototxt', '--out=$(OUT)'],
        workingDir: '/data/work',
        env: [{ name: 'OUT', value: '/data/snapshots' }],
        envFrom: [{ configMapRef: { name: 'settings' } }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        terminationMessagePath: '/tmp/msg',
      }),
    );
    assert.ok(result.ok, JSON.stringify(result));
    const data = '/state/pods/ml_trainer-0_u-1/volumes/data';
    assert.deepEqual(result.argv, [
      'node',
      '/opt/caffe.js',
      'train',
      `--solver=${data}/solver.prototxt`,
      `--out=${data}/snapshots`,
    ]);
    assert.equal(result.env.OUT, `${data}/snapshots`);
    assert.equal(result.env.DIR, `${data}/out`);
    assert.equal(result.cwd, `${data}/work`);
    assert.deepEqual(JSON.parse(result.env.BREWERY_VOLUME_MOUNTS!), { '/data': data });
    assert.equal(
      result.env.BREWERY_TERMINATION_MESSAGE_PATH,
      '/state/pods/ml_trainer-0_u-1/main.termination-log',
    );
  });

  it('rewrites the termination message path to the per-container file', () => {
    const result = planLaunch(
      base({ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo done > /dev/termination-log'] }),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.argv, [
      'sh',
      '-c',
      'echo done > /state/pods/ml_trainer-0_u-1/main.termination-log',
    ]);
  });

  const failures: Array<{ name: string; container: V1Container; reason: string; message: RegExp }> = [
    {
      name: 'a missing Secret key that is not optional is a config error naming it',
      container: {
        name: 'main',
        image: 'busybox',
        command: ['true'],
        env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }],
      },
      reason: 'CreateContainerConfigError',
      message: /env K of container main: key "nope" not found in secret "creds"/,
    },
    {
      name: 'a missing ConfigMap in envFrom that is not optional is a config error',
      container: {
        name: 'main',
        image: 'busybox',
        command: ['true'],
        envFrom: [{ configMapRef: { name: 'absent' } }],
      },
      reason: 'CreateContainerConfigError',
      message: /configmap "absent" not found/,
    },
    {
      name: 'an image with neither a command nor a mapping is not mapped',
      container: { name: 'main', image: 'nginx:1.27' },
      reason: 'ImageNotMapped',
      message: /image "nginx:1.27"/,
    },
  ];
  for (const f of failures) {
    it(f.name, () => {
      const result = planLaunch(base(f.container));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.reason, f.reason);
      assert.match(result.message, f.message);
    });
  }

  it('an optional envFrom Secret that is missing is skipped', () => {
    const result = planLaunch(
      base({
        name: 'main',
        image: 'busybox',
        command: ['true'],
        envFrom: [{ secretRef: { name: 'absent', optional: true } }],
      }),
    );
    assert.equal(result.ok, true);
  });
});
