// initBackend starts what it is asked for and says so in a Caffe-style log line.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { initBackend } from '../../../trainer/backend/index.js';

const glogPrefix = /^I\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ common\.cpp:36\] /;

describe('initBackend', () => {
  it('starts the pure-JS backend when asked by the environment', async () => {
    const lines: string[] = [];
    const info = await initBackend(undefined, { env: { BREWERY_BACKEND: 'cpu' }, log: (l) => lines.push(l) });
    assert.equal(info.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, glogPrefix);
    assert.match(lines[0]!, /Using backend cpu: tfjs-backend-cpu/);
  });

  it('starts wasm with the threads asked for and our training kernels', async () => {
    const lines: string[] = [];
    const info = await initBackend('wasm', { env: { BREWERY_WASM_THREADS: '2' }, log: (l) => lines.push(l) });
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(info.detail, /2 thread\(s\), training kernels registered/);
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'Conv2DBackpropFilter is registered');
    assert.match(lines.at(-1)!, /Using backend wasm: tfjs-backend-wasm 4\.22\.0, SIMD/);
  });

  it('auto without native TensorFlow falls back to wasm with one line saying why', async () => {
    const lines: string[] = [];
    // An empty cache: no provisioned binding, and the project's node_modules has none either.
    const env = {
      BREWERY_CACHE: mkdtempSync(join(tmpdir(), 'brewery-no-native-')),
      BREWERY_WASM_THREADS: '1',
    };
    const info = await initBackend('auto', { env, log: (l) => lines.push(l) });
    assert.equal(info.name, 'wasm');
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(
      lines[0]!,
      /^W.* common\.cpp:36\] Falling back to wasm, slower: native TensorFlow is not available \(@tensorflow\/tfjs-node is not loadable/,
    );
    assert.match(lines[0]!, /npm run setup/);
    assert.match(lines[1]!, /Using backend wasm/);
  });

  it('an unknown choice is refused before anything starts', async () => {
    await assert.rejects(initBackend('metal', { env: {}, log: () => {} }), /--backend: expected one of/);
  });

  it('asking for tensorflow either starts it or fails naming setup:native, never silently falls back', async () => {
    const env = { ...process.env, BREWERY_BACKEND: undefined };
    try {
      const info = await initBackend('tensorflow', { env, log: () => {} });
      assert.equal(info.name, 'tensorflow');
      assert.match(info.detail, /libtensorflow \d+\.\d+/);
    } catch (error) {
      assert.match(
        String(error),
        /no compute backend could start for "tensorflow" \(run `npm run setup:native`/,
      );
    }
  });
});
