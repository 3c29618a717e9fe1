// A CaffeTrainingJob that names a Kueue queue on a cluster without Kueue: it waits, Pending, with a
// condition and a Warning Event saying Kueue is absent, and no trainer pod is made. (kueue.test.ts
// starts Kueue and removes it again when it ends; this file runs on the cluster without it.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { type KubeClient, kubeClient } from '../../../operator/runtime/kube-client.js';
import { TRAINING_JOBS } from '../../../operator/training/controller.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { TINY_NET } from '../../support/tiny-net.js';
import { eventsAbout } from '../../support/wait.js';
import { eventually, installCrds, makeNamespace, runOperatorInProcess } from './support.js';

describe('queueName without Kueue installed', { skip: skipReason }, () => {
  let cluster: LocalCluster;
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let stopOperator = async () => {};

  before(async () => {
    cluster = localCluster();
    const crds = await cluster.kubectl(['get', 'crd', '-o', 'name']);
    if (/kueue\.x-k8s\.io/.test(crds.stdout)) {
      throw new Error('Kueue CRDs are installed in the test cluster: run `hack/cluster kueue down` first');
    }
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'nokueue');
    client = kubeClient(cluster.kubeConfig);
    stopOperator = await runOperatorInProcess(client, 'nokueue');
  });

  after(async () => {
    await stopOperator();
    await cleanUp();
  });

  test('the job waits Pending with a condition saying Kueue is absent, and makes no pod', async () => {
    await client.create(TRAINING_JOBS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'CaffeTrainingJob',
      metadata: { name: 'queued', namespace },
      spec: {
        net: { inline: TINY_NET },
        solver: { builtin: 'lenet' },
        dataset: { name: 'sample' },
        snapshotURI: 's3://nokueue/snap',
        queueName: 'gpus',
      },
    });
    const status = await eventually(
      'the job to say Kueue is absent',
      async () => {
        const s = (await client.get(TRAINING_JOBS, namespace, 'queued'))?.status as
          | { phase?: string; pod?: string; conditions?: { type: string; reason: string; message: string }[] }
          | undefined;
        const running = s?.conditions?.find((c) => c.type === 'Running');
        return running?.reason === 'KueueNotInstalled' ? { ...s, running } : undefined;
      },
      60_000,
      250,
    );
    assert.equal(status.phase, 'Pending');
    assert.equal(status.pod, undefined);
    assert.match(
      status.running.message,
      /spec\.queueName is "gpus" but Kueue is not installed in this cluster/,
    );
    const pods = await cluster.kubectl(['get', 'pods', '-n', namespace, '-o', 'name']);
    assert.equal(pods.stdout.trim(), '');
    const warnings = await eventsAbout(cluster.kubectl, namespace, 'queued', 'KueueNotInstalled');
    assert.equal(warnings.length, 1);
  });
});
