// A Prometheus configuration for the local cluster: the chart's documented scrape configs
// (charts/brewery/prometheus/scrape-configs.yaml), with pod discovery through a kubeconfig file and
// a short interval, and optionally an operator that runs as a process rather than a pod.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse, stringify } from 'yaml';

export const SCRAPE_CONFIGS = 'charts/brewery/prometheus/scrape-configs.yaml';

interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs?: Record<string, unknown>[];
  [key: string]: unknown;
}

/** An operator outside the cluster (npm run operator): its address and the labels its pod would give it. */
export interface OperatorProcess {
  address: string;
  namespace: string;
  pod: string;
}

export function scrapeConfigFor(
  repositoryRoot: string,
  kubeconfig: string,
  intervalSeconds: number,
  operator?: OperatorProcess,
): string {
  const documented = parse(readFileSync(join(repositoryRoot, SCRAPE_CONFIGS), 'utf8')) as {
    scrape_configs: ScrapeConfig[];
  };
  const scrapeConfigs: ScrapeConfig[] = documented.scrape_configs.map((config) => ({
    ...config,
    kubernetes_sd_configs: config.kubernetes_sd_configs?.map((sd) => ({
      ...sd,
      kubeconfig_file: kubeconfig,
    })),
  }));
  if (operator) {
    // As the brewery-operator job would label the operator's pod; its per-job counters keep their own.
    scrapeConfigs.push({
      job_name: 'brewery-operator-process',
      honor_labels: true,
      static_configs: [
        { targets: [operator.address], labels: { namespace: operator.namespace, pod: operator.pod } },
      ],
    });
  }
  return stringify({
    global: { scrape_interval: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
    scrape_configs: scrapeConfigs,
  });
}
