#!/usr/bin/env node
// The operator: `npm run operator` (node dist/operator/main.js) against the current kubeconfig.
//   --metrics-port=8080   --trainer-image=IMAGE   --leader-elect=true|false
//   --lease-namespace=NS (default $POD_NAMESPACE or default)   --lease-name=brewery-operator
//   --request-timeout-seconds=60 (each API request but a watch's stream)
//   --cuda-cache-host-path=DIR (a node folder, writable by uid 1000, for GPU pods' CUDA compilation cache)
//   --progress-url=https://HOST:PORT (how trainer pods reach it)   --tls-cert-file=F   --tls-key-file=F
//   --progress-port=8443   --progress-ca-file=F (the CA trainers trust; default: the certificate itself)
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { KubeConfig } from '@kubernetes/client-node';

import { DEFAULT_LEASE_NAME, runOperator } from './manager.js';
import { DEFAULT_PROGRESS_PORT, serveProgress } from './progress/server.js';
import { systemClock } from './runtime/clock.js';
import { countedClient } from './runtime/counted-client.js';
import { kubeEventRecorder } from './runtime/events.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, kubeClient } from './runtime/kube-client.js';
import { operatorLogger } from './runtime/log.js';
import { OperatorMetrics, serveMetrics } from './runtime/metrics.js';
import type { ProgressRoute } from './training/objects.js';

const DEFAULT_TRAINER_IMAGE = 'ghcr.io/brewery-dev/trainer-cpu:latest';

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'metrics-port': { type: 'string', default: process.env.METRICS_PORT ?? '8080' },
      'trainer-image': {
        type: 'string',
        default: process.env.BREWERY_TRAINER_IMAGE ?? DEFAULT_TRAINER_IMAGE,
      },
      'cuda-cache-host-path': { type: 'string', default: process.env.BREWERY_CUDA_CACHE_HOST_PATH ?? '' },
      'leader-elect': { type: 'string', default: 'true' },
      'lease-namespace': { type: 'string', default: process.env.POD_NAMESPACE ?? 'default' },
      'lease-name': { type: 'string', default: DEFAULT_LEASE_NAME },
      'request-timeout-seconds': { type: 'string', default: String(DEFAULT_REQUEST_TIMEOUT_MS / 1000) },
      'progress-port': { type: 'string', default: String(DEFAULT_PROGRESS_PORT) },
      'progress-url': { type: 'string', default: process.env.BREWERY_PROGRESS_URL },
      'tls-cert-file': { type: 'string' },
      'tls-key-file': { type: 'string' },
      'progress-ca-file': { type: 'string' },
    },
  });
  const timeoutSeconds = Number(values['request-timeout-seconds']);
  if (!(timeoutSeconds > 0)) {
    console.error(
      `--request-timeout-seconds: expected a positive number, received ${values['request-timeout-seconds']}`,
    );
    return 64;
  }
  const log = operatorLogger();
  const config = kubeConfig();
  const metrics = new OperatorMetrics();
  const client = countedClient(kubeClient(config, { requestTimeoutMs: timeoutSeconds * 1000 }), metrics);
  const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
  const port = Number.parseInt(values['metrics-port'], 10);
  if (!Number.isInteger(port) || port < 0) {
    console.error(`--metrics-port: expected a port number, received ${values['metrics-port']}`);
    return 64;
  }
  const endpoint = progressEndpointFlags(values);
  if (typeof endpoint === 'string') {
    console.error(endpoint);
    return 64;
  }
  // On a host whose pods share one network (the local kubelet) each pod listens on its own address.
  const host = process.env.BREWERY_LISTEN_HOST ?? '0.0.0.0';
  const server = await serveMetrics(metrics, port, host);
  // Every replica serves progress, leader or not: a report is checked and written to the apiserver.
  const progressServer =
    endpoint && (await serveProgress({ client, metrics, log, tls: endpoint.tls, port: endpoint.port, host }));
  if (!endpoint) {
    log.warn(
      'no --progress-url, --tls-cert-file and --tls-key-file: trainers report no progress, and job status shows none',
    );
  }
  log.info(
    { node: process.version, port, identity, cluster: config.getCurrentCluster()?.server },
    'operator starting',
  );

  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      stop.abort();
    });
  }
  const outcome = await runOperator(
    {
      client,
      clock: systemClock,
      log,
      metrics,
      events: kubeEventRecorder(client, systemClock, log, identity),
      trainerImage: values['trainer-image'],
      ...(values['cuda-cache-host-path'] ? { cudaCacheHostPath: values['cuda-cache-host-path'] } : {}),
      ...(endpoint ? { progress: endpoint.route } : {}),
      identity,
      ...(values['leader-elect'] === 'false'
        ? {}
        : { lease: { namespace: values['lease-namespace'], name: values['lease-name'] } }),
    },
    stop.signal,
  );
  server.close();
  progressServer?.close();
  log.info({ outcome }, 'operator stopped');
  return outcome === 'lost' ? 1 : 0;
}

/**
 * The progress endpoint's flags: all of --progress-url, --tls-cert-file and --tls-key-file, or none.
 * The CA trainers trust is --progress-ca-file, else the serving certificate itself (self-signed).
 */
function progressEndpointFlags(values: {
  'progress-port': string;
  'progress-url'?: string | undefined;
  'tls-cert-file'?: string | undefined;
  'tls-key-file'?: string | undefined;
  'progress-ca-file'?: string | undefined;
}): { port: number; tls: { cert: Buffer; key: Buffer }; route: ProgressRoute } | string | undefined {
  const url = values['progress-url'];
  const certFile = values['tls-cert-file'];
  const keyFile = values['tls-key-file'];
  if (!url && !certFile && !keyFile) return undefined;
  if (!url || !certFile || !keyFile) return '--progress-url, --tls-cert-file and --tls-key-file go together';
  if (!url.startsWith('https://')) return `--progress-url: expected an https:// URL, received ${url}`;
  const port = Number.parseInt(values['progress-port'], 10);
  if (!Number.isInteger(port) || port < 0)
    return `--progress-port: expected a port number, received ${values['progress-port']}`;
  const cert = readFileSync(certFile);
  const ca = values['progress-ca-file']
    ? readFileSync(values['progress-ca-file'], 'utf8')
    : cert.toString('utf8');
  return { port, tls: { cert, key: readFileSync(keyFile) }, route: { url, ca } };
}

/**
 * The kubeconfig: $KUBECONFIG or ~/.kube/config, else the pod's service account. Under the local
 * kubelet (pods as host processes) the service account's files are below $BREWERY_CONTAINER_ROOT.
 */
function kubeConfig(): KubeConfig {
  const config = new KubeConfig();
  const root = process.env.BREWERY_CONTAINER_ROOT;
  const token = '/var/run/secrets/kubernetes.io/serviceaccount/token';
  if (root && !process.env.KUBECONFIG && existsSync(join(root, token))) config.loadFromCluster(root);
  else config.loadFromDefault();
  return config;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
