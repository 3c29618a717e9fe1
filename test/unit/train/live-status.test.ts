// The live status record: its schema, and the writer's throttling under an injected clock.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LiveProgress, parseLiveStatus } from '../../../trainer/contract/live-status.js';
import type { Body } from '../../../trainer/storage/index.js';
import { storageFor } from '../../../trainer/storage/index.js';
import {
  LiveStatusWriter,
  STATUS_INTERVAL_MS,
  WARNING_INTERVAL_MS,
} from '../../../trainer/train/live-status.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'live-status-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function progressAt(iteration: number): LiveProgress {
  return {
    state: 'running',
    iteration,
    maxIter: 100,
    trainLoss: 2.5,
    lastLoss: 2.25,
    learningRate: 0.01,
    imagesPerSecond: 40,
    tests: [{ netIndex: 0, iteration: 0, loss: 2.75, outputs: [{ name: 'accuracy', value: 0.125 }] }],
  };
}

/** A writer over a fake clock that stores into a real local file and records every stored body. */
function harness(options: { fail?: boolean } = {}) {
  const clock = { ms: Date.parse('2026-11-28T08:00:00Z'), now: () => clock.ms };
  const uri = path.join(dir, `status-${Math.random().toString(36).slice(2)}.json`);
  const bodies: string[] = [];
  const warnings: string[] = [];
  let progress = progressAt(1);
  const writer = new LiveStatusWriter({
    uri,
    progress: () => progress,
    warn: (message) => warnings.push(message),
    clock,
    write: async (target: string, body: Body) => {
      if (options.fail) throw new Error('bucket not reachable');
      bodies.push(String(body));
      await storageFor(target).write(target, body);
    },
  });
  return {
    writer,
    clock,
    uri,
    bodies,
    warnings,
    set: (iteration: number) => {
      progress = progressAt(iteration);
    },
  };
}

describe('LiveStatusWriter', () => {
  it('writes on the first tick, then at most once per interval of the clock', async () => {
    const h = harness();
    h.writer.tick();
    await h.writer.idle();
    assert.equal(h.bodies.length, 1);
    for (let i = 2; i <= 5; i++) {
      h.clock.ms += 2_000; // 8 s after the first write at most
      h.set(i);
      h.writer.tick();
    }
    await h.writer.idle();
    assert.equal(h.bodies.length, 1, 'no write within the interval');
    h.clock.ms += STATUS_INTERVAL_MS - 8_000;
    h.set(6);
    h.writer.tick();
    await h.writer.idle();
    assert.equal(h.bodies.length, 2, 'a write once the interval has passed');
    const stored = parseLiveStatus(JSON.parse(await readFile(h.uri, 'utf8')), h.uri);
    assert.equal(stored.iteration, 6);
    assert.equal(stored.updatedAt, new Date(h.clock.ms).toISOString());
  });

  it('writes at once when asked (a test pass, a snapshot, the end), and restarts the interval', async () => {
    const h = harness();
    h.writer.tick();
    await h.writer.idle();
    h.clock.ms += 1_000;
    h.set(2);
    await h.writer.write();
    assert.equal(h.bodies.length, 2);
    h.clock.ms += STATUS_INTERVAL_MS - 1;
    h.writer.tick();
    await h.writer.idle();
    assert.equal(h.bodies.length, 2, 'the interval counts from the forced write');
    h.clock.ms += 1;
    h.writer.tick();
    await h.writer.idle();
    assert.equal(h.bodies.length, 3);
  });

  it('never overlaps writes: requests during a write give one more write with the newest values', async () => {
    const h = harness();
    const first = h.writer.write();
    h.set(7);
    const second = h.writer.write();
    h.set(8);
    const third = h.writer.write();
    await Promise.all([first, second, third]);
    assert.deepEqual(
      h.bodies.map((b) => JSON.parse(b).iteration),
      [1, 8],
    );
    assert.equal(parseLiveStatus(JSON.parse(await readFile(h.uri, 'utf8')), h.uri).iteration, 8);
  });

  it('reports a failed write as a warning, once a minute while failures last, and does not throw', async () => {
    const h = harness({ fail: true });
    await h.writer.write();
    assert.equal(h.warnings.length, 1);
    assert.match(h.warnings[0]!, /could not write the status file .*status-.*\.json: bucket not reachable/);
    h.clock.ms += STATUS_INTERVAL_MS;
    h.writer.tick();
    await h.writer.idle();
    await h.writer.write();
    assert.equal(h.warnings.length, 1, 'failures within the minute are not repeated');
    h.clock.ms += WARNING_INTERVAL_MS;
    await h.writer.write();
    assert.equal(h.warnings.length, 2);
  });
});

describe('parseLiveStatus', () => {
  const valid = {
    version: 1,
    ...progressAt(3),
    latestSnapshot: {
      iteration: 2,
      caffemodel: 's3://b/x_iter_2.caffemodel',
      solverstate: 's3://b/x_iter_2.solverstate',
    },
    updatedAt: '2026-11-28T08:00:00.000Z',
  };

  it('accepts a record the writer writes and reads a diverged (null) loss back as NaN', () => {
    assert.deepEqual(parseLiveStatus(valid, 'status.json'), valid);
    const diverged = parseLiveStatus(
      JSON.parse(JSON.stringify({ ...valid, trainLoss: Number.NaN })),
      'status.json',
    );
    assert.ok(Number.isNaN(diverged.trainLoss));
  });

  it('names the file and the field that is wrong', () => {
    assert.throws(
      () => parseLiveStatus({ ...valid, state: 'crashed' }, 's3://b/status.json'),
      (error: Error) =>
        error.name === 'BadInputError' && /^s3:\/\/b\/status\.json: state: /.test(error.message),
    );
    assert.throws(
      () =>
        parseLiveStatus({ ...valid, tests: [{ netIndex: 0, iteration: -1, outputs: [] }] }, 'status.json'),
      /status\.json: tests\[0\]\.iteration: /,
    );
    assert.throws(() => parseLiveStatus({ ...valid, version: 2 }, 'status.json'), /version/);
  });
});
