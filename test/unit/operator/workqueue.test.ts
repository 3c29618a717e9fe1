import assert from 'node:assert/strict';
import { test } from 'node:test';

import { WorkQueue } from '../../../operator/runtime/workqueue.js';
import { FakeClock, settle } from './fakes.js';

test('a key added twice before a worker takes it is handed out once', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add('ns/a');
  queue.add('ns/a');
  queue.add('ns/b');
  assert.equal(queue.length, 2);
  assert.equal(await queue.get(), 'ns/a');
  assert.equal(await queue.get(), 'ns/b');
  assert.equal(queue.length, 0);
});

test('a key added while a worker holds it comes back only after done, so two workers never share it', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add('ns/a');
  const key = await queue.get();
  queue.add('ns/a');
  assert.equal(queue.length, 0, 'not queued while processing');
  queue.done(key!);
  assert.equal(queue.length, 1);
  assert.equal(await queue.get(), 'ns/a');
});

test('a waiting worker receives a key as soon as it is added', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  const waiting = queue.get();
  queue.add('ns/a');
  assert.equal(await waiting, 'ns/a');
});

test('a failing key backs off exponentially per key, and forget resets it', async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock, baseDelayMs: 1000, maxDelayMs: 5000 });
  const delays: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const start = clock.now().getTime();
    queue.addRateLimited('ns/a');
    while (queue.length === 0) await clock.advance(100);
    delays.push(clock.now().getTime() - start);
    queue.done((await queue.get())!);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000]);
  assert.equal(queue.failuresOf('ns/a'), 5);
  queue.forget('ns/a');
  assert.equal(queue.failuresOf('ns/a'), 0);
});

test('addAfter keeps the earlier of two pending times for one key', async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.addAfter('ns/a', 10_000);
  queue.addAfter('ns/a', 2_000);
  queue.addAfter('ns/a', 5_000);
  await clock.advance(1_999);
  assert.equal(queue.length, 0);
  await clock.advance(1);
  assert.equal(queue.length, 1);
  assert.equal(clock.pendingTimers, 0, 'the later timers were cancelled');
});

test('the overall bucket delays retries once its burst is spent', async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock, baseDelayMs: 1, retriesPerSecond: 1, burst: 2 });
  queue.addRateLimited('a');
  queue.addRateLimited('b');
  queue.addRateLimited('c');
  await clock.advance(10);
  assert.equal(queue.length, 2, 'two keys within the burst');
  await clock.advance(1000);
  assert.equal(queue.length, 3, 'the third after one token refilled');
});

test('shutting down releases waiting workers with undefined', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  const waiting = queue.get();
  queue.shutDown();
  await settle();
  assert.equal(await waiting, undefined);
  queue.add('ns/a');
  assert.equal(queue.length, 0);
});
