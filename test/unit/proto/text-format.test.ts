// The prototxt parser and printer: protobuf text format as Caffe reads and writes it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  parseNetPrototxt,
  parseSolverPrototxt,
  printNetPrototxt,
  printSolverPrototxt,
} from '../../../trainer/proto/index.js';
import { formatFloat } from '../../../trainer/proto/text-print.js';

describe('prototxt parser', () => {
  it('reads comments, both message delimiters, optional colons and separators', () => {
    const net = parseNetPrototxt(
      `# a net
      name: "n" ; # trailing comment
      layer < name: "a", type: "ReLU"; bottom: "x" top: "x" >
      layer: { name: "b" type: "Pooling" pooling_param { pool: AVE kernel_size: 2 } }`,
      'n.prototxt',
    );
    assert.deepEqual(net, {
      name: 'n',
      layer: [
        { name: 'a', type: 'ReLU', bottom: ['x'], top: ['x'] },
        { name: 'b', type: 'Pooling', poolingParam: { pool: 1, kernelSize: 2 } },
      ],
    });
  });

  it('keeps repeated fields in file order and accepts list syntax', () => {
    const net = parseNetPrototxt('layer { bottom: "a" bottom: "b" top: ["c", "d"] loss_weight: [] }', 'n');
    assert.deepEqual(net.layer?.[0], { bottom: ['a', 'b'], top: ['c', 'd'] });
  });

  it('reads enums by name or number', () => {
    const net = parseNetPrototxt('layer { phase: 1 pooling_param { pool: STOCHASTIC } }', 'n');
    assert.equal(net.layer?.[0]?.phase, 1);
    assert.equal(net.layer?.[0]?.poolingParam?.pool, 2);
  });

  it('decodes string escapes and concatenates adjacent literals', () => {
    const net = parseNetPrototxt(`name: "a\\tb" 'c\\'d' "\\x41\\102\\n" "é"`, 'n');
    assert.equal(net.name, "a\tbc'dAB\né");
  });

  it('reads every number form: hex, octal, floats, exponents, f suffix, inf, nan, negatives', () => {
    const solver = parseSolverPrototxt(
      'test_iter: 0x10 test_iter: 010 test_iter: -5 base_lr: .5 gamma: 5. power: 1e-3 momentum: 2f ' +
        'weight_decay: -inf delta: NaN clip_gradients: -Infinity rms_decay: 1 random_seed: -1',
      's',
    );
    assert.deepEqual(solver.testIter, [16, 8, -5]);
    assert.equal(solver.baseLr, 0.5);
    assert.equal(solver.gamma, 5);
    assert.equal(solver.power, Math.fround(1e-3));
    assert.equal(solver.momentum, 2);
    assert.equal(solver.weightDecay, Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(solver.delta));
    assert.equal(solver.clipGradients, Number.NEGATIVE_INFINITY);
    assert.equal(solver.rmsDecay, 1);
    assert.equal(solver.randomSeed, -1);
  });

  it('reads booleans in every spelling', () => {
    const solver = parseSolverPrototxt(
      'snapshot_diff: t test_compute_loss: True debug_info: 1 snapshot_after_train: f',
      's',
    );
    assert.deepEqual(
      [solver.snapshotDiff, solver.testComputeLoss, solver.debugInfo, solver.snapshotAfterTrain],
      [true, true, true, false],
    );
  });

  it('upgrades solver_type to type unless asked not to', () => {
    assert.equal(parseSolverPrototxt('solver_type: NESTEROV', 's').type, 'Nesterov');
    assert.equal(parseSolverPrototxt('solver_type: NESTEROV', 's', { upgrade: false }).solverType, 1);
  });
});

describe('prototxt printer', () => {
  it('prints fields in number order with two-space nesting, enums by name and escaped strings', () => {
    const text = printNetPrototxt({
      layer: [{ convolutionParam: { numOutput: 3, kernelSize: [2] }, top: ['t'], name: 'a"b', phase: 0 }],
      name: 'n',
    });
    assert.equal(
      text,
      'name: "n"\nlayer {\n  name: "a\\"b"\n  top: "t"\n  phase: TRAIN\n  convolution_param {\n' +
        '    num_output: 3\n    kernel_size: 2\n  }\n}\n',
    );
  });

  it('prints floats as the shortest of %.6g and %.9g that reads back to the same float32', () => {
    const f = (x: number) => formatFloat(Math.fround(x), 6, 9, Math.fround);
    assert.deepEqual(
      [f(0.01), f(0.0001), f(1e-5), f(256), f(1e6), f(0.1), f(1 / 3), f(-2.5)],
      ['0.01', '0.0001', '1e-05', '256', '1e+06', '0.1', '0.333333343', '-2.5'],
    );
  });

  it('prints a solver the parser reads back to the same message', () => {
    const solver = parseSolverPrototxt(
      'base_lr: 0.01 lr_policy: "step" solver_mode: CPU test_iter: 3 random_seed: 7',
      's',
    );
    const text = printSolverPrototxt(solver);
    assert.equal(text, 'test_iter: 3\nbase_lr: 0.01\nlr_policy: "step"\nsolver_mode: CPU\nrandom_seed: 7\n');
    assert.deepEqual(parseSolverPrototxt(text, 's'), solver);
  });
});
