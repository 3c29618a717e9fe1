import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

import { CaffeTrainingJobSpec } from '../../../operator/api/caffe-training-job.js';
import { allCustomResourceDefinitions } from '../../../operator/api/crds.js';
import { ImageNetDatasetSpec } from '../../../operator/api/imagenet-dataset.js';
import { assertStructural, type JsonSchema } from '../../../operator/api/structural.js';

function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

const validDataset = { source: { uri: 's3://images/raw' }, output: 's3://data/out' };
const validJob = { solver: { builtin: 'bvlc_reference_caffenet' }, snapshotURI: 's3://snaps/caffenet' };

describe('ImageNetDataset spec (zod, the same rules as the CRD)', () => {
  test('a minimal spec gets the documented defaults', () => {
    const spec = ImageNetDatasetSpec.parse(validDataset);
    assert.equal(spec.size, 256);
    assert.equal(spec.resize, 'squash');
    assert.equal(spec.encoding, 'raw');
    assert.equal(spec.shards, 4);
    assert.equal(spec.suspend, false);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['a spec without output is rejected', { source: validDataset.source }, /output/],
    [
      'a source with both uri and volume is rejected',
      { ...validDataset, source: { uri: 's3://a/b', volume: { hostPath: '/x' } } },
      /exactly one of uri and volume/,
    ],
    [
      'a source with neither uri nor volume is rejected',
      { ...validDataset, source: {} },
      /exactly one of uri and volume/,
    ],
    ['an output with an http scheme is rejected', { ...validDataset, output: 'http://data/out' }, /s3:\/\//],
    ['zero shards are rejected', { ...validDataset, shards: 0 }, /shards/],
    [
      'quality without jpeg encoding is rejected',
      { ...validDataset, quality: 90 },
      /quality applies only when encoding is jpeg/,
    ],
    ['an unknown resize mode is rejected', { ...validDataset, resize: 'stretch' }, /resize/],
    [
      'a volume with both claimName and hostPath is rejected',
      { ...validDataset, source: { volume: { claimName: 'c', hostPath: '/x' } } },
      /exactly one of claimName and hostPath/,
    ],
  ];
  for (const [name, spec, message] of invalid) {
    test(name, () => {
      const result = ImageNetDatasetSpec.safeParse(spec);
      assert.equal(result.success, false);
      assert.match(JSON.stringify(result.error?.issues), message);
    });
  }
});

describe('CaffeTrainingJob spec (zod, the same rules as the CRD)', () => {
  test('a minimal spec gets the documented defaults', () => {
    const spec = CaffeTrainingJobSpec.parse({ ...validJob, restartPolicy: {} });
    assert.deepEqual(spec.restartPolicy, {
      maxRestarts: 3,
      backoffSeconds: 10,
      maxBackoffSeconds: 600,
      maxDisruptions: 100,
    });
    assert.equal(spec.suspend, false);
  });

  const invalid: [string, unknown, RegExp][] = [
    [
      'a solver given both inline and builtin is rejected',
      { ...validJob, solver: { inline: 'base_lr: 0.01', builtin: 'x' } },
      /exactly one of inline, configMapKeyRef and builtin/,
    ],
    [
      'a dataset together with explicit data is rejected',
      { ...validJob, dataset: { name: 'd' }, data: { trainSource: 's3://a/train' } },
      /dataset or data, not both/,
    ],
    [
      'an inline solver without a net is rejected',
      { ...validJob, solver: { inline: 'base_lr: 0.01' } },
      /inline solver needs net/,
    ],
    [
      'a max backoff below the first backoff is rejected',
      { ...validJob, restartPolicy: { backoffSeconds: 60, maxBackoffSeconds: 10 } },
      /maxBackoffSeconds must be at least backoffSeconds/,
    ],
    [
      'a snapshot URI with a relative path is rejected',
      { ...validJob, snapshotURI: 'snapshots/x' },
      /snapshotURI/,
    ],
    ['a negative GPU count is rejected', { ...validJob, resources: { gpus: -1 } }, /gpus/],
    [
      'a memory quantity that is not a quantity is rejected',
      { ...validJob, resources: { memory: 'lots' } },
      /memory/,
    ],
  ];
  for (const [name, spec, message] of invalid) {
    test(name, () => {
      const result = CaffeTrainingJobSpec.safeParse(spec);
      assert.equal(result.success, false);
      assert.match(JSON.stringify(result.error?.issues), message);
    });
  }
});

describe('generated CRDs', () => {
  const crds = allCustomResourceDefinitions();

  test('both kinds are generated in group caffe.brewery.dev, version v1alpha1, with a status subresource', () => {
    assert.deepEqual(
      crds.map((c) => c.file),
      ['caffe.brewery.dev_imagenetdatasets.yaml', 'caffe.brewery.dev_caffetrainingjobs.yaml'],
    );
    for (const { crd } of crds) {
      const spec = crd.spec as { group: string; versions: { name: string; subresources: unknown }[] };
      assert.equal(spec.group, 'caffe.brewery.dev');
      assert.equal(spec.versions[0]?.name, 'v1alpha1');
      assert.deepEqual(spec.versions[0]?.subresources, { status: {} });
    }
  });

  test('every schema is structural and every field is described', () => {
    for (const { crd } of crds) {
      const schema = (crd.spec as { versions: { schema: { openAPIV3Schema: JsonSchema } }[] }).versions[0]!
        .schema.openAPIV3Schema;
      const properties = schema.properties as Record<string, JsonSchema>;
      assertStructural(properties.spec!, '.spec');
      assertStructural(properties.status!, '.status');
      const text = JSON.stringify(schema);
      assert.doesNotMatch(text, /"additionalProperties":false|"\$ref"|"const"|"\$schema"/);
    }
  });

  test('the files in crds/ are what gen:crds writes now (run `npm run gen:crds` when this fails)', () => {
    const root = repositoryRoot();
    for (const { file, crd } of crds) {
      const path = join(root, 'crds', file);
      assert.ok(existsSync(path), `${path} is missing`);
      const text = readFileSync(path, 'utf8');
      assert.match(text, /^# Generated by hack\/gen-crds.ts/);
      assert.deepEqual(parse(text), crd);
    }
  });
});

describe('structural schema checks', () => {
  const cases: [string, JsonSchema, RegExp][] = [
    ['a $ref is refused', { type: 'object', properties: { a: { $ref: '#/x', description: 'a' } } }, /\$ref/],
    [
      'additionalProperties: false is refused',
      { type: 'object', additionalProperties: false },
      /additionalProperties/,
    ],
    [
      'a null type is refused',
      { type: 'object', properties: { a: { type: 'null', description: 'a' } } },
      /nullable/,
    ],
    [
      'a field without a description is refused',
      { type: 'object', properties: { a: { type: 'string' } } },
      /description/,
    ],
    [
      'a field without a type is refused',
      { type: 'object', properties: { a: { description: 'a' } } },
      /type/,
    ],
    [
      'a description inside anyOf is refused',
      {
        type: 'object',
        properties: { a: { type: 'string', description: 'a', anyOf: [{ description: 'x' }] } },
      },
      /anyOf/,
    ],
  ];
  for (const [name, schema, message] of cases) {
    test(name, () => assert.throws(() => assertStructural(schema, ''), message));
  }
});
