import assert from 'node:assert/strict';
import { test } from 'node:test';

import { countedClient } from '../../../operator/runtime/counted-client.js';
import type { Resource } from '../../../operator/runtime/kube-client.js';
import { OperatorMetrics } from '../../../operator/runtime/metrics.js';
import { FakeKubeClient } from './fakes.js';

const THINGS: Resource = { group: 'example.dev', version: 'v1', plural: 'things', kind: 'Thing' };
const thing = (name: string) => ({ metadata: { name, namespace: 'ns' } });

test('every call is counted once by verb, resource and status, failures with their HTTP code', async () => {
  const metrics = new OperatorMetrics();
  const client = countedClient(new FakeKubeClient(), metrics);
  await client.create(THINGS, 'ns', thing('a'));
  await assert.rejects(client.create(THINGS, 'ns', thing('a')));
  await client.get(THINGS, 'ns', 'a');
  await client.get(THINGS, 'ns', 'missing');
  await client.list(THINGS);
  const counts = Object.fromEntries(
    (await metrics.apiRequests.get()).values.map((v) => [
      `${v.labels.verb} ${v.labels.resource} ${v.labels.code}`,
      v.value,
    ]),
  );
  assert.deepEqual(counts, {
    'create things 2xx': 1,
    'create things 409': 1,
    'get things 2xx': 2,
    'list things 2xx': 1,
  });
});
