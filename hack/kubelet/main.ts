#!/usr/bin/env node
// The local kubelet: makes the Nodes given by --node exist and runs every Pod bound to them as local
// processes, so Jobs, the scheduler's preemption and the controller-manager's evictions all work on
// one machine without containers. Flags: see flags.ts.

import { mkdirSync } from 'node:fs';

import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';

import { retry } from '../../trainer/contract/retry.js';
import { NodeCgroups } from './cgroups.js';
import { makeNodeApi, makePodApi } from './cluster-client.js';
import { parseFlags } from './flags.js';
import { loadImageMap } from './image-map.js';
import { IpPool } from './ip-pool.js';
import { startLogServer } from './log-server.js';
import { NodeRegistry } from './node-registry.js';
import { killLeftovers, PodManager } from './pod-manager.js';
import { PodWatcher } from './pod-watcher.js';
import { killAllGroups } from './process.js';

const SHUTDOWN_GRACE_MS = 3000;
const NOT_READY_TIMEOUT_MS = 2000;
/** The apiserver may still be starting: 30 attempts, a second apart. */
const REGISTER_RETRY = { attempts: 30, baseMs: 1000, maxMs: 1000 };

async function main(): Promise<number> {
  const log = pino({ base: { component: 'kubelet' } });
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 64;
  }
  const config = new KubeConfig();
  config.loadFromFile(flags.kubeconfig);
  const server = new URL(config.getCurrentCluster()?.server ?? 'https://127.0.0.1:6443');
  const imageMap = loadImageMap(flags.imageMap);
  mkdirSync(flags.stateDir, { recursive: true });

  // No process may outlive the kubelet, even when it dies of an error.
  process.on('exit', () => killAllGroups());
  const killed = killLeftovers(flags.stateDir);
  if (killed > 0) log.warn({ killed }, 'killed process groups left by an earlier kubelet run');

  const podApi = makePodApi(config);
  const registry = new NodeRegistry(makeNodeApi(config), flags.nodes, flags.port, log);
  await retry('register nodes', () => registry.register(), {
    ...REGISTER_RETRY,
    onRetry: (error, attempt) => log.warn({ err: error, attempt }, 'registering nodes failed; retrying'),
  });

  const manager = new PodManager({
    api: podApi,
    ipPool: new IpPool(flags.podIpBase),
    imageMap,
    stateDir: flags.stateDir,
    hostEnv: pick(process.env, ['PATH', 'HOME']),
    apiserver: { host: server.hostname, port: server.port || '443' },
    log,
    clock: () => new Date(),
    cgroups: NodeCgroups.detect(log),
  });
  const logServer = await startLogServer({
    port: flags.port,
    certFile: flags.tlsCertFile,
    keyFile: flags.tlsKeyFile,
    findPod: (namespace, name) => manager.find(namespace, name),
    log,
  });
  const watchers = flags.nodes.map((node) => new PodWatcher(config, podApi, node.name, manager, log));
  await Promise.all(watchers.map((w) => w.start()));
  manager.tidyFolders();
  registry.start();
  log.info({ nodes: flags.nodes.map((n) => n.name), port: flags.port }, 'kubelet ready');

  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
        killAllGroups();
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal }, 'stopping: ending every pod process');
      registry.stop();
      await Promise.all(watchers.map((w) => w.stop()));
      await manager.shutdown(SHUTDOWN_GRACE_MS);
      await registry.markNotReady(NOT_READY_TIMEOUT_MS);
      logServer.close();
      resolve(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `kubelet: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
