// The operator's Prometheus metrics and the small HTTP server that exposes them.
import { createServer, type Server } from 'node:http';

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'brewery_operator_reconciles_total',
    help: 'Reconciles by controller and result (success, requeue, error).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'brewery_operator_reconcile_duration_seconds',
    help: 'Time one reconcile took, by controller.',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'brewery_operator_workqueue_depth',
    help: 'Keys waiting for a worker, by controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly objectsByPhase = new Gauge({
    name: 'brewery_operator_objects',
    help: 'Objects of each kind by status.phase.',
    labelNames: ['kind', 'phase'] as const,
    registers: [this.registry],
  });
  readonly trainingJobPhase = new Gauge({
    name: 'brewery_operator_training_job_phase',
    help: "1 for each CaffeTrainingJob's current status.phase, by job and phase.",
    labelNames: ['namespace', 'job_name', 'phase'] as const,
    registers: [this.registry],
  });
  readonly informerErrors = new Gauge({
    name: 'brewery_operator_informer_errors',
    help: 'List or watch errors each informer recovered from, by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly trainingRestarts = new Counter({
    name: 'brewery_operator_training_restarts_total',
    help: 'Trainer restarts after the trainer itself failed, by job.',
    // job_name, not job: Prometheus's own job label would overwrite it when labels are honoured.
    labelNames: ['namespace', 'job_name'] as const,
    registers: [this.registry],
  });
  readonly trainingDisruptions = new Counter({
    name: 'brewery_operator_training_disruptions_total',
    help: 'Trainer pods ended by something other than the trainer (preemption, eviction, ...), by job and reason.',
    labelNames: ['namespace', 'job_name', 'reason'] as const,
    registers: [this.registry],
  });
  readonly progressReports = new Counter({
    name: 'brewery_operator_progress_reports_total',
    help: 'Progress reports from trainer pods, by result (accepted, refused) and the reason a report was refused.',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'brewery_operator_api_requests_total',
    help: 'Calls to the Kubernetes API, by verb, resource and HTTP status (2xx for any success).',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'brewery_operator_leader',
    help: '1 while this instance holds the leader lease.',
    registers: [this.registry],
  });

  /** The series labelled with one CaffeTrainingJob (namespace and job_name), kept until the job is gone. */
  private readonly perTrainingJob = [this.trainingRestarts, this.trainingDisruptions, this.trainingJobPhase];

  /**
   * Removes every series of a CaffeTrainingJob that no longer exists: without this a deleted job's
   * counters stay on /metrics for as long as the operator runs, and a busy cluster's scrape only grows.
   */
  async forgetTrainingJob(namespace: string, name: string): Promise<void> {
    for (const metric of this.perTrainingJob) {
      for (const { labels } of (await metric.get()).values) {
        if (labels.namespace === namespace && labels.job_name === name) metric.remove(labels);
      }
    }
  }

  /** Refreshes gauges that are read from state rather than counted, just before a scrape. */
  private readonly collectors: (() => void)[] = [];

  onCollect(collector: () => void): void {
    this.collectors.push(collector);
  }

  async render(): Promise<string> {
    for (const collect of this.collectors) collect();
    return this.registry.metrics();
  }
}

/** Serves /metrics, and /healthz for the liveness probe, on the given port (0 picks one). */
export async function serveMetrics(
  metrics: OperatorMetrics,
  port: number,
  host = '0.0.0.0',
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/metrics') {
      metrics
        .render()
        .then((text) => {
          response.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        });
    } else if (request.url === '/healthz' || request.url === '/readyz') {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('ok\n');
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
