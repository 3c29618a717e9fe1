// The pure decisions of the backend picker: which choice, which order, how many threads, and the log line.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  candidatesFor,
  fallbackReason,
  parseBackendChoice,
  wasmThreadsFor,
} from '../../../trainer/backend/choice.js';
import { UsageError } from '../../../trainer/contract/errors.js';
import { glogLine } from '../../../trainer/glog.js';

describe('parseBackendChoice', () => {
  const cases: { name: string; flag?: string; env?: string; expected: string }[] = [
    { name: 'nothing given means auto', expected: 'auto' },
    { name: 'the environment is used without a flag', env: 'wasm', expected: 'wasm' },
    { name: 'the flag wins over the environment', flag: 'cpu', env: 'wasm', expected: 'cpu' },
    { name: 'case and spaces do not matter', flag: ' TensorFlow ', expected: 'tensorflow' },
    { name: 'an empty flag falls back to the environment', flag: '', env: 'cpu', expected: 'cpu' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(parseBackendChoice(c.flag, c.env), c.expected));
  }

  it('an unknown flag value is a usage error naming the flag and the choices', () => {
    assert.throws(
      () => parseBackendChoice('webgl', undefined),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          '--backend: expected one of auto, tensorflow, tensorflow-gpu, wasm, cpu, received "webgl"',
    );
  });

  it('an unknown environment value names BREWERY_BACKEND', () => {
    assert.throws(
      () => parseBackendChoice(undefined, 'gpu'),
      /^UsageError: BREWERY_BACKEND: expected one of/,
    );
  });
});

describe('candidatesFor', () => {
  it('auto tries native GPU, native CPU, wasm, then pure JS', () => {
    assert.deepEqual(candidatesFor('auto'), ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
  });
  it('an explicit choice has no fallback to another kind of backend', () => {
    assert.deepEqual(candidatesFor('tensorflow'), ['tensorflow-gpu', 'tensorflow']);
    assert.deepEqual(candidatesFor('tensorflow-gpu'), ['tensorflow-gpu']);
    assert.deepEqual(candidatesFor('wasm'), ['wasm']);
    assert.deepEqual(candidatesFor('cpu'), ['cpu']);
  });
});

describe('fallbackReason', () => {
  const gpu = {
    candidate: 'tensorflow-gpu' as const,
    reason: "Cannot find module '@tensorflow/tfjs-node-gpu'",
  };
  const native = {
    candidate: 'tensorflow' as const,
    reason: 'libtensorflow.so.2: cannot open shared object file',
  };
  it('says nothing when native TensorFlow on the CPU starts after the GPU build is missing', () => {
    assert.equal(fallbackReason('tensorflow', [gpu]), undefined);
  });
  it('says nothing when the first choice starts', () => {
    assert.equal(fallbackReason('wasm', []), undefined);
  });
  it("names native's own reason and the setup step when wasm runs instead", () => {
    const line = fallbackReason('wasm', [gpu, native]);
    assert.equal(
      line,
      'Falling back to wasm, slower: native TensorFlow is not available ' +
        '(libtensorflow.so.2: cannot open shared object file); `npm run setup` (or setup:native) provisions native TensorFlow',
    );
  });
  it('names wasm too when pure JS runs', () => {
    const line = fallbackReason('cpu', [gpu, native, { candidate: 'wasm', reason: 'no WebAssembly' }]);
    assert.match(
      line!,
      /^Falling back to cpu, slower: native TensorFlow is not available \(.*\); wasm did not start \(no WebAssembly\)/,
    );
  });
});

describe('wasmThreadsFor', () => {
  it('uses every available core', () => assert.equal(wasmThreadsFor(6, undefined), 6));
  it('uses at least one thread', () => assert.equal(wasmThreadsFor(0, undefined), 1));
  it('BREWERY_WASM_THREADS overrides', () => assert.equal(wasmThreadsFor(2, '1'), 1));
  it('rejects an override that is not a positive integer', () => {
    assert.throws(
      () => wasmThreadsFor(2, '1.5'),
      /BREWERY_WASM_THREADS: expected a positive integer, received "1.5"/,
    );
  });
});

describe('glogLine', () => {
  it("formats glog's prefix: level, month-day, time with microseconds, padded thread id, source", () => {
    const when = new Date(2026, 10, 28, 4, 5, 6, 789);
    assert.equal(
      glogLine('I', 'common.cpp:36', 'Using backend wasm', when, 42),
      'I1128 04:05:06.789000    42 common.cpp:36] Using backend wasm',
    );
  });
});
