// The local cluster an integration test runs against: started once per test run by hack/run-tests.js
// (hack/cluster up), described by the env.json file named in BREWERY_CLUSTER_ENV.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

import { KubeConfig } from '@kubernetes/client-node';

const execFileAsync = promisify(execFile);

export interface LocalCluster {
  /** The environment `hack/cluster env` exports: KUBECONFIG, PATH (with kubectl and helm), AWS_*. */
  env: Record<string, string>;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** Names of the local nodes, with their GPU counts. */
  nodes: { name: string; gpus: number }[];
  /** The repo's `hack/cluster` state folder: logs of every component are in logs/. */
  dir: string;
  kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }>;
}

function load(): LocalCluster | string {
  if (process.env.BREWERY_SKIP_INTEGRATION) return process.env.BREWERY_SKIP_INTEGRATION;
  const file = process.env.BREWERY_CLUSTER_ENV;
  if (!file) {
    const reason = 'no local cluster: run the tests with `npm test` (or set BREWERY_CLUSTER_ENV)';
    if (process.env.CI === 'true') throw new Error(reason);
    return reason;
  }
  const described = JSON.parse(readFileSync(file, 'utf8')) as {
    env: Record<string, string>;
    dir: string;
    nodes: { name: string; gpus: number }[];
  };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(described.env.KUBECONFIG!);
  const env = { ...process.env, ...described.env } as Record<string, string>;
  return {
    env,
    dir: described.dir,
    nodes: described.nodes,
    kubeconfigPath: described.env.KUBECONFIG!,
    kubeConfig,
    async kubectl(args, input) {
      const child = execFileAsync('kubectl', args, { env, maxBuffer: 64 << 20 });
      if (input !== undefined) child.child.stdin?.end(input);
      return child;
    },
  };
}

const loaded = load();

/** Why integration tests are skipped, or undefined when a cluster is there. Use as `{ skip: skipReason }`. */
export const skipReason: string | undefined = typeof loaded === 'string' ? loaded : undefined;

/** The running local cluster; only call it in a test that is not skipped. */
export function localCluster(): LocalCluster {
  if (typeof loaded === 'string') throw new Error(`no local cluster: ${loaded}`);
  return loaded;
}
