import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { V1Pod, V1Volume } from '@kubernetes/client-node';

import {
  linkContainerRoot,
  planVolume,
  setUpVolumes,
  type VolumeLookups,
  volumeReferences,
} from '../../../hack/kubelet/volumes.js';

const pod: V1Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { a: '1' } },
  spec: { containers: [] },
};
const place = { podIP: '127.1.0.9', hostIP: '127.0.0.1', nodeName: 'local-0' };
const lookups: VolumeLookups = {
  configMaps: new Map([
    ['cfg', { 'solver.prototxt': Buffer.from('base_lr: 0.01'), extra: Buffer.from('x') }],
  ]),
  secrets: new Map([['sec', { token: Buffer.from('abc') }]]),
  tokens: new Map([
    ['v/token', 'jwt'],
    ['progress/token', 'jwt-for-the-operator'],
  ]),
};
const dir = mkdtempSync(join(tmpdir(), 'kubelet-volumes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function files(volume: V1Volume): Record<string, string> | string {
  const planned = planVolume(volume, pod, lookups, place);
  if (!planned.ok) return planned.message;
  if (planned.plan.kind === 'host') return `host:${planned.plan.path}`;
  return Object.fromEntries(planned.plan.files.map((f) => [f.path, f.data.toString()]));
}

describe('planVolume', () => {
  const cases: Array<[string, V1Volume, Record<string, string> | string]> = [
    ['an emptyDir is an empty folder', { name: 'v', emptyDir: {} }, {}],
    [
      'a configMap gives a file per key',
      { name: 'v', configMap: { name: 'cfg' } },
      { 'solver.prototxt': 'base_lr: 0.01', extra: 'x' },
    ],
    [
      'configMap items choose keys and paths',
      {
        name: 'v',
        configMap: { name: 'cfg', items: [{ key: 'solver.prototxt', path: 'nets/solver.prototxt' }] },
      },
      { 'nets/solver.prototxt': 'base_lr: 0.01' },
    ],
    ['a secret gives decoded files', { name: 'v', secret: { secretName: 'sec' } }, { token: 'abc' }],
    [
      'a missing configMap is an error naming it',
      { name: 'v', configMap: { name: 'nope' } },
      'configmap "nope" not found (volume v)',
    ],
    [
      'a missing optional secret is an empty folder',
      { name: 'v', secret: { secretName: 'nope', optional: true } },
      {},
    ],
    [
      'an item naming a missing key is an error',
      { name: 'v', configMap: { name: 'cfg', items: [{ key: 'absent', path: 'x' }] } },
      'volume v: key "absent" not found in the configmap',
    ],
    [
      'downwardAPI writes the fields',
      {
        name: 'v',
        downwardAPI: {
          items: [
            { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          ],
        },
      },
      { name: 'p', labels: 'a="1"' },
    ],
    [
      'a projected volume combines its sources and skips missing ones',
      {
        name: 'v',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            {
              downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] },
            },
          ],
        },
      },
      { token: 'jwt', namespace: 'ns' },
    ],
    [
      "a second projected volume's token of the same path is its own (another audience)",
      {
        name: 'progress',
        projected: { sources: [{ serviceAccountToken: { audience: 'op', path: 'token' } }] },
      },
      { token: 'jwt-for-the-operator' },
    ],
    [
      'a hostPath is the host folder itself',
      { name: 'v', hostPath: { path: '/srv/data' } },
      'host:/srv/data',
    ],
  ];
  for (const [name, volume, expected] of cases) {
    it(name, () => assert.deepEqual(files(volume), expected));
  }

  it('lists the ConfigMaps and Secrets the volumes reference', () => {
    const spec = {
      containers: [],
      volumes: [
        { name: 'a', configMap: { name: 'cfg' } },
        { name: 'b', secret: { secretName: 'sec' } },
        { name: 'c', projected: { sources: [{ configMap: { name: 'kube-root-ca.crt' } }] } },
      ],
    };
    assert.deepEqual(volumeReferences({ ...pod, spec }), {
      configMaps: ['cfg', 'kube-root-ca.crt'],
      secrets: ['sec'],
    });
  });
});

describe('setUpVolumes and linkContainerRoot', () => {
  it('writes the files under the pod folder and links each mount path into the container root', () => {
    const podDir = join(dir, 'pod');
    const spec = {
      containers: [],
      volumes: [
        { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'extra', path: 'sub/extra' }] } },
        { name: 'scratch', emptyDir: {} },
      ],
    };
    const made = setUpVolumes({ ...pod, spec }, podDir, lookups, place, () => {});
    assert.ok(made.ok);
    assert.equal(readFileSync(join(podDir, 'volumes/cfg/sub/extra'), 'utf8'), 'x');
    const root = join(podDir, 'rootfs/main');
    linkContainerRoot(root, [
      ['/etc/cfg', made.folders.get('cfg')!],
      ['/scratch', made.folders.get('scratch')!],
    ]);
    assert.equal(readlinkSync(join(root, 'etc/cfg')), join(podDir, 'volumes/cfg'));
    assert.equal(readFileSync(join(root, 'etc/cfg/sub/extra'), 'utf8'), 'x');
  });

  it('refuses a file path that leaves the volume', () => {
    const spec = {
      containers: [],
      volumes: [{ name: 'v', configMap: { name: 'cfg', items: [{ key: 'extra', path: '../../x' }] } }],
    };
    const made = setUpVolumes({ ...pod, spec }, join(dir, 'evil'), lookups, place, () => {});
    assert.deepEqual(made, { ok: false, message: 'volume v: path "../../x" leaves the volume' });
  });
});
