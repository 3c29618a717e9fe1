// The progress endpoint: trainer pods POST their live status record to
//   https://<operator>/v1/namespaces/<namespace>/caffetrainingjobs/<name>/progress
// and a dataset's finalize pod POSTs its counts (records per split, skipped files, shards) to
//   https://<operator>/v1/namespaces/<namespace>/imagenetdatasets/<name>/counts
// with `Authorization: Bearer <projected service-account token>`. For each report: gather (TokenReview
// of the token, the pod it is bound to, the job or dataset) → judgeReport → mirror the record into the
// status → count the result. The operator reads no object store: the pods tell it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';

import type { Logger } from 'pino';

import { type DatasetCounts, parseDatasetCounts } from '../../trainer/contract/dataset-counts.js';
import { type LiveStatus, parseLiveStatus } from '../../trainer/contract/live-status.js';
import { CaffeTrainingJobStatus } from '../api/caffe-training-job.js';
import { ImageNetDatasetSpec, ImageNetDatasetStatus } from '../api/imagenet-dataset.js';
import { DATASETS } from '../dataset/controller.js';
import { datasetOutputs, JOBS, jobName, shardUris } from '../dataset/jobs.js';
import { statusChanged } from '../runtime/conditions.js';
import { isConflict, type KubeClient, type KubeObject, type Resource } from '../runtime/kube-client.js';
import type { OperatorMetrics } from '../runtime/metrics.js';
import { TRAINING_JOBS } from '../training/controller.js';
import { withLiveStatus } from '../training/decide.js';
import { PROGRESS_AUDIENCE } from '../training/objects.js';
import { PODS } from '../workloads.js';
import {
  boundPodOf,
  judgeReport,
  type ReportFacts,
  type ReportKind,
  type TokenReviewStatus,
} from './authorize.js';

export { PROGRESS_AUDIENCE };

export const DEFAULT_PROGRESS_PORT = 8443;
/** A live status record is a few KiB; anything far larger is not one. */
const MAX_BODY_BYTES = 256 * 1024;
const ROUTES: { pattern: RegExp; kind: ReportKind }[] = [
  {
    pattern: /^\/v1\/namespaces\/([a-z0-9.-]+)\/caffetrainingjobs\/([a-z0-9.-]+)\/progress$/,
    kind: 'CaffeTrainingJob',
  },
  {
    pattern: /^\/v1\/namespaces\/([a-z0-9.-]+)\/imagenetdatasets\/([a-z0-9.-]+)\/counts$/,
    kind: 'ImageNetDataset',
  },
];
const TOKEN_REVIEWS: Resource = {
  group: 'authentication.k8s.io',
  version: 'v1',
  plural: 'tokenreviews',
  kind: 'TokenReview',
};

export interface ProgressServerOptions {
  client: KubeClient;
  metrics: OperatorMetrics;
  log: Logger;
  /** PEM serving certificate (with its chain) and key. */
  tls: { cert: string | Buffer; key: string | Buffer };
  port: number;
  host?: string;
  audience?: string;
}

/** Starts the HTTPS server; resolves once it listens. */
export async function serveProgress(options: ProgressServerOptions): Promise<Server> {
  const server = createServer({ cert: options.tls.cert, key: options.tls.key }, (request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      options.log.error({ err: String(error) }, 'progress report failed');
      if (!response.headersSent)
        reply(response, 500, { message: 'the operator could not record the report' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}

type Report =
  | { kind: 'CaffeTrainingJob'; live: LiveStatus }
  | { kind: 'ImageNetDataset'; counts: DatasetCounts };

async function handle(options: ProgressServerOptions, request: IncomingMessage, response: ServerResponse) {
  const path = new URL(request.url ?? '/', 'https://operator').pathname;
  const route = ROUTES.map((r) => ({ kind: r.kind, match: r.pattern.exec(path) })).find((r) => r.match);
  if (!route?.match || request.method !== 'POST') {
    return reply(response, 404, {
      message:
        'POST /v1/namespaces/<namespace>/caffetrainingjobs/<name>/progress or ' +
        '/v1/namespaces/<namespace>/imagenetdatasets/<name>/counts',
    });
  }
  const target = { namespace: route.match[1]!, name: route.match[2]!, kind: route.kind };
  const what = route.kind === 'CaffeTrainingJob' ? 'the progress report' : 'the counts';
  const where = `${what} for ${target.namespace}/${target.name}`;
  const body = await readBody(request);
  let report: Report;
  try {
    if (body === undefined) throw new Error(`larger than ${MAX_BODY_BYTES} bytes`);
    const json: unknown = JSON.parse(body.toString('utf8'));
    report =
      route.kind === 'CaffeTrainingJob'
        ? { kind: route.kind, live: parseLiveStatus(json, where) }
        : { kind: route.kind, counts: parseDatasetCounts(json, where) };
  } catch (error) {
    options.metrics.progressReports.inc({ result: 'refused', reason: 'BadReport' });
    return reply(response, 400, { reason: 'BadReport', message: `${where}: ${(error as Error).message}` });
  }

  const facts = await gather(options, request, target);
  const verdict = judgeReport(facts);
  if (!verdict.accepted) {
    options.metrics.progressReports.inc({ result: 'refused', reason: verdict.reason });
    options.log.warn(
      {
        [route.kind === 'CaffeTrainingJob' ? 'job' : 'dataset']: `${target.namespace}/${target.name}`,
        reason: verdict.reason,
      },
      verdict.message,
    );
    return reply(response, verdict.httpStatus, { reason: verdict.reason, message: verdict.message });
  }
  if (report.kind === 'CaffeTrainingJob') {
    await mirror(options.client, target, verdict.pod, report.live);
  } else {
    await mirrorCounts(options.client, target, report.counts);
  }
  options.metrics.progressReports.inc({ result: 'accepted', reason: '' });
  return reply(response, 200, {
    message:
      report.kind === 'CaffeTrainingJob'
        ? `recorded iteration ${report.live.iteration} of ${target.namespace}/${target.name}`
        : `recorded the counts of ${target.namespace}/${target.name}`,
  });
}

/** The facts judgeReport needs, each read only when the checks before it can pass. */
async function gather(
  options: ProgressServerOptions,
  request: IncomingMessage,
  target: ReportFacts['target'],
): Promise<ReportFacts> {
  const audience = options.audience ?? PROGRESS_AUDIENCE;
  const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  const facts: ReportFacts = { target, audience, hasToken: token !== undefined };
  if (!token) return facts;
  const review = (await options.client.create(TOKEN_REVIEWS, '', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token, audiences: [audience] },
  } as KubeObject)) as KubeObject & { status?: TokenReviewStatus };
  facts.review = review.status ?? {};
  const bound = boundPodOf(facts.review);
  if (!facts.review.authenticated || !bound) return facts;
  const pod = await options.client.get(PODS, bound.namespace, bound.name);
  if (pod) {
    facts.pod = {
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
    };
    const controllerUid = await podControllerUid(options.client, pod, target);
    if (controllerUid) facts.pod.controllerUid = controllerUid;
  }
  if (target.kind === 'ImageNetDataset') {
    const dataset = await options.client.get(DATASETS, target.namespace, target.name);
    if (dataset) {
      const phase = (dataset.status as { phase?: string } | undefined)?.phase;
      facts.job = { uid: dataset.metadata?.uid ?? '', finished: phase === 'Ready' || phase === 'Failed' };
    }
    return facts;
  }
  const job = await options.client.get(TRAINING_JOBS, target.namespace, target.name);
  if (job) {
    const status = (job.status ?? {}) as { pod?: string; phase?: string };
    facts.job = {
      uid: job.metadata?.uid ?? '',
      finished: status.phase === 'Succeeded' || status.phase === 'Failed',
      ...(status.pod ? { currentPod: status.pod } : {}),
    };
  }
  return facts;
}

/**
 * Whose pod it is: the uid of the CaffeTrainingJob controlling it; or, for a dataset's counts, of the
 * ImageNetDataset controlling the pod's Job, when that Job is the dataset's finalize Job.
 */
async function podControllerUid(
  client: KubeClient,
  pod: KubeObject,
  target: ReportFacts['target'],
): Promise<string | undefined> {
  const controller = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (target.kind !== 'ImageNetDataset') {
    return controller?.kind === TRAINING_JOBS.kind ? controller.uid : undefined;
  }
  if (controller?.kind !== JOBS.kind || controller.name !== jobName(target.name, 'finalize'))
    return undefined;
  const job = await client.get(JOBS, pod.metadata?.namespace ?? '', controller.name);
  if (job?.metadata?.uid !== controller.uid) return undefined;
  const owner = job.metadata?.ownerReferences?.find((o) => o.controller);
  return owner?.kind === DATASETS.kind ? owner.uid : undefined;
}

/** Writes a dataset's counts and shards into its status, for the controller to make it Ready with. */
async function mirrorCounts(client: KubeClient, target: ReportFacts['target'], counts: DatasetCounts) {
  for (let attempt = 1; ; attempt++) {
    const dataset = await client.get(DATASETS, target.namespace, target.name);
    const spec = ImageNetDatasetSpec.safeParse(dataset?.spec);
    const parsed = ImageNetDatasetStatus.safeParse(dataset?.status ?? {});
    if (!dataset || !spec.success || !parsed.success) return;
    const status: ImageNetDatasetStatus = {
      ...parsed.data,
      images: {
        train: counts.train,
        val: counts.val,
        skipped: counts.skipped,
        total: counts.train + counts.val,
      },
      outputs: datasetOutputs(spec.data, shardUris(spec.data, counts.shards)),
    };
    if (!statusChanged(parsed.data, status)) return;
    try {
      await client.replaceStatus(DATASETS, target.namespace, target.name, { ...dataset, status });
      return;
    } catch (error) {
      if (!isConflict(error) || attempt >= 5) throw error;
    }
  }
}

/** Writes the report into the job's status; a write that races the controller's is tried again. */
async function mirror(client: KubeClient, target: ReportFacts['target'], pod: string, live: LiveStatus) {
  for (let attempt = 1; ; attempt++) {
    const job = await client.get(TRAINING_JOBS, target.namespace, target.name);
    const parsed = CaffeTrainingJobStatus.safeParse(job?.status ?? {});
    if (!job || !parsed.success || parsed.data.pod !== pod) return;
    const status = withLiveStatus(parsed.data, live);
    if (!statusChanged(parsed.data, status)) return;
    try {
      await client.replaceStatus(TRAINING_JOBS, target.namespace, target.name, { ...job, status });
      return;
    } catch (error) {
      if (!isConflict(error) || attempt >= 5) throw error;
    }
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function reply(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(`${JSON.stringify(body)}\n`);
}
