// Our retries of S3 calls do not stack on the SDK's: a request that fails (after the SDK's own retries,
// which live in the client) fails at once; only a body that breaks after its response arrived is read
// again. The client here stands in for the SDK's, so the count of requests is exact.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';

import type { S3Client } from '@aws-sdk/client-s3';

import { S3Storage } from '../../../trainer/storage/s3.js';

const throttled = () =>
  Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/** A client whose every request is answered by `answer`, counting the requests by command name. */
function client(answer: (call: number) => unknown): { client: S3Client; calls: string[] } {
  const calls: string[] = [];
  const fake = {
    send: async (command: object) => {
      calls.push(command.constructor.name);
      return answer(calls.length);
    },
  };
  return { client: fake as unknown as S3Client, calls };
}

function brokenBody(): Readable {
  return new Readable({
    read() {
      this.push(Buffer.from('half'));
      this.destroy(reset());
    },
  });
}

test('a body that breaks half-way is read again from the start', async () => {
  const fake = client((n) => ({ Body: n === 1 ? brokenBody() : Readable.from([Buffer.from('whole body')]) }));
  const bytes = await new S3Storage(fake.client).read('s3://bucket/key');
  assert.equal(bytes.toString(), 'whole body');
  assert.deepEqual(fake.calls, ['GetObjectCommand', 'GetObjectCommand']);
});

test('a request that failed is not retried on top of the SDK', async () => {
  for (const call of [
    (s: S3Storage) => s.read('s3://bucket/key'),
    (s: S3Storage) => s.list('s3://bucket/prefix/'),
    (s: S3Storage) => s.stat('s3://bucket/key'),
    (s: S3Storage) => s.delete('s3://bucket/key'),
  ]) {
    const fake = client(() => {
      throw throttled();
    });
    await assert.rejects(call(new S3Storage(fake.client)), { name: 'SlowDown' });
    assert.equal(fake.calls.length, 1, `requests made: ${fake.calls.join(', ')}`);
  }
});
