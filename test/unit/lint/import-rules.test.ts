// The import rules of `npm run lint` (.dependency-cruiser.cjs) catch what they forbid: run over a small
// tree that breaks each rule on purpose (test/fixtures/import-rules), they report exactly those imports
// and fail, and they pass the imports the rules allow there (the contract). And, at run time, the
// operator's modules load no compute library and no object-store client.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(fileURLToPath(import.meta.url), '../../../../..');
const fixture = join(root, 'test/fixtures/import-rules');
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const config = join(root, '.dependency-cruiser.cjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

async function cruise(outputType: 'json' | 'err'): Promise<{ code: number; stdout: string }> {
  const args = [depcruise, '--config', config, '--output-type', outputType, 'operator', 'trainer', 'hack'];
  try {
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: fixture });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '' };
  }
}

describe('the import rules', () => {
  it('report each import the fixture breaks a rule with, and nothing else', async () => {
    const { stdout } = await cruise('json');
    const violations = (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
    const found = violations
      .map((v) => `${v.rule.name}: ${v.from} -> ${v.to.replace(/^(\.\.\/)+node_modules\//, 'node_modules/')}`)
      .sort();
    assert.deepEqual(found, [
      'api-imports-nothing-of-ours: operator/api/spec.js -> operator/workloads.js',
      'contract-stands-alone: trainer/contract/latest.js -> trainer/net/layer.js',
      'formats-import-no-storage: trainer/proto/reads-files.js -> trainer/storage/index.js',
      'no-folder-cycles: hack/a -> hack/b',
      'no-folder-cycles: hack/b -> hack/a',
      'operator-imports-only-the-contract: operator/training/store.js -> trainer/storage/index.js',
      'operator-imports-only-the-contract: operator/training/uses-trainer.js -> trainer/train/writer.js',
      'operator-loads-no-compute: operator/dataset/via-contract.js -> node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
      'operator-loads-no-compute: operator/dataset/via-contract.js -> trainer/net/layer.js',
      // Storage imports data code here, which the operator then reaches too.
      'operator-loads-no-compute: operator/training/store.js -> trainer/data/lmdb.js',
      'operator-loads-no-compute: operator/training/uses-trainer.js -> trainer/train/writer.js',
      'operator-reads-no-object-store: operator/training/store.js -> trainer/storage/index.js',
      'storage-imports-no-data-code: trainer/storage/index.js -> trainer/data/lmdb.js',
    ]);
  });

  it('fail the command, as `npm run lint` runs it', async () => {
    const { code, stdout } = await cruise('err');
    assert.equal(code, 13, 'depcruise exits with the number of errors');
    assert.match(stdout, /error operator-imports-only-the-contract: operator\/training\/uses-trainer\.js/);
  });
});

describe('what the operator loads at run time', () => {
  it('has no TensorFlow.js, sharp, vega or S3 client among its modules', async () => {
    const modules = ['operator/manager.js', 'operator/progress/server.js'].map(
      (m) => new URL(`../../../${m}`, import.meta.url).href,
    );
    const script = `
      import { createRequire } from 'node:module';
      ${modules.map((m) => `await import(${JSON.stringify(m)});`).join('\n')}
      const cache = createRequire(import.meta.url).cache;
      console.log(JSON.stringify(Object.keys(cache)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const loaded = JSON.parse(stdout) as string[];
    assert.ok(
      loaded.some((file) => file.includes('/node_modules/@kubernetes/client-node/')),
      'the check sees the CommonJS modules the operator loads (the Kubernetes client), as it would see tfjs-node',
    );
    assert.deepEqual(
      loaded.filter((file) => /\/node_modules\/(@tensorflow|sharp|vega|@aws-sdk)/.test(file)),
      [],
    );
  });
});
