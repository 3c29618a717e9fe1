// Two operator instances against the real apiserver: only the leader reconciles; an ImageNetDataset
// gets an Indexed prep Job the apiserver accepts (podFailurePolicy, backoffLimitPerIndex and all), a
// Preparing status through the status subresource, an Event, and suspend reaches the Job.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { KubeConfig } from '@kubernetes/client-node';

import { DATASETS } from '../../../operator/dataset/controller.js';
import { JOBS } from '../../../operator/dataset/jobs.js';
import { runOperator } from '../../../operator/manager.js';
import { OPERATOR_CLUSTER_ROLE } from '../../../operator/rbac.js';
import { systemClock } from '../../../operator/runtime/clock.js';
import { EVENTS, kubeEventRecorder } from '../../../operator/runtime/events.js';
import { type KubeClient, type KubeObject, kubeClient } from '../../../operator/runtime/kube-client.js';
import { operatorLogger } from '../../../operator/runtime/log.js';
import { OperatorMetrics } from '../../../operator/runtime/metrics.js';
import { localCluster, skipReason } from '../../support/cluster.js';
import { eventually, installCrds, makeNamespace, repositoryRoot } from './support.js';

interface DatasetJson {
  metadata: { generation: number };
  status?: {
    phase?: string;
    observedGeneration?: number;
    shardProgress?: string;
    prepJob?: string;
    conditions?: { type: string; status: string; reason: string }[];
  };
}

/** The cluster of `admin`, with the ServiceAccount token as the only credential. */
function serviceAccountConfig(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster()!;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'brewery-operator', token }],
    contexts: [{ name: 'brewery-operator', cluster: cluster.name, user: 'brewery-operator' }],
    currentContext: 'brewery-operator',
  });
  return config;
}

async function reconcilesOf(metrics: OperatorMetrics): Promise<number> {
  const metric = await metrics.reconciles.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

describe('the dataset controller on the real apiserver, with two operator instances', {
  skip: skipReason,
}, () => {
  let namespace = '';
  let cleanUp = async () => {};
  /** The test's own client (admin); the operators have theirs. */
  let client: KubeClient;
  const stop = new AbortController();
  const instances: { metrics: OperatorMetrics; run: Promise<string> }[] = [];

  before(async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    const [name, deleteNamespace] = await makeNamespace(cluster, 'operator-dataset');
    namespace = name;
    // The operators run as a ServiceAccount bound to the generated ClusterRole and nothing else, so a
    // missing verb in crds/rbac/ fails this test.
    const binding = `${namespace}-operator`;
    await cluster.kubectl(['apply', '-f', join(repositoryRoot(), 'crds/rbac/operator-clusterrole.yaml')]);
    await cluster.kubectl(['create', 'serviceaccount', 'brewery-operator', '-n', namespace]);
    await cluster.kubectl([
      'create',
      'clusterrolebinding',
      binding,
      `--clusterrole=${OPERATOR_CLUSTER_ROLE}`,
      `--serviceaccount=${namespace}:brewery-operator`,
    ]);
    cleanUp = async () => {
      await cluster.kubectl(['delete', 'clusterrolebinding', binding]);
      await deleteNamespace();
    };
    const token = (
      await cluster.kubectl(['create', 'token', 'brewery-operator', '-n', namespace])
    ).stdout.trim();
    const operatorClient = kubeClient(serviceAccountConfig(cluster.kubeConfig, token));
    client = kubeClient(cluster.kubeConfig);
    for (const identity of ['operator-a', 'operator-b']) {
      // Warnings (a lost lease, a failed reconcile) show in the test output.
      const log = operatorLogger('warn').child({ identity });
      const metrics = new OperatorMetrics();
      const run = runOperator(
        {
          client: operatorClient,
          clock: systemClock,
          log,
          metrics,
          events: kubeEventRecorder(operatorClient, systemClock, log, identity),
          trainerImage: 'ghcr.io/brewery-dev/trainer-cpu:test',
          identity,
          lease: {
            namespace,
            name: 'brewery-operator',
            // Shorter than client-go's 15/10/2 s so the test is quick, long enough for a busy machine.
            durationMs: 8_000,
            renewDeadlineMs: 6_000,
            retryPeriodMs: 1_000,
          },
        },
        stop.signal,
      );
      instances.push({ metrics, run });
    }
  });

  after(async () => {
    stop.abort();
    assert.deepEqual(await Promise.all(instances.map((i) => i.run)), ['stopped', 'stopped']);
    await cleanUp();
  });

  test('a dataset gets its Indexed prep Job and a Preparing status, from the leader only', async () => {
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'tiny', namespace },
      // Workers that no node can take (16 GPUs each): the dataset stays Preparing for as long as the
      // test looks, whatever the machine's speed, instead of failing on its missing source.
      spec: {
        source: { uri: 's3://images/raw' },
        output: 's3://data/tiny',
        shards: 3,
        worker: { resources: { gpus: 16 } },
      },
    });
    const job = (await eventually('the prep Job', () =>
      client.get(JOBS, namespace, 'tiny-prep'),
    )) as KubeObject & {
      spec: {
        completionMode: string;
        completions: number;
        backoffLimitPerIndex: number;
        podFailurePolicy: unknown;
      };
    };
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.completions, 3);
    assert.equal(job.spec.backoffLimitPerIndex, 3);
    assert.equal(job.metadata?.ownerReferences?.[0]?.kind, 'ImageNetDataset');

    const dataset = await eventually('the Preparing status', async () => {
      const object = (await client.get(DATASETS, namespace, 'tiny')) as unknown as DatasetJson | undefined;
      return object?.status?.phase === 'Preparing' ? object : undefined;
    });
    assert.equal(dataset.status?.observedGeneration, dataset.metadata.generation);
    assert.equal(dataset.status?.prepJob, 'tiny-prep');
    assert.match(dataset.status?.shardProgress ?? '', /^\d\/3$/);
    const progressing = dataset.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(`${progressing?.status} ${progressing?.reason}`, 'True PrepRunning');

    // Events are written in the background: wait for one, then check it is the only one.
    const eventReasons = async () => {
      const { stdout } = await localCluster().kubectl([
        'get',
        'events.events.k8s.io',
        '-n',
        namespace,
        '--field-selector',
        'regarding.name=tiny',
        '-o',
        'json',
      ]);
      return (JSON.parse(stdout).items as { reason: string }[]).map((e) => e.reason);
    };
    await eventually('the PrepStarted event', async () =>
      (await eventReasons()).length > 0 ? true : undefined,
    );
    assert.deepEqual(await eventReasons(), ['PrepStarted']);

    const counts = await Promise.all(instances.map((i) => reconcilesOf(i.metrics)));
    assert.equal(counts.filter((n) => n > 0).length, 1, `reconciles per instance: ${counts.join(', ')}`);
  });

  test("suspending the dataset suspends its Job and says so in the dataset's conditions", async () => {
    await client.mergePatch(DATASETS, namespace, 'tiny', { spec: { suspend: true } });
    await eventually('the Job to be suspended', async () => {
      const job = (await client.get(JOBS, namespace, 'tiny-prep')) as
        | { spec?: { suspend?: boolean } }
        | undefined;
      return job?.spec?.suspend === true ? true : undefined;
    });
    await eventually('the Suspended condition', async () => {
      const object = (await client.get(DATASETS, namespace, 'tiny')) as unknown as DatasetJson | undefined;
      const progressing = object?.status?.conditions?.find((c) => c.type === 'Progressing');
      return progressing?.reason === 'Suspended' &&
        object?.status?.observedGeneration === object?.metadata.generation
        ? true
        : undefined;
    });
    // Events are written in the background, so the Suspended event may land just after the status.
    await eventually('the Suspended event', async () => {
      const events = await client.list(EVENTS);
      return events.items.some((e) => e.metadata?.namespace === namespace && e.reason === 'Suspended')
        ? true
        : undefined;
    });
  });
});
