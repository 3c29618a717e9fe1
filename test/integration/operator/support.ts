// Shared steps of the operator's integration tests: load the generated CRDs into the local cluster,
// make a namespace of one's own, stage a sample ImageNet tree in the object server, and run the
// operator's controllers in this process.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  generateSampleImagenet,
  type SampleOptions,
  type SampleTree,
} from '../../../hack/sample-imagenet.js';
import { runControllers } from '../../../operator/manager.js';
import { serveProgress } from '../../../operator/progress/server.js';
import { systemClock } from '../../../operator/runtime/clock.js';
import { kubeEventRecorder } from '../../../operator/runtime/events.js';
import type { KubeClient } from '../../../operator/runtime/kube-client.js';
import { operatorLogger } from '../../../operator/runtime/log.js';
import { OperatorMetrics } from '../../../operator/runtime/metrics.js';
import type { LocalCluster } from '../../support/cluster.js';
import type { ObjectStore } from '../../support/object-store.js';
import { waitFor } from '../../support/wait.js';

export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The generated CRD files. Missing files are a failure, not a skip: run `npm run gen:crds`. */
export function crdFiles(): string[] {
  const dir = join(repositoryRoot(), 'crds');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')) : [];
  if (files.length === 0) throw new Error(`no CRDs in ${dir}: run \`npm run gen:crds\``);
  return files.map((f) => join(dir, f));
}

export const CRD_NAMES = ['imagenetdatasets.caffe.brewery.dev', 'caffetrainingjobs.caffe.brewery.dev'];

/** Applies crds/ (server-side, so every test file may do it) and waits until both are Established. */
export async function installCrds(cluster: LocalCluster): Promise<void> {
  const args = ['apply', '--server-side', '--force-conflicts', '--field-manager=brewery-tests'];
  for (const file of crdFiles()) args.push('-f', file);
  await cluster.kubectl(args);
  await cluster.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...CRD_NAMES.map((n) => `crd/${n}`),
  ]);
}

/**
 * A self-signed serving certificate for the operator's progress endpoint on this machine (127.0.0.1,
 * localhost), made with openssl as hack/cluster makes the cluster's: the trainer trusts it as its CA.
 */
export function progressServingCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'brewery-progress-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=brewery-operator',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        join(dir, 'tls.crt'),
      ],
      { stdio: 'pipe' },
    );
    return {
      cert: readFileSync(join(dir, 'tls.crt'), 'utf8'),
      key: readFileSync(join(dir, 'tls.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh namespace for one test file; delete it with the returned function. */
export async function makeNamespace(
  cluster: LocalCluster,
  prefix: string,
): Promise<[string, () => Promise<void>]> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await cluster.kubectl(['create', 'namespace', name]);
  return [name, async () => void (await cluster.kubectl(['delete', 'namespace', name, '--wait=false']))];
}

/** Polls until check returns a value (not undefined), or fails after timeoutMs. */
export function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<T> {
  return waitFor(what, check, timeoutMs / 1000, everyMs);
}

/** The `object-store` Secret a dataset's workers read their AWS_* settings from. */
export async function createStoreSecret(
  cluster: LocalCluster,
  namespace: string,
  store: ObjectStore,
): Promise<void> {
  await cluster.kubectl([
    'create',
    'secret',
    'generic',
    'object-store',
    '-n',
    namespace,
    ...Object.entries(store.env).map(([k, v]) => `--from-literal=${k}=${v}`),
  ]);
}

/** Trainer storage, loaded after the object server's AWS_* settings are in this process's environment. */
export async function storageWith(store: ObjectStore) {
  Object.assign(process.env, store.env);
  const { storageFor } = await import('../../../trainer/storage/index.js');
  return storageFor;
}

/**
 * Generates a sample tree in a temporary folder and uploads it to `s3://<prefix>-raw/<namespace>/`;
 * makes the `<prefix>-out` bucket and the namespace's `object-store` Secret.
 */
export async function stageSampleSource(
  cluster: LocalCluster,
  store: ObjectStore,
  namespace: string,
  prefix: string,
  sample: Omit<SampleOptions, 'out'>,
): Promise<{ tree: SampleTree; dir: string; raw: string; removeLocal: () => void }> {
  const storageFor = await storageWith(store);
  const dir = mkdtempSync(join(tmpdir(), `brewery-${prefix}-`));
  const tree = await generateSampleImagenet({ ...sample, out: dir });
  const raw = await store.bucket(`${prefix}-raw`);
  await store.bucket(`${prefix}-out`);
  for (const file of await storageFor(dir).list(dir)) {
    await storageFor(raw).putFile(file.uri, `${raw}/${namespace}/${relative(dir, file.uri)}`);
  }
  await createStoreSecret(cluster, namespace, store);
  return { tree, dir, raw, removeLocal: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs the operator's controllers in this process until the returned function is awaited. Pass `metrics`
 * to see what it has done (its reconciles, by controller).
 */
export async function runOperatorInProcess(
  client: KubeClient,
  identity: string,
  metrics = new OperatorMetrics(),
): Promise<() => Promise<void>> {
  const stop = new AbortController();
  const log = operatorLogger('warn');
  // The progress endpoint, as the operator serves it: trainer pods (local processes) reach it here.
  const tls = progressServingCertificate();
  const progress = await serveProgress({ client, metrics, log, tls, port: 0, host: '127.0.0.1' });
  const { port } = progress.address() as AddressInfo;
  const running = runControllers(
    {
      client,
      clock: systemClock,
      log,
      metrics,
      events: kubeEventRecorder(client, systemClock, log, identity),
      trainerImage: `ghcr.io/brewery-dev/trainer-cpu:${identity}`,
      progress: { url: `https://127.0.0.1:${port}`, ca: tls.cert },
      identity,
    },
    stop.signal,
  );
  return async () => {
    stop.abort();
    await running;
    await new Promise((resolve) => progress.close(resolve));
  };
}

/** Reconciles a controller of this operator has finished, whatever their result. */
export async function reconcilesOf(metrics: OperatorMetrics, controller: string): Promise<number> {
  const { values } = await metrics.reconciles.get();
  return values.filter((v) => v.labels.controller === controller).reduce((sum, v) => sum + v.value, 0);
}
