// Prometheus metrics of `caffe train --metrics-port=P`: the numbers Caffe's log lines carry (iteration,
// loss, test outputs, learning rate) plus throughput and durations, on GET /metrics of a small HTTP server
// that lives as long as the run. The registry is our own, with node's default process metrics in it.
import { createServer, type Server } from 'node:http';

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

import { UsageError } from '../contract/errors.js';
import type { LiveTestResult } from '../contract/live-status.js';
import type { NetSpec } from '../net/spec/index.js';

export const METRICS_PORT_ENV = 'BREWERY_METRICS_PORT';

export interface RunInfo {
  net: string;
  solverType: string;
  backend: string;
  maxIter: number;
  /** Updates done at the start (non-zero on a resume). */
  iteration: number;
}

export interface IterationSample {
  /** Updates done, counting this iteration. */
  iteration: number;
  loss: number;
  smoothedLoss: number;
  learningRate: number;
  imagesPerSecond: number;
  /** Forward, backward and update of this iteration (test passes and snapshots left out). */
  seconds: number;
  /** The part of `seconds` the train net's data layers waited for their loaders. */
  dataWaitSeconds?: number;
}

export class TrainingMetrics {
  readonly registry = new Registry();
  private readonly iteration = this.gauge('caffe_iteration', 'Weight updates done so far.');
  private readonly maxIter = this.gauge('caffe_max_iter', "The solver's max_iter.");
  private readonly trainLoss = this.gauge('caffe_train_loss', 'The loss of the last training iteration.');
  private readonly trainLossSmoothed = this.gauge(
    'caffe_train_loss_smoothed',
    'The average_loss-smoothed training loss, as Caffe prints in "Iteration N (...), loss = X".',
  );
  private readonly testOutput = new Gauge({
    name: 'caffe_test_output',
    help: 'The last test pass: each output of each test net, as in "Test net output #k: name = X".',
    labelNames: ['test_net', 'output'] as const,
    registers: [this.registry],
  });
  private readonly testLoss = new Gauge({
    name: 'caffe_test_loss',
    help: 'The mean loss of the last test pass of each test net (with test_compute_loss).',
    labelNames: ['test_net'] as const,
    registers: [this.registry],
  });
  private readonly peakMemory = this.gauge(
    'caffe_peak_memory_bytes',
    "The trainer process's peak resident memory (maxRSS) so far, read after each iteration: what a pod's memory limit must hold.",
  );
  private readonly learningRate = this.gauge(
    'caffe_learning_rate',
    'The learning rate of the last iteration.',
  );
  private readonly imagesPerSecond = this.gauge(
    'caffe_images_per_second',
    'Training images per second over the last display interval (or the last iteration without display).',
  );
  private readonly iterationDuration = new Histogram({
    name: 'caffe_iteration_duration_seconds',
    help: 'Forward, backward and update of one iteration (test passes and snapshots left out).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly dataWait = new Histogram({
    name: 'caffe_data_wait_seconds',
    help:
      'Time one training iteration waited for its batches from the data loader, within ' +
      'caffe_iteration_duration_seconds (0 while the loader keeps batches ready ahead).',
    buckets: [0, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  private readonly snapshotDuration = new Histogram({
    name: 'caffe_snapshot_duration_seconds',
    help: 'Writing one snapshot: .caffemodel, .solverstate and the progress record.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly snapshots = new Counter({
    name: 'caffe_snapshots_total',
    help: 'Snapshots completed by this process.',
    registers: [this.registry],
  });
  private readonly trainingInfo = new Gauge({
    name: 'caffe_training_info',
    help: 'Always 1; its labels name the train net, the solver type and the compute backend.',
    labelNames: ['net', 'solver_type', 'backend'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  runStarted(info: RunInfo): void {
    this.trainingInfo.set({ net: info.net, solver_type: info.solverType, backend: info.backend }, 1);
    this.maxIter.set(info.maxIter);
    this.iteration.set(info.iteration);
  }

  iterationDone(sample: IterationSample): void {
    this.iteration.set(sample.iteration);
    this.trainLoss.set(sample.loss);
    this.trainLossSmoothed.set(sample.smoothedLoss);
    this.learningRate.set(sample.learningRate);
    this.imagesPerSecond.set(sample.imagesPerSecond);
    this.iterationDuration.observe(sample.seconds);
    this.dataWait.observe(sample.dataWaitSeconds ?? 0);
  }

  peakMemoryMeasured(bytes: number): void {
    this.peakMemory.set(bytes);
  }

  testDone(result: LiveTestResult): void {
    const testNet = String(result.netIndex);
    for (const { name, value } of outputLabels(result.outputs)) {
      this.testOutput.set({ test_net: testNet, output: name }, value);
    }
    if (result.loss !== undefined) this.testLoss.set({ test_net: testNet }, result.loss);
  }

  snapshotDone(seconds: number): void {
    this.snapshotDuration.observe(seconds);
    this.snapshots.inc();
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }
}

/**
 * Label values for test outputs: the blob name, or `name[j]` for element j of a blob with several
 * elements (Caffe numbers every element as its own output #k).
 */
export function outputLabels(
  outputs: readonly { name: string; value: number }[],
): { name: string; value: number }[] {
  const perBlob = new Map<string, number>();
  for (const { name } of outputs) perBlob.set(name, (perBlob.get(name) ?? 0) + 1);
  const seen = new Map<string, number>();
  return outputs.map(({ name, value }) => {
    if (perBlob.get(name) === 1) return { name, value };
    const element = seen.get(name) ?? 0;
    seen.set(name, element + 1);
    return { name: `${name}[${element}]`, value };
  });
}

/** Images per second over the last `window` iterations (Caffe's display interval, at least 1). */
export class ThroughputWindow {
  private readonly samples: { images: number; seconds: number }[] = [];

  constructor(private readonly window: number) {}

  /** Adds one iteration and returns the rate over the window. */
  add(images: number, seconds: number): number {
    this.samples.push({ images, seconds });
    if (this.samples.length > Math.max(1, this.window)) this.samples.shift();
    const trained = this.samples.reduce((sum, s) => sum + s.images, 0);
    const elapsed = this.samples.reduce((sum, s) => sum + s.seconds, 0);
    return elapsed > 0 ? trained / elapsed : 0;
  }
}

/** Images one iteration trains on: the batch of the net's first data layer times iter_size. */
export function imagesPerIteration(spec: NetSpec, iterSize: number): number {
  const data = spec.layers.find((layer) => layer.bottoms.length === 0 && layer.topShapes.length > 0);
  return (data?.topShapes[0]?.[0] ?? 0) * iterSize;
}

/** --metrics-port, else BREWERY_METRICS_PORT; undefined (off) when neither is set or the port is 0. */
export function metricsPort(flag: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const [value, name] =
    flag !== undefined ? [flag, '--metrics-port'] : [env[METRICS_PORT_ENV], METRICS_PORT_ENV];
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${name}: expected a port number from 0 to 65535, received '${value}'`);
  }
  return port === 0 ? undefined : port;
}

/** Serves GET /metrics from `registry` on host:port until closed. */
export async function serveMetrics(registry: Registry, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end('not found: this server has GET /metrics only\n');
      return;
    }
    registry
      .metrics()
      .then((text) => {
        response.writeHead(200, { 'Content-Type': registry.contentType });
        response.end(text);
      })
      .catch((error: unknown) => {
        response.writeHead(500, { 'Content-Type': 'text/plain' });
        response.end(`${String(error)}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) =>
      reject(new Error(`could not serve metrics on ${host}:${port}: ${error.message}`, { cause: error }));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return server;
}

/** Stops the server, dropping idle keep-alive connections so the process can exit. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
