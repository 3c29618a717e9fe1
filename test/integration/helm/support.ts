// Shared steps of the chart's tests: run the real helm (from the tool cache) against the local
// cluster, render the chart, dry-run manifests on the apiserver, install a release whose operator
// runs from the local build, and wait until that operator holds its lease.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { parseAllDocuments } from 'yaml';

import type { LocalCluster } from '../../support/cluster.js';
import type { ObjectStore } from '../../support/object-store.js';
import { toolPath } from '../../support/tools.js';
import { waitFor } from '../../support/wait.js';

const execFileAsync = promisify(execFile);

export const OPERATOR_IMAGE = 'ghcr.io/brewery-dev/operator';
export const LEASE_NAME = 'brewery-operator';
export const CRD_NAMES = ['imagenetdatasets.caffe.brewery.dev', 'caffetrainingjobs.caffe.brewery.dev'];

export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The compiled tree this test runs from (dist/ or dist-<name>/), where pods' programs are too. */
export function buildRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

export const chartDir = () => join(repositoryRoot(), 'charts/brewery');
export const fixture = (name: string) => join(repositoryRoot(), 'test/integration/helm/fixtures', name);

/** Runs helm with the cluster's kubeconfig; a failure's message carries helm's stderr. */
export async function helm(cluster: LocalCluster, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(toolPath('helm'), args, {
      env: cluster.env,
      maxBuffer: 64 << 20,
    });
    return stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`helm ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** kubectl with stdin; a failure's message carries kubectl's stderr. */
export async function kubectl(cluster: LocalCluster, args: string[], input?: string): Promise<string> {
  try {
    return (await cluster.kubectl(args, input)).stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** The objects of a multi-document manifest (empty documents left out). */
export function manifestObjects(manifest: string): ManifestObject[] {
  return parseAllDocuments(manifest)
    .map((document) => document.toJS() as ManifestObject | null)
    .filter((object): object is ManifestObject => object !== null);
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** `Kind/name` of each object, for assertions that read well. */
export const kindsAndNames = (manifest: string) =>
  manifestObjects(manifest).map((o) => `${o.kind}/${o.metadata.name}`);

/** Server-side dry-run apply: the apiserver validates every object (schemas, CEL, RBAC escalation). */
export async function serverDryRun(cluster: LocalCluster, manifest: string): Promise<string> {
  return kubectl(
    cluster,
    [
      'apply',
      '--server-side',
      '--force-conflicts',
      '--dry-run=server',
      '--field-manager=brewery-helm-tests',
      '-f',
      '-',
    ],
    manifest,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface Release {
  name: string;
  namespace: string;
  metricsPort: number;
}

/**
 * `helm install` of the chart (or a copy of it) with the operator image the local kubelet maps to this
 * build. Local pods are host processes, so the metrics port must be free on this machine.
 * --take-ownership adopts CRDs another test applied with kubectl.
 */
export async function installRelease(
  cluster: LocalCluster,
  release: Release,
  extraArgs: string[] = [],
  chart = chartDir(),
): Promise<string> {
  return helm(cluster, [
    'install',
    release.name,
    chart,
    '--namespace',
    release.namespace,
    '--create-namespace',
    '--take-ownership',
    '--set',
    `operator.metricsPort=${release.metricsPort}`,
    '--set',
    `operator.image.tag=local-${release.name}`,
    ...extraArgs,
  ]);
}

/**
 * installRelease with an `object-store` Secret in the release namespace that the jobs' and datasets'
 * pods read their AWS_* settings from (spec.credentials). The operator itself gets none: it reads no
 * object store.
 */
export async function installWithStoreSecret(
  cluster: LocalCluster,
  release: Release,
  store: ObjectStore,
): Promise<string> {
  await kubectl(cluster, ['create', 'namespace', release.namespace]);
  await kubectl(cluster, [
    'create',
    'secret',
    'generic',
    'object-store',
    '-n',
    release.namespace,
    ...Object.entries(store.env).map(([k, v]) => `--from-literal=${k}=${v}`),
  ]);
  return installRelease(cluster, release);
}

/** Uninstalls and deletes the namespace; CRDs stay (resource-policy keep), as a user's would. */
export async function removeRelease(cluster: LocalCluster, release: Release): Promise<void> {
  // While the operator still runs, so it releases the finalizers it put on its pods.
  await kubectl(cluster, [
    'delete',
    'caffetrainingjobs,imagenetdatasets',
    '--all',
    '-n',
    release.namespace,
    '--timeout=60s',
  ]).catch(() => undefined);
  await helm(cluster, ['uninstall', release.name, '--namespace', release.namespace, '--wait']).catch(
    () => undefined,
  );
  await kubectl(cluster, ['delete', 'namespace', release.namespace, '--wait=false']).catch(() => undefined);
}

interface PodList {
  items: {
    metadata: { name: string };
    status?: { podIP?: string; conditions?: { type: string; status: string }[] };
  }[];
}

/**
 * Waits until one operator pod of the release is Ready and holds the Lease, and returns it. When the
 * operator cannot reach the apiserver its log says why; that is put in the failure.
 */
export async function waitForLeader(
  cluster: LocalCluster,
  release: Release,
  seconds = 90,
): Promise<{ pod: string; podIP: string }> {
  const selector = `app.kubernetes.io/name=brewery-operator,app.kubernetes.io/instance=${release.name}`;
  try {
    return await waitFor(
      `an operator pod of ${release.name} to be Ready and hold lease ${release.namespace}/${LEASE_NAME}`,
      async () => {
        const pods = JSON.parse(
          await kubectl(cluster, ['get', 'pods', '-n', release.namespace, '-l', selector, '-o', 'json']),
        ) as PodList;
        const holder = (
          await kubectl(cluster, [
            'get',
            'lease',
            LEASE_NAME,
            '-n',
            release.namespace,
            '-o',
            'jsonpath={.spec.holderIdentity}',
          ]).catch(() => '')
        ).trim();
        const pod = pods.items.find((p) => p.metadata.name === holder);
        const ready = pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return pod && ready ? { pod: pod.metadata.name, podIP: pod.status?.podIP ?? '' } : undefined;
      },
      seconds,
      500,
    );
  } catch (error) {
    const logs = await kubectl(cluster, ['logs', '-n', release.namespace, '-l', selector, '--tail=5']).catch(
      (e: Error) => e.message,
    );
    // client-node falls back to http://localhost:8080 when it finds no credentials.
    const hint = logs.includes('HTTP protocol is not allowed')
      ? '\nthe operator found no in-cluster credentials: under the local kubelet they are below ' +
        '$BREWERY_CONTAINER_ROOT (KubeConfig.loadFromCluster(root) in operator/main.ts)'
      : '';
    throw new Error(`${(error as Error).message}\noperator log:\n${logs}${hint}`);
  }
}
