// A real Prometheus (from the tool cache) for tests: the chart's documented scrape configs, with the
// local cluster's kubeconfig for pod discovery and a short scrape interval, on a free loopback port.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { scrapeConfigFor } from '../../../hack/grafana/scrape-config.js';
import { toolPath } from '../../support/tools.js';
import { waitFor } from '../../support/wait.js';
import { freePort, repositoryRoot } from '../helm/support.js';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  url: string;
  /** An instant query; throws with Prometheus's error when the expression is not valid. */
  query(expr: string): Promise<Sample[]>;
  /** Whether a target of the scrape job exposes the metric (its HELP/TYPE), with or without samples. */
  hasMetadata(scrapeJob: string, metric: string): Promise<boolean>;
  /** Health of each active target of a scrape job. */
  targets(
    scrapeJob: string,
  ): Promise<{ labels: Record<string, string>; health: string; lastError: string }[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(kubeconfig: string, intervalSeconds = 1): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'brewery-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, scrapeConfigFor(repositoryRoot(), kubeconfig, intervalSeconds));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    toolPath('prometheus'),
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'Prometheus to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
        return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
      },
      30,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(url + path);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  }

  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: Sample[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    async hasMetadata(scrapeJob, metric) {
      const matcher = encodeURIComponent(`{job="${scrapeJob}"}`);
      const entries = await api<unknown[]>(
        `/api/v1/targets/metadata?match_target=${matcher}&metric=${encodeURIComponent(metric)}`,
      );
      return entries.length > 0;
    },
    async targets(scrapeJob) {
      const data = await api<{
        activeTargets: { labels: Record<string, string>; health: string; lastError: string }[];
      }>('/api/v1/targets?state=active');
      return data.activeTargets.filter((t) => t.labels.job === scrapeJob);
    },
    stop,
  };
}
