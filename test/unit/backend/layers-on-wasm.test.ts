// The layer tests of test/unit/layers (forward values and finite-difference gradient checks) run a
// second time here, on wasm with our kernels. Those files pick the pure-JS backend when their
// support module loads; we load it first, switch to wasm, and only then import the test files, so
// every test in them runs on wasm. Cheap: the layers are tiny, the whole pass takes seconds.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { startWasm } from './compare.js';

const layerTests = new URL('../layers/', import.meta.url);

describe('the layer tests on wasm', async () => {
  await import(new URL('support.js', layerTests).href);
  await startWasm();
  assert.ok(await tf.setBackend('wasm'), 'the wasm backend starts');

  it('run on wasm', () => {
    assert.equal(tf.getBackend(), 'wasm');
  });

  const files = readdirSync(layerTests).filter((name) => name.endsWith('.test.js'));
  assert.ok(files.length > 0, `no layer tests found in ${layerTests.pathname}`);
  for (const name of files.sort()) await import(new URL(name, layerTests).href);
});
