// The operator as its own process for the scale benchmark (`node dist/operator/main.js`, as the chart
// runs it), so its memory is its own: peak RSS from /proc/PID/status (VmHWM), CPU from /proc/PID/stat,
// and its metrics scraped over HTTP and read from Prometheus's text format.
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { BenchCluster } from './operator-cluster.js';

/** One sample of a metric: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}
export type Scrape = Map<string, Sample[]>;

export interface OperatorProcess {
  pid: number;
  scrape(): Promise<Scrape>;
  stop(): Promise<void>;
}

/** Starts the operator with the cluster's kubeconfig and waits for its metrics endpoint. */
export async function startOperatorProcess(
  cluster: BenchCluster,
  dist: string,
  logFile: string,
): Promise<OperatorProcess> {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(dist, 'operator', 'main.js'),
      '--leader-elect=false',
      `--metrics-port=${port}`,
      '--trainer-image=ghcr.io/brewery-dev/trainer-cpu:bench',
    ],
    { env: { ...cluster.env, BREWERY_LISTEN_HOST: '127.0.0.1' }, stdio: ['ignore', out, out] },
  );
  // An interrupted benchmark (process.exit) takes its operator with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  const scrape = async () => parsePrometheusText(await (await fetch(url)).text());
  for (let tries = 0; ; tries++) {
    try {
      await scrape();
      break;
    } catch (error) {
      if (child.exitCode !== null || tries > 300) {
        child.kill('SIGKILL');
        throw new Error(`the operator did not serve ${url} (log: ${logFile}): ${String(error)}`);
      }
      await sleep(100);
    }
  }
  return {
    pid: child.pid ?? 0,
    scrape,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Memory of a process from /proc/PID/status, in MiB: the peak (VmHWM) and now (VmRSS). */
export function processMemory(pid: number): { peakRssMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

/** User plus system CPU seconds a process has used (clock ticks of 1/100 s, Linux's USER_HZ). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pid `hack/cluster` recorded for one of its components (e.g. kube-apiserver). */
export function clusterPid(cluster: BenchCluster, component: string): number {
  return Number(readFileSync(join(cluster.dir, 'pids', `${component}.pid`), 'utf8').trim());
}

/** Samples and values by metric name, from Prometheus's text exposition format. */
export function parsePrometheusText(text: string): Scrape {
  const metrics: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    const samples = metrics.get(match[1]!) ?? [];
    samples.push({ labels, value: Number(match[3]) });
    metrics.set(match[1]!, samples);
  }
  return metrics;
}

/** The sum of a metric's samples whose labels include `where`. */
export function sumOf(scrape: Scrape, name: string, where: Record<string, string> = {}): number {
  return (scrape.get(name) ?? [])
    .filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no free port');
  return address.port;
}
