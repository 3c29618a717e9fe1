// Text → message → text → message is the identity for every prototxt we ship; binary messages round-trip
// byte for byte.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import {
  decodeDatum,
  decodeNetParameter,
  decodeSolverState,
  encodeDatum,
  encodeNetParameter,
  encodeSolverState,
  Phase,
  parseNetPrototxt,
  parseSolverPrototxt,
  printNetPrototxt,
  printSolverPrototxt,
} from '../../../trainer/proto/index.js';
import { randomCaffemodel } from './random-weights.js';
import { modelFile, readModel, repoRoot } from './support.js';

function prototxtFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return prototxtFiles(path);
    return entry.name.endsWith('.prototxt') ? [relative(join(repoRoot, 'trainer/models'), path)] : [];
  });
}

describe('text round trip of every prototxt in trainer/models', () => {
  const files = prototxtFiles(modelFile(''));
  it('finds the models we ship', () => {
    assert.ok(files.includes('bvlc_reference_caffenet/train_val.prototxt'));
    assert.ok(files.length >= 8, `found ${files.join(', ')}`);
  });
  for (const file of files) {
    it(`${file}: parse → print → parse gives the same message, and printing is stable`, () => {
      const isSolver = file.endsWith('solver.prototxt');
      const parse = (text: string) =>
        isSolver
          ? parseSolverPrototxt(text, file, { upgrade: false })
          : parseNetPrototxt(text, file, { upgrade: false });
      const print = (message: object) =>
        isSolver ? printSolverPrototxt(message) : printNetPrototxt(message);
      const first = parse(readModel(file));
      const text = print(first);
      const second = parse(text);
      assert.deepEqual(second, first);
      assert.equal(print(second), text);
    });
  }
});

describe('binary round trip, byte for byte', () => {
  it('a .caffemodel with random weights for MiniCaffeNet', () => {
    const net = parseNetPrototxt(readModel('mini_caffenet/deploy.prototxt'), 'deploy');
    const model = randomCaffemodel(buildNetSpec(net, { phase: Phase.TEST }), 1);
    const bytes = encodeNetParameter(model);
    const decoded = decodeNetParameter(bytes, 'model', { upgrade: false });
    assert.deepEqual(decoded, model);
    assert.deepEqual(encodeNetParameter(decoded), bytes);
  });

  it('CaffeNet train_val as a binary NetParameter', () => {
    const net = parseNetPrototxt(readModel('bvlc_reference_caffenet/train_val.prototxt'), 'train_val');
    const bytes = encodeNetParameter(net);
    const decoded = decodeNetParameter(bytes, 'net', { upgrade: false });
    assert.deepEqual(decoded, net);
    assert.deepEqual(encodeNetParameter(decoded), bytes);
  });

  it('a .solverstate with two history blobs', () => {
    const state = {
      iter: 20,
      learnedNet: 'snap_iter_20.caffemodel',
      history: [
        { shape: { dim: [2, 2] }, data: new Float32Array([1, -2, 3.5, 0]) },
        { shape: { dim: [2] }, data: new Float32Array([0.25, 8]) },
      ],
      currentStep: 1,
    };
    const bytes = encodeSolverState(state);
    assert.deepEqual(decodeSolverState(bytes), state);
    assert.deepEqual(encodeSolverState(decodeSolverState(bytes)), bytes);
  });

  it('an encoded Datum keeps channels/height/width unset, as convert_imageset --encoded writes it', () => {
    const datum = {
      channels: 0,
      height: 0,
      width: 0,
      data: new Uint8Array([0xff, 0xd8, 0xff]),
      label: 3,
      encoded: true,
    };
    const bytes = encodeDatum(datum);
    assert.equal(Buffer.from(bytes).toString('hex'), '2203ffd8ff28033801');
    assert.deepEqual(encodeDatum(decodeDatum(bytes)), bytes);
  });
});
