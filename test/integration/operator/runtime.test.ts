// The controller runtime against the real apiserver: the informer survives a failed watch and a restart
// of the apiserver itself, and of two leader-election candidates only one acts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { KubeConfig } from '@kubernetes/client-node';

import { DATASETS } from '../../../operator/dataset/controller.js';
import { systemClock } from '../../../operator/runtime/clock.js';
import { Controller } from '../../../operator/runtime/controller.js';
import { Informer } from '../../../operator/runtime/informer.js';
import { type KubeClient, kubeClient, RequestTimeoutError } from '../../../operator/runtime/kube-client.js';
import { LEASES, LeaderElector } from '../../../operator/runtime/leader-election.js';
import { silentLogger } from '../../../operator/runtime/log.js';
import { localCluster, skipReason } from '../../support/cluster.js';
import { eventually, installCrds, makeNamespace, repositoryRoot } from './support.js';

const execFileAsync = promisify(execFile);

const dataset = (name: string, namespace: string) => ({
  apiVersion: 'caffe.brewery.dev/v1alpha1',
  kind: 'ImageNetDataset',
  metadata: { name, namespace },
  spec: { source: { uri: 's3://images/raw' }, output: `s3://data/${name}`, shards: 1, suspend: true },
});

/** A kubeconfig for a plain-HTTP server with no credentials. */
function kubeConfigFor(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'silent', server, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'silent', cluster: 'silent', user: 'nobody' }],
    currentContext: 'silent',
  });
  return config;
}

describe('controller runtime on the real apiserver', { skip: skipReason }, () => {
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;

  before(async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'operator-runtime');
    client = kubeClient(cluster.kubeConfig);
  });
  after(async () => cleanUp());

  test('the informer recovers after its watch fails and sees what changed meanwhile', async () => {
    // The first watch asks for a resourceVersion the apiserver refuses: a real error response, the kind
    // on which client-node's own informer stops for good.
    let watches = 0;
    const flaky: KubeClient = {
      ...client,
      watch: (res, resourceVersion, onEvent, options) => {
        watches += 1;
        return client.watch(res, watches === 1 ? 'not-a-version' : resourceVersion, onEvent, options);
      },
    };
    const informer = new Informer({
      client: flaky,
      clock: systemClock,
      log: silentLogger(),
      resource: DATASETS,
      errorBackoffBaseMs: 200,
    });
    const seen: string[] = [];
    informer.on((event, object) => {
      if (object.metadata?.namespace === namespace) seen.push(`${event} ${object.metadata?.name}`);
    });
    informer.start();
    try {
      await informer.waitForSync();
      await client.create(DATASETS, namespace, dataset('during-outage', namespace));
      await eventually('the informer to relist after the failed watch', async () =>
        informer.errors >= 1 && watches >= 2 ? true : undefined,
      );
      await client.create(DATASETS, namespace, dataset('after-recovery', namespace));
      await eventually('both datasets in the cache', async () =>
        informer.get(`${namespace}/during-outage`) && informer.get(`${namespace}/after-recovery`)
          ? true
          : undefined,
      );
      assert.ok(seen.includes('add during-outage'), seen.join(', '));
      assert.ok(seen.includes('add after-recovery'), seen.join(', '));
    } finally {
      await informer.stop();
    }
  });

  test('the informer recovers within a minute when the apiserver restarts under its watch', async (t) => {
    const cluster = localCluster();
    // The operator's own settings: no shortened backoff, the default relist interval.
    const informer = new Informer({ client, clock: systemClock, log: silentLogger(), resource: DATASETS });
    const seen: string[] = [];
    informer.on((event, object) => {
      if (object.metadata?.namespace === namespace) seen.push(`${event} ${object.metadata?.name}`);
    });
    informer.start();
    try {
      await informer.waitForSync();
      await client.create(DATASETS, namespace, dataset('before-restart', namespace));
      await eventually('the informer to see the first dataset', async () =>
        informer.get(`${namespace}/before-restart`) ? true : undefined,
      );
      const errorsBefore = informer.errors;

      // The same flags, port and certificates: every other client of the cluster carries on after it.
      await execFileAsync(join(repositoryRoot(), 'hack/cluster'), ['restart', 'kube-apiserver'], {
        env: { ...cluster.env, BREWERY_CLUSTER_DIR: cluster.dir },
      });
      const restartedAt = Date.now();
      // kubectl, a fresh client, so only the informer has to cope with connections the restart cut.
      await cluster.kubectl(['create', '-f', '-'], JSON.stringify(dataset('after-restart', namespace)));
      await cluster.kubectl([
        'label',
        'imagenetdatasets.caffe.brewery.dev',
        'before-restart',
        '-n',
        namespace,
        'changed=after-restart',
      ]);
      await eventually(
        'the informer to see the dataset made and the label set after the restart',
        async () =>
          informer.get(`${namespace}/after-restart`) &&
          informer.get(`${namespace}/before-restart`)?.metadata?.labels?.changed === 'after-restart'
            ? true
            : undefined,
        60_000,
        500,
      );
      const recoveredInMs = Date.now() - restartedAt;
      assert.ok(informer.errors > errorsBefore, 'the restart cut the watch: the informer saw an error');
      assert.ok(seen.includes('add after-restart'), seen.join(', '));
      assert.ok(seen.includes('update before-restart'), seen.join(', '));
      t.diagnostic(`the informer caught up ${recoveredInMs} ms after the restarted apiserver was ready`);
    } finally {
      await informer.stop();
    }
  });

  test('a request no server answers fails after the timeout naming its verb and resource, and its reconcile is retried with backoff', async () => {
    // The network, not the API: a listener that takes the connection and never says a word.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hanging = kubeClient(kubeConfigFor(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`), {
      requestTimeoutMs: 500,
    });
    const informer = new Informer({ client, clock: systemClock, log: silentLogger(), resource: DATASETS });
    const reconcileErrors: unknown[] = [];
    const controller = new Controller({
      name: 'hanging',
      primary: informer,
      clock: systemClock,
      log: silentLogger(),
      queue: { baseDelayMs: 100, maxDelayMs: 2_000 },
      reconcile: async (key) => {
        if (key !== `${namespace}/unanswered`) return undefined;
        try {
          await hanging.get(DATASETS, namespace, 'unanswered');
        } catch (error) {
          reconcileErrors.push(error);
          throw error;
        }
        return undefined;
      },
    });
    const stop = new AbortController();
    informer.start();
    const running = controller.run(stop.signal);
    try {
      await assert.rejects(hanging.list(DATASETS), (error: Error) => {
        assert.ok(error instanceof RequestTimeoutError, String(error));
        assert.match(
          error.message,
          /^list imagenetdatasets \(\/apis\/caffe\.brewery\.dev\/v1alpha1\/imagenetdatasets\): no answer from the apiserver within 500 ms$/,
        );
        return true;
      });
      await client.create(DATASETS, namespace, dataset('unanswered', namespace));
      const key = `${namespace}/unanswered`;
      await eventually('three failed reconciles in a row', async () =>
        controller.queue.failuresOf(key) >= 3 ? true : undefined,
      );
      for (const error of reconcileErrors) {
        assert.ok(error instanceof RequestTimeoutError, String(error));
        assert.equal(error.verb, 'get');
        assert.equal(error.resource, `imagenetdatasets ${namespace}/unanswered`);
      }
    } finally {
      stop.abort();
      await running;
      await informer.stop();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('of two candidates only one leads; when it stops, the other takes over', async () => {
    // Generous deadlines: on a loaded machine a renewal can take seconds, and a leader that misses its
    // renew deadline rightly hands over; the handover below is prompt anyway, as a stopped leader
    // releases the lease.
    const timings = { leaseDurationMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 1_000 };
    const make = (identity: string) =>
      new LeaderElector({
        client,
        clock: systemClock,
        log: silentLogger(),
        namespace,
        name: 'operator-test',
        identity,
        ...timings,
      });
    const [a, b] = [make('instance-a'), make('instance-b')];
    const stopA = new AbortController();
    const stopB = new AbortController();
    const leading = new Set<string>();
    let bothAtOnce = false;
    const lead = (who: string) => async (signal: AbortSignal) => {
      leading.add(who);
      if (leading.size > 1) bothAtOnce = true;
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      leading.delete(who);
    };
    const runA = a.run(stopA.signal, lead('a'));
    const runB = b.run(stopB.signal, lead('b'));
    await eventually('a leader', async () => (leading.size === 1 ? [...leading][0] : undefined));
    // Three renewals of the lease by one holder pass with that one leader only: counted from the lease,
    // not a clock (a holder that changes starts the count again).
    const renewals = new Set<string>();
    let holder: string | undefined;
    const lease = await eventually(
      'three renewals of the lease by one holder',
      async () => {
        const spec = (await client.get(LEASES, namespace, 'operator-test'))?.spec as
          | { holderIdentity?: string; renewTime?: string }
          | undefined;
        if (spec?.holderIdentity !== holder) renewals.clear();
        holder = spec?.holderIdentity;
        if (spec?.renewTime) renewals.add(spec.renewTime);
        return renewals.size > 3 ? spec : undefined;
      },
      60_000,
      200,
    );
    const first = lease.holderIdentity?.replace(/^instance-/, '');
    assert.deepEqual([...leading], [first]);

    const [stopLeader, stopOther, runLeader, runOther] =
      first === 'a' ? [stopA, stopB, runA, runB] : [stopB, stopA, runB, runA];
    stopLeader.abort();
    assert.equal(await runLeader, 'stopped');
    const second = await eventually('the other instance to lead', async () =>
      leading.size === 1 && !leading.has(first!) ? [...leading][0] : undefined,
    );
    assert.notEqual(second, first);
    stopOther.abort();
    assert.equal(await runOther, 'stopped');
    assert.equal(bothAtOnce, false, 'two leaders at once');
  });
});
