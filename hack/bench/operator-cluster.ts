// The operator benchmark's own local cluster and what it puts in it: `hack/cluster up` in a state folder
// of its own, the generated CRDs, two PriorityClasses, namespaces with the object server's Secret, a
// tiny prepared dataset (made with the `caffe` command itself), and the operator's controllers run in
// this process with real metrics.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { KubeConfig } from '@kubernetes/client-node';

import { runControllers } from '../../operator/manager.js';
import { systemClock } from '../../operator/runtime/clock.js';
import { kubeEventRecorder } from '../../operator/runtime/events.js';
import { type KubeClient, kubeClient } from '../../operator/runtime/kube-client.js';
import { operatorLogger } from '../../operator/runtime/log.js';
import { OperatorMetrics } from '../../operator/runtime/metrics.js';
import { generateSampleImagenet } from '../sample-imagenet.js';

const execFileAsync = promisify(execFile);

const CRD_NAMES = ['imagenetdatasets.caffe.brewery.dev', 'caffetrainingjobs.caffe.brewery.dev'];
export const LOW_PRIORITY = 'brewery-train-low';
export const HIGH_PRIORITY = 'brewery-train-high';

export interface BenchCluster {
  dir: string;
  /** The environment `hack/cluster env` exports: KUBECONFIG, PATH (with kubectl), AWS_*. */
  env: Record<string, string>;
  nodes: { name: string; gpus: number }[];
  client: KubeClient;
  kubectl(args: string[]): Promise<string>;
  /** `hack/cluster down`; safe to call more than once. */
  down(): void;
}

/** The checkout this compiled file belongs to (the folder with package.json above dist*). */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('hack/bench: no package.json above this file');
    dir = parent;
  }
  return dir;
}

/** The compiled tree this file runs from (dist/ for `node dist/hack/bench/operator.js`). */
export function compiledRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * Starts a fresh cluster in `dir` whose pods run the compiled tree `dist`; on failure it is brought
 * down again before the error is thrown.
 */
export function startCluster(dir: string, dist: string): BenchCluster {
  const script = join(repositoryRoot(), 'hack', 'cluster');
  const scriptEnv = { ...process.env, BREWERY_CLUSTER_DIR: dir, BREWERY_DIST: dist };
  let stopped = false;
  const down = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(script, ['down'], { env: scriptEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  };
  const up = spawnSync(script, ['up'], { env: scriptEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  if (up.status !== 0) {
    down();
    throw new Error(`hack/cluster up failed with exit code ${up.status} (logs: ${dir}/logs/)`);
  }
  const described = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')) as {
    env: Record<string, string>;
    nodes: { name: string; gpus: number }[];
  };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(described.env.KUBECONFIG ?? join(dir, 'kubeconfig'));
  const env = { ...process.env, ...described.env } as Record<string, string>;
  return {
    dir,
    env,
    nodes: described.nodes,
    client: kubeClient(kubeConfig),
    async kubectl(args) {
      return (await execFileAsync('kubectl', args, { env, maxBuffer: 64 << 20 })).stdout;
    },
    down,
  };
}

/** Applies crds/ and waits until both CRDs are Established. */
/**
 * Starts the bench cluster (in BREWERY_CLUSTER_DIR, pods running BREWERY_DIST or this build), installs
 * the CRDs, runs `body`, and stops the cluster afterwards, or at once on SIGINT or SIGTERM.
 */
export async function withBenchCluster(
  body: (cluster: BenchCluster, dist: string, log: (line: string) => void) => Promise<void>,
): Promise<void> {
  const dir = resolve(process.env.BREWERY_CLUSTER_DIR ?? join(repositoryRoot(), '.brewery', 'bench-cluster'));
  const dist = resolve(process.env.BREWERY_DIST ?? compiledRoot());
  const log = (line: string) => console.log(`[bench] ${line}`);
  log(`starting a cluster in ${dir} (pods run ${dist})`);
  const cluster = startCluster(dir, dist);
  const interrupted = () => {
    cluster.down();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await installCrds(cluster);
    await body(cluster, dist, log);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    cluster.down();
  }
}

export async function installCrds(cluster: BenchCluster): Promise<void> {
  const crds = join(repositoryRoot(), 'crds');
  const files = existsSync(crds) ? readdirSync(crds).filter((f) => f.endsWith('.yaml')) : [];
  if (files.length === 0) throw new Error(`no CRDs in ${crds}: run \`npm run gen:crds\``);
  await cluster.kubectl(['apply', '--server-side', ...files.flatMap((f) => ['-f', join(crds, f)])]);
  await cluster.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...CRD_NAMES.map((n) => `crd/${n}`),
  ]);
}

/** The low priority trainers run at and the high one that preempts them. */
export async function createPriorityClasses(cluster: BenchCluster): Promise<void> {
  for (const [name, value] of [
    [LOW_PRIORITY, 100],
    [HIGH_PRIORITY, 1000],
  ] as const) {
    await cluster.kubectl(['create', 'priorityclass', name, `--value=${value}`]);
  }
}

/** A namespace with the `object-store` Secret trainers read their AWS_* settings from. */
export async function createNamespace(cluster: BenchCluster, name: string): Promise<void> {
  await cluster.kubectl(['create', 'namespace', name]);
  const literals = Object.entries(cluster.env)
    .filter(([k]) => k.startsWith('AWS_'))
    .map(([k, v]) => `--from-literal=${k}=${v}`);
  await cluster.kubectl(['create', 'secret', 'generic', 'object-store', '-n', name, ...literals]);
}

export interface InProcessOperator {
  metrics: OperatorMetrics;
  stop(): Promise<void>;
}

/** The operator's controllers in this process, as the integration tests run them, with its metrics. */
export function runOperatorInProcess(cluster: BenchCluster, identity: string): InProcessOperator {
  // The operator reads snapshots and live status from the object server with the AWS_* variables.
  for (const [k, v] of Object.entries(cluster.env)) if (k.startsWith('AWS_')) process.env[k] = v;
  const stop = new AbortController();
  const log = operatorLogger('error');
  const metrics = new OperatorMetrics();
  const running = runControllers(
    {
      client: cluster.client,
      clock: systemClock,
      log,
      metrics,
      events: kubeEventRecorder(cluster.client, systemClock, log, identity),
      trainerImage: `ghcr.io/brewery-dev/trainer-cpu:${identity}`,
      identity,
    },
    stop.signal,
  );
  return {
    metrics,
    async stop() {
      stop.abort();
      await running;
    },
  };
}

/**
 * A tiny dataset (3 classes, 24 images of 32x32) prepared at `out` by `caffe imagenet prep` and
 * `finalize` from the compiled tree; returns the job's `spec.data`.
 */
export async function prepareTinyData(
  cluster: BenchCluster,
  dist: string,
  out: string,
): Promise<{ trainSource: string; meanFile: string }> {
  const work = mkdtempSync(join(tmpdir(), 'brewery-bench-operator-'));
  try {
    const tree = await generateSampleImagenet({
      out: work,
      classes: 3,
      perClass: 8,
      valPerClass: 0,
      seed: 5,
      width: 40,
      height: 40,
      brokenPerKind: 0,
    });
    const caffe = join(dist, 'trainer', 'cli', 'main.js');
    const run = (args: string[]) =>
      execFileAsync(process.execPath, [caffe, ...args], { env: cluster.env, maxBuffer: 16 << 20 });
    await run([
      'imagenet',
      'prep',
      `--train=${tree.train}`,
      `--out=${out}`,
      '--size=32',
      '--threads=1',
      '--progress-interval=3600',
    ]);
    await run(['imagenet', 'finalize', `--out=${out}`]);
    return { trainSource: `${out}/train`, meanFile: `${out}/mean.binaryproto` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The machine a benchmark ran on, with its load average at the start. */
export function machineInfo() {
  return {
    cores: cpus().length,
    availableParallelism: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg(),
  };
}

export async function kubernetesVersion(cluster: BenchCluster): Promise<string> {
  const json = JSON.parse(await cluster.kubectl(['version', '-o', 'json'])) as {
    serverVersion?: { gitVersion?: string };
  };
  return json.serverVersion?.gitVersion ?? 'unknown';
}
