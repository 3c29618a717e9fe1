// A CaffeTrainingJob's own series on the operator's /metrics: there while the job exists (its phase, its
// restarts), gone once the job is deleted, so a long-running operator's scrape does not grow with every
// job ever made.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { type KubeClient, kubeClient } from '../../../operator/runtime/kube-client.js';
import { OperatorMetrics, serveMetrics } from '../../../operator/runtime/metrics.js';
import { TRAINING_JOBS } from '../../../operator/training/controller.js';
import { localCluster, skipReason } from '../../support/cluster.js';
import { objectStore } from '../../support/object-store.js';
import { eventually, installCrds, makeNamespace, runOperatorInProcess } from './support.js';

describe("a deleted job's metric series", { skip: skipReason }, () => {
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let stopOperator = async () => {};
  let closeServer = () => {};
  let metricsUrl = '';

  before(async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'job-metrics');
    client = kubeClient(cluster.kubeConfig);
    const store = await objectStore();
    await store.bucket('job-metrics');
    const metrics = new OperatorMetrics();
    const server = await serveMetrics(metrics, 0, '127.0.0.1');
    closeServer = () => server.close();
    metricsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    stopOperator = await runOperatorInProcess(client, 'job-metrics', metrics);
  });

  after(async () => {
    await stopOperator();
    closeServer();
    await cleanUp();
  });

  /** The lines of /metrics labelled with this job. */
  const seriesOf = async (name: string) => {
    const text = await (await fetch(metricsUrl)).text();
    return text
      .split('\n')
      .filter((line) => line.includes(`namespace="${namespace}"`) && line.includes(`job_name="${name}"`));
  };

  test('a job that restarted shows its series on /metrics until it is deleted', async () => {
    // An image the local kubelet cannot run fails at once: one restart, then Failed.
    await client.create(TRAINING_JOBS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'CaffeTrainingJob',
      metadata: { name: 'counted', namespace },
      spec: {
        image: 'example.com/not-a-trainer:1',
        net: { builtin: 'bvlc_reference_caffenet' },
        solver: { inline: 'base_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 10\n' },
        data: { trainSource: 's3://job-metrics/train_lmdb' },
        snapshotURI: `s3://job-metrics/${namespace}/snap`,
        restartPolicy: { maxRestarts: 1, backoffSeconds: 1, maxBackoffSeconds: 1 },
      },
    });
    const failed = await eventually(
      'job counted to be Failed',
      async () => {
        const status = (await client.get(TRAINING_JOBS, namespace, 'counted'))?.status as
          | { phase?: string; restarts?: number }
          | undefined;
        return status?.phase === 'Failed' ? status : undefined;
      },
      120_000,
      500,
    );
    assert.equal(failed.restarts, 1);
    const before = await eventually('the Failed phase on /metrics', async () => {
      const lines = await seriesOf('counted');
      return lines.some((l) => l.startsWith('brewery_operator_training_job_phase{') && l.includes('"Failed"'))
        ? lines
        : undefined;
    });
    const restarts = before.find((l) => l.startsWith('brewery_operator_training_restarts_total{'));
    assert.match(restarts ?? '', / 1$/, before.join('\n'));

    await client.delete(TRAINING_JOBS, namespace, 'counted');
    await eventually('the job to be gone', async () =>
      (await client.get(TRAINING_JOBS, namespace, 'counted')) ? undefined : true,
    );
    const left = await eventually(
      'its series to leave /metrics',
      async () => {
        const lines = await seriesOf('counted');
        return lines.length === 0 ? lines : undefined;
      },
      30_000,
    );
    assert.deepEqual(left, []);
  });
});
