import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Informer, type InformerEvent } from '../../../operator/runtime/informer.js';
import type { Resource } from '../../../operator/runtime/kube-client.js';
import { silentLogger } from '../../../operator/runtime/log.js';
import { FakeClock, FakeKubeClient, settle } from './fakes.js';

const THINGS: Resource = { group: 'example.dev', version: 'v1', plural: 'things', kind: 'Thing' };
const thing = (name: string, value = 0) => ({ metadata: { name, namespace: 'ns' }, value });

function setUp(options: { relistIntervalMs?: number; watchMaxQuietMs?: number } = {}) {
  const clock = new FakeClock();
  const client = new FakeKubeClient();
  const informer = new Informer({ client, clock, log: silentLogger(), resource: THINGS, ...options });
  const seen: string[] = [];
  informer.on((event: InformerEvent, object) => seen.push(`${event} ${object.metadata?.name}`));
  return { clock, client, informer, seen };
}

test('the first list fills the cache and watch events keep it current', async () => {
  const { client, informer, seen } = setUp();
  client.seed(THINGS, thing('a'));
  informer.start();
  await informer.waitForSync();
  await settle();
  client.seed(THINGS, thing('b'));
  client.seed(THINGS, thing('a', 1));
  client.remove(THINGS, 'ns', 'b');
  await settle();
  assert.deepEqual(seen, ['add a', 'add b', 'update a', 'delete b']);
  assert.equal((informer.get('ns/a') as { value?: number }).value, 1);
  assert.equal(informer.get('ns/b'), undefined);
  await informer.stop();
});

test('after the watch fails with an error the informer relists, catches up and watches again', async () => {
  const { clock, client, informer, seen } = setUp();
  informer.start();
  await informer.waitForSync();
  await settle();
  client.failNext.list = [new Error('connection refused')];
  client.breakWatches('things', Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
  // Changes made while the informer is not watching:
  client.seed(THINGS, thing('missed'));
  await clock.advance(1000); // first backoff: the relist fails
  assert.equal(informer.errors, 2);
  assert.deepEqual(seen, []);
  await clock.advance(2000); // second backoff: the relist works
  assert.deepEqual(seen, ['add missed']);
  assert.equal(client.openWatches, 1);
  client.seed(THINGS, thing('after'));
  await settle();
  assert.deepEqual(seen, ['add missed', 'add after']);
  await informer.stop();
  assert.equal(client.openWatches, 0);
});

test('a watch that fails to start is retried too (client-node would have stopped)', async () => {
  const { clock, client, informer, seen } = setUp();
  client.failNext.watch = [Object.assign(new Error('Forbidden'), { statusCode: 403 })];
  informer.start();
  await informer.waitForSync();
  await settle();
  assert.equal(client.openWatches, 0);
  await clock.advance(1000);
  assert.equal(client.openWatches, 1);
  client.seed(THINGS, thing('a'));
  await settle();
  assert.deepEqual(seen, ['add a']);
  await informer.stop();
});

test('a periodic relist re-delivers unchanged objects and notices deletions a stalled watch missed', async () => {
  const { clock, client, informer, seen } = setUp({ relistIntervalMs: 60_000 });
  client.seed(THINGS, thing('a'));
  client.seed(THINGS, thing('b'));
  informer.start();
  await informer.waitForSync();
  await settle();
  // A stalled watch: the deletion never reaches the informer.
  client.breakWatches('things'); // ends cleanly; the informer rewatches
  await clock.advance(1000);
  const stalledDelete = [...client.objects.keys()].find((k) => k.endsWith('/b'))!;
  client.objects.delete(stalledDelete);
  await clock.advance(60_000);
  assert.deepEqual(seen, ['add a', 'add b', 'resync a', 'delete b']);
  assert.ok(informer.relists >= 2);
  await informer.stop();
});

test('a watch that expires (410 Gone in the stream) leads to a relist without counting an error', async () => {
  const { client, informer } = setUp();
  informer.start();
  await informer.waitForSync();
  await settle();
  const relistsBefore = informer.relists;
  client.breakWatches('things', Object.assign(new Error('Gone'), { statusCode: 410 }));
  await settle();
  assert.equal(informer.errors, 0);
  assert.equal(informer.relists, relistsBefore + 1);
  await informer.stop();
});

test('a watch that hears nothing for longer than watchMaxQuietMs is restarted from where it was, without a relist', async () => {
  const { clock, client, informer: quiet, seen } = setUp({ watchMaxQuietMs: 10_000 });
  const watchCalls = () => client.calls.filter((c) => c.verb === 'watch').length;
  quiet.start();
  await quiet.waitForSync();
  await settle();
  const relists = quiet.relists;
  const watches = watchCalls();
  // An event within the limit keeps the watch: the quiet time counts from the last thing it heard.
  await clock.advance(8_000);
  client.seed(THINGS, thing('heard'));
  await clock.advance(8_000);
  assert.equal(quiet.stalledWatches, 0);
  assert.equal(watchCalls(), watches);
  // Then nothing for longer than the limit.
  await clock.advance(3_000);
  assert.equal(quiet.stalledWatches, 1);
  assert.equal(watchCalls(), watches + 1, 'watched again');
  assert.equal(quiet.relists, relists, 'no relist');
  assert.equal(quiet.errors, 0);
  client.seed(THINGS, thing('after'));
  await settle();
  assert.deepEqual(seen, ['add heard', 'add after']);
  await quiet.stop();
});
