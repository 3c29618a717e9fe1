// The images built (hack/images build: bases from Debian packages, every Dockerfile target with podman)
// and run for real: the operator image takes its lease on the local cluster; trainer-cpu makes an LMDB
// with `caffe convert_imageset` and trains a net from it, snapshotting to the object server; the GPU image
// trains the same on the CPU and says in one line that it found no GPU. Each container is checked for a
// non-root user, tini as PID 1 and, where the chart asks for it, a read-only root file system.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import sharp from 'sharp';

import { storageFor } from '../../../trainer/storage/index.js';
import { skipReason as clusterMissing, localCluster } from '../../support/cluster.js';
import { rgbPhoto } from '../../support/images.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import { waitFor } from '../../support/wait.js';
import { repositoryRoot } from '../operator/support.js';

const execFileAsync = promisify(execFile);
const IMAGES = path.join(repositoryRoot(), 'hack/images');

function podmanMissing(): string | undefined {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'podman is not installed (hack/images install installs it with apt-get)';
  }
}

const skip = clusterMissing ?? podmanMissing() ?? false;

/** `hack/images podman ARGS`: podman with the flags this machine needs (runc, cgroupfs, limits). */
async function podman(args: string[], timeoutMs = 300_000): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(IMAGES, ['podman', ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 });
}

/** Runs a container to its end; resolves with its exit code and output instead of throwing. */
async function runToEnd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await podman(['run', '--rm', '--network', 'host', ...args], 600_000);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function imageConfig(image: string): Promise<{ User: string; Entrypoint: string[] }> {
  const { stdout } = await podman(['image', 'inspect', '--format', '{{json .Config}}', image]);
  return JSON.parse(stdout) as { User: string; Entrypoint: string[] };
}

/** Inside a running container: its uid, what PID 1 is and whether / takes a new file. */
async function insideOf(container: string): Promise<{ uid: string; pid1: string; rootWrite: string }> {
  const script =
    'id -u; tr "\\0" " " </proc/1/cmdline; echo; ' +
    'if touch /probe-write 2>/dev/null; then echo writable; else echo read-only; fi';
  const { stdout } = await podman(['exec', container, 'sh', '-c', script]);
  const [uid = '', pid1 = '', rootWrite = ''] = stdout.split('\n').map((line) => line.trim());
  return { uid, pid1, rootWrite };
}

const image = (target: string) => `localhost/brewery/${target}:dev`;

const netPrototxt = `
name: "tiny-lmdb"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { scale: 0.00390625 }
  data_param { source: "train_lmdb" batch_size: 4 backend: LMDB } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`;

const solver = (prefix: string) => `net: "net.prototxt"
base_lr: 0.01
lr_policy: "fixed"
display: 1
max_iter: 4
snapshot: 4
snapshot_prefix: "${prefix}"
random_seed: 3
`;

describe('images built and run', { skip }, () => {
  let store: ObjectStore;
  let bucket = '';
  let dir = '';
  const savedEnv = { ...process.env };
  const started: string[] = [];

  before(async () => {
    // Warm, podman's layer cache makes this a few seconds; cold it builds everything (docs/images.md).
    await execFileAsync(IMAGES, ['build'], { timeout: 3_000_000, maxBuffer: 64 << 20 });
    store = await objectStore();
    Object.assign(process.env, store.env);
    bucket = await store.bucket('images-test');
    // The containers run as uid 1000: they write the LMDB beside the images.
    dir = await mkdtemp(path.join(tmpdir(), 'images-test-'));
    await chmod(dir, 0o777);
    await mkdir(path.join(dir, 'pictures'));
    const list: string[] = [];
    for (let i = 0; i < 8; i++) {
      const file = `p${i}.jpg`;
      await sharp(rgbPhoto(12, 10, i), { raw: { width: 12, height: 10, channels: 3 } })
        .jpeg()
        .toFile(path.join(dir, 'pictures', file));
      list.push(`${file} ${i % 2}`);
    }
    await writeFile(path.join(dir, 'list.txt'), `${list.join('\n')}\n`);
    await writeFile(path.join(dir, 'net.prototxt'), netPrototxt);
  });
  after(async () => {
    for (const name of started) await podman(['rm', '--force', '--time', '5', name]).catch(() => {});
    process.env = savedEnv;
    if (dir) await rm(dir, { recursive: true, force: true });
    await store?.stop();
  });

  test('every image runs as a numeric non-root user with tini as its entrypoint', async () => {
    for (const target of ['operator', 'trainer-cpu', 'trainer']) {
      const config = await imageConfig(image(target));
      assert.equal(config.User, '1000:1000', `${target}'s USER`);
      assert.equal(config.Entrypoint[0], '/usr/bin/tini', `${target}'s ENTRYPOINT`);
    }
  });

  test('the operator image starts against the local cluster and takes its lease', async () => {
    const cluster = localCluster();
    const leaseName = `images-test-${process.pid}`;
    const container = `brewery-images-operator-${process.pid}`;
    // The cluster's kubeconfig names root-only key files; the container's user gets one with the
    // credentials inline (kubectl config view --flatten), readable by it, in this test's folder.
    const { stdout: flat } = await cluster.kubectl(['config', 'view', '--raw', '--flatten', '--minify']);
    const kubeconfig = path.join(dir, 'operator.kubeconfig');
    await writeFile(kubeconfig, flat, { mode: 0o644 });
    started.push(container);
    await podman([
      'run',
      '--detach',
      '--name',
      container,
      '--network',
      'host',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--user',
      '65532:65532',
      '--volume',
      `${kubeconfig}:/etc/brewery/kubeconfig:ro`,
      '--env',
      'KUBECONFIG=/etc/brewery/kubeconfig',
      '--env',
      `POD_NAME=${container}`,
      image('operator'),
      '--metrics-port=0',
      '--leader-elect=true',
      `--lease-name=${leaseName}`,
      '--lease-namespace=default',
    ]);
    const holder = await waitFor(
      `lease default/${leaseName} held by ${container}`,
      async () => {
        const { stdout } = await cluster.kubectl([
          'get',
          'lease',
          leaseName,
          '-n',
          'default',
          '-o',
          'jsonpath={.spec.holderIdentity}',
        ]);
        return stdout === container ? stdout : undefined;
      },
      120,
    );
    assert.equal(holder, container);
    const inside = await insideOf(container);
    assert.equal(inside.uid, '65532');
    assert.match(inside.pid1, /^\/usr\/bin\/tini -- node \/app\/dist\/operator\/main\.js/);
    assert.equal(inside.rootWrite, 'read-only');
    await podman(['rm', '--force', '--time', '10', container]);
    await cluster.kubectl(['delete', 'lease', leaseName, '-n', 'default']).catch(() => {});
  });

  for (const target of ['trainer-cpu', 'trainer']) {
    test(`${target} makes an LMDB and trains from it, snapshotting to the object server`, async () => {
      const mount = ['--volume', `${dir}:/work`, '--workdir', '/work'];
      const env = Object.entries(store.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
      const lmdb = `train_lmdb`;
      await rm(path.join(dir, lmdb), { recursive: true, force: true });
      const convert = await runToEnd([
        ...mount,
        image(target),
        'convert_imageset',
        '--resize_width=8',
        '--resize_height=8',
        'pictures/',
        'list.txt',
        lmdb,
      ]);
      assert.equal(convert.code, 0, convert.stderr);

      const prefix = `${bucket}/${target}/snapshots/tiny`;
      await writeFile(path.join(dir, `solver-${target}.prototxt`), solver(prefix));
      const backend = target === 'trainer' ? 'tensorflow' : 'auto';
      // A named container, so that while it trains its uid and PID 1 can be read from inside.
      const container = `brewery-images-${target}-${process.pid}`;
      started.push(container);
      const training = runToEnd([
        '--name',
        container,
        ...mount,
        ...env,
        image(target),
        'train',
        `--solver=solver-${target}.prototxt`,
        `--backend=${backend}`,
      ]);
      const inside = await waitFor(
        `${container} running`,
        () => insideOf(container).catch(() => undefined),
        120,
      );
      assert.equal(inside.uid, '1000');
      assert.match(inside.pid1, /^\/usr\/bin\/tini -- node \/app\/dist\/trainer\/cli\/main\.js train/);
      const run = await training;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Optimization Done/);
      const caffemodel = await storageFor(prefix).stat(`${prefix}_iter_4.caffemodel`);
      assert.ok(caffemodel && caffemodel.size > 0, `${prefix}_iter_4.caffemodel was written`);

      const backendLines = run.stderr.split('\n').filter((line) => line.includes('Using backend'));
      assert.equal(backendLines.length, 1, run.stderr);
      const noGpu = run.stderr.split('\n').filter((line) => line.includes('no GPU found'));
      if (target === 'trainer') {
        assert.match(
          backendLines[0] ?? '',
          /tensorflow: @tensorflow\/tfjs-node-gpu from .*libtensorflow 2\.20/,
        );
        assert.equal(noGpu.length, 1, `one line says no GPU was found:\n${run.stderr}`);
      } else {
        // trainer-cpu: `auto` finds no GPU package and takes the CPU build of native TensorFlow.
        assert.match(
          backendLines[0] ?? '',
          /tensorflow: @tensorflow\/tfjs-node from \/opt\/brewery\/native\//,
        );
        assert.equal(noGpu.length, 0);
      }
    });
  }
});
