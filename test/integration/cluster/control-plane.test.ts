// The local cluster is a real one: the apiserver reports the pinned version, nodes are Ready,
// CRDs become Established, namespaces are deleted by the controller-manager, and the object server
// speaks S3.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';

import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { isNotFound, waitFor } from '../../support/wait.js';

const pinnedVersion = execFileSync(
  'bash',
  ['-c', 'source hack/lib/versions.sh && echo $KUBERNETES_VERSION'],
  {
    encoding: 'utf8',
  },
).trim();

describe('the local control plane', { skip: skipReason }, () => {
  let cluster: LocalCluster;
  let core: CoreV1Api;
  before(() => {
    cluster = localCluster();
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  });

  test('kubectl version reports the pinned server version', async () => {
    const { stdout } = await cluster.kubectl(['version', '-o', 'json']);
    const version = JSON.parse(stdout) as { serverVersion: { gitVersion: string } };
    assert.equal(version.serverVersion.gitVersion, pinnedVersion);
  });

  test('every local node is Ready and advertises its GPUs', async () => {
    const nodes = await core.listNode();
    for (const expected of cluster.nodes) {
      const node = nodes.items.find((n) => n.metadata?.name === expected.name);
      assert.ok(node, `node ${expected.name} exists`);
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True', `node ${expected.name} is Ready`);
      assert.equal(String(node.status?.allocatable?.['nvidia.com/gpu'] ?? '0'), String(expected.gpus));
    }
  });

  test('a CRD with a structural schema and a status subresource becomes Established', async () => {
    const ext = cluster.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const name = 'widgets.test.brewery.dev';
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name },
        spec: {
          group: 'test.brewery.dev',
          names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
          scope: 'Namespaced',
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } },
                    status: { type: 'object', properties: { phase: { type: 'string' } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    const crd = await waitFor('the CRD to be Established', async () => {
      const got = await ext.readCustomResourceDefinition({ name });
      const established = got.status?.conditions?.find((c) => c.type === 'Established');
      return established?.status === 'True' ? got : undefined;
    });
    assert.equal(
      crd.status?.conditions?.find((c) => c.type === 'NonStructuralSchema'),
      undefined,
    );

    // The status subresource is served apart from the main resource.
    const objects = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const widget = {
      apiVersion: 'test.brewery.dev/v1',
      kind: 'Widget',
      metadata: { name: 'w1' },
      spec: { size: 2 },
    };
    await waitFor('the CRD to be served', () =>
      objects
        .createNamespacedCustomObject({
          group: 'test.brewery.dev',
          version: 'v1',
          namespace: 'default',
          plural: 'widgets',
          body: widget,
        })
        .then(() => true),
    );
    await assert.rejects(
      objects.createNamespacedCustomObject({
        group: 'test.brewery.dev',
        version: 'v1',
        namespace: 'default',
        plural: 'widgets',
        body: { ...widget, metadata: { name: 'w2' }, spec: { size: 0 } },
      }),
      /size/,
      'the schema rejects size 0',
    );
    await ext.deleteCustomResourceDefinition({ name });
  });

  test('a deleted namespace is gone once the controller-manager empties it', async () => {
    const name = 'brewery-test-ns-delete';
    await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedConfigMap({
      namespace: name,
      body: { metadata: { name: 'c' }, data: { a: '1' } },
    });
    await core.deleteNamespace({ name });
    await waitFor(
      'the namespace to be gone',
      () =>
        core.readNamespace({ name }).then(
          () => undefined,
          (error: unknown) => (isNotFound(error) ? true : undefined),
        ),
      90,
    );
  });

  test('the object server stores and returns an object through @aws-sdk/client-s3', async () => {
    const s3 = new S3Client({
      endpoint: cluster.env.AWS_ENDPOINT_URL,
      region: cluster.env.AWS_REGION,
      forcePathStyle: true,
      credentials: {
        accessKeyId: cluster.env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: cluster.env.AWS_SECRET_ACCESS_KEY!,
      },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'brewery-test' }));
    const body = `hello from ${process.pid}`;
    await s3.send(new PutObjectCommand({ Bucket: 'brewery-test', Key: 'a/b.txt', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'brewery-test', Key: 'a/b.txt' }));
    assert.equal(await got.Body?.transformToString(), body);
    s3.destroy();
  });

  test('the tenant identity in env.json may use its own bucket and no other', async () => {
    const described = JSON.parse(readFileSync(process.env.BREWERY_CLUSTER_ENV!, 'utf8')) as {
      objectStore: {
        identities: Record<string, { accessKeyId: string; secretAccessKey: string; buckets?: string[] }>;
      };
    };
    const tenant = described.objectStore.identities.tenant!;
    const own = tenant.buckets![0]!;
    const s3 = new S3Client({
      endpoint: cluster.env.AWS_ENDPOINT_URL,
      region: cluster.env.AWS_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey },
    });
    await s3.send(new PutObjectCommand({ Bucket: own, Key: 'probe.txt', Body: 'mine' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: own, Key: 'probe.txt' }));
    assert.equal(await got.Body?.transformToString(), 'mine');
    // brewery-test belongs to the admin identity (the test above made it).
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: 'brewery-test', Key: 'intruder.txt', Body: 'not mine' })),
      (error: Error) => error.name === 'AccessDenied',
    );
    s3.destroy();
  });

  after(() => {});
});
