// Layers added for issue 14 that move, pick or sum values: Reshape, Tile, Crop, Bias, Reduction, ArgMax,
// BatchReindex, Embed, Parameter, MVN. Shapes and values against what Caffe's layers compute (read from their
// sources), bad parameters, and the gradient check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertClose, buildLayer, checkGradients, distinct, layerSpecFor, seeded, tf } from './support.js';

const step = { step: 1e-2, tolerance: 1e-3 };

describe('Reshape', () => {
  it('copies dimensions for 0, infers one -1, and replaces only axis .. axis + num_axes', () => {
    const spec = (reshapeParam: object) =>
      layerSpecFor({ x: [2, 3, 4] }, { name: 'r', type: 'Reshape', bottom: ['x'], top: ['y'], reshapeParam })
        .topShapes[0];
    assert.deepEqual(spec({ shape: { dim: [0, -1] } }), [2, 12]);
    assert.deepEqual(spec({ shape: { dim: [-1, 2, 2] } }), [6, 2, 2]);
    assert.deepEqual(spec({ axis: 1, numAxes: 1, shape: { dim: [1, 3, 1] } }), [2, 1, 3, 1, 4]);
    assert.deepEqual(spec({ axis: -1, shape: { dim: [1] } }), [2, 3, 4, 1]);
    assert.throws(() => spec({ shape: { dim: [5, -1] } }), /cannot infer the -1 dimension/);
    assert.throws(() => spec({ shape: { dim: [-1, -1] } }), /at most one -1/);
    assert.throws(() => spec({ shape: { dim: [7] } }), /has 7 values/);
  });

  it('keeps the values in order and passes the gradient check', () => {
    const layer = buildLayer(
      { x: [2, 3] },
      { name: 'r', type: 'Reshape', bottom: ['x'], top: ['y'], reshapeParam: { shape: { dim: [3, 2] } } },
    );
    const x = seeded([2, 3], 1);
    assert.deepEqual(layer.forward([x], 0)[0]!.dataSync(), x.dataSync());
    assert.equal(checkGradients(layer, [x], step), 6);
  });
});

describe('Tile', () => {
  it('repeats whole blocks along the axis, and sums the gradients of the copies', () => {
    const layer = buildLayer(
      { x: [2, 2] },
      { name: 't', type: 'Tile', bottom: ['x'], top: ['y'], tileParam: { axis: 1, tiles: 2 } },
    );
    assert.deepEqual(
      [...layer.forward([tf.tensor2d([1, 2, 3, 4], [2, 2])], 0)[0]!.dataSync()],
      [1, 2, 1, 2, 3, 4, 3, 4],
    );
    assert.equal(checkGradients(layer, [seeded([2, 2], 2)], step), 4);
    assert.throws(
      () => buildLayer({ x: [2, 2] }, { name: 't', type: 'Tile', bottom: ['x'], top: ['y'], tileParam: {} }),
      /tile_param.tiles: expected a positive integer/,
    );
  });
});

describe('Crop', () => {
  const crop = (cropParam: object) =>
    buildLayer(
      { x: [1, 2, 4, 5], like: [1, 1, 2, 3] },
      { name: 'c', type: 'Crop', bottom: ['x', 'like'], top: ['y'], cropParam },
    );

  it('cuts bottom 0 to bottom 1 from axis on, at the offsets, and passes the gradient check', () => {
    const x = tf.range(0, 40).reshape([1, 2, 4, 5]);
    const y = crop({ offset: [1, 2] }).forward([x, tf.zeros([1, 1, 2, 3])], 0)[0]!;
    assert.deepEqual(y.shape, [1, 2, 2, 3]);
    assert.deepEqual([...y.dataSync()].slice(0, 6), [7, 8, 9, 12, 13, 14]);
    assert.equal(
      checkGradients(crop({ offset: [1] }), [seeded([1, 2, 4, 5], 3), tf.zeros([1, 1, 2, 3])], {
        ...step,
        bottoms: [0],
      }),
      40,
    );
  });

  it('refuses offsets that run past the bottom', () => {
    assert.throws(() => crop({ offset: [3, 0] }), /axis 2 of size 4 cannot give 2 values from offset 3/);
    assert.throws(() => crop({ offset: [1, 1, 1] }), /expected 0, 1 or 2 offsets/);
  });
});

describe('Bias', () => {
  it('adds a learned bias over axis .. axis + num_axes, or bottom 1', () => {
    const learned = buildLayer(
      { x: [2, 3, 2] },
      {
        name: 'b',
        type: 'Bias',
        bottom: ['x'],
        top: ['y'],
        biasParam: { filler: { type: 'uniform', min: -1, max: 1 } },
      },
    );
    assert.deepEqual(learned.blobs[0]!.shape, [3]);
    const x = seeded([2, 3, 2], 4);
    const expected = tf.add(x, tf.reshape(learned.blobs[0]!, [1, 3, 1]));
    assertClose(learned.forward([x], 0)[0]!.dataSync(), expected.dataSync(), 1e-6);
    assert.equal(checkGradients(learned, [x], step), 12 + 3);
    const given = buildLayer(
      { x: [2, 3, 2], b: [3, 2] },
      { name: 'b', type: 'Bias', bottom: ['x', 'b'], top: ['y'] },
    );
    assert.equal(checkGradients(given, [x, seeded([3, 2], 5)], step), 12 + 6);
    assert.throws(
      () => buildLayer({ x: [2, 3, 2], b: [2] }, { name: 'b', type: 'Bias', bottom: ['x', 'b'], top: ['y'] }),
      /bottom 1 \(bias\): expected shape 3/,
    );
  });
});

describe('Reduction', () => {
  const reduce = (reductionParam: object) =>
    buildLayer({ x: [2, 3] }, { name: 'r', type: 'Reduction', bottom: ['x'], top: ['y'], reductionParam });
  const x = tf.tensor2d([1, -2, 3, -4, 5, 6], [2, 3]);

  it('sums, sums absolute values, sums squares or averages the trailing axes, times coeff', () => {
    assert.deepEqual([...reduce({}).forward([x], 0)[0]!.dataSync()], [9]);
    assert.deepEqual(reduce({}).forward([x], 0)[0]!.shape, []);
    assert.deepEqual([...reduce({ operation: 2, axis: 1 }).forward([x], 0)[0]!.dataSync()], [6, 15]);
    assert.deepEqual(
      [...reduce({ operation: 3, axis: 1, coeff: 2 }).forward([x], 0)[0]!.dataSync()],
      [28, 154],
    );
    assertClose(reduce({ operation: 4, axis: -1 }).forward([x], 0)[0]!.dataSync(), [2 / 3, 7 / 3], 1e-6);
    assert.throws(() => reduce({ operation: 9 }), /reduction_param.operation: expected one of/);
  });

  for (const operation of [1, 2, 3, 4]) {
    it(`operation ${operation} passes the gradient check`, () => {
      assert.equal(
        checkGradients(reduce({ operation, axis: 1, coeff: 0.5 }), [tf.add(distinct([2, 3], 6), 0.03)], step),
        6,
      );
    });
  }
});

describe('ArgMax', () => {
  const x = tf.tensor3d([0.1, 0.9, 0.5, 0.3, 0.2, 0.8], [2, 3, 1]);
  const argmax = (argmaxParam: object) =>
    buildLayer({ x: [2, 3, 1] }, { name: 'a', type: 'ArgMax', bottom: ['x'], top: ['y'], argmaxParam });

  it('gives the top_k indices per item, then their values with out_max_val', () => {
    const y = argmax({ topK: 2, outMaxVal: true }).forward([x], 0)[0]!;
    assert.deepEqual(y.shape, [2, 2, 2]);
    assertClose(y.dataSync(), [1, 2, 0.9, 0.5, 2, 0, 0.8, 0.3], 1e-6);
  });

  it('works along an axis, and breaks ties towards the higher index as Caffe', () => {
    const y = argmax({ axis: 1 }).forward([tf.tensor3d([1, 1, 0, 0, 2, 2], [2, 3, 1])], 0)[0]!;
    assert.deepEqual(y.shape, [2, 1, 1]);
    assert.deepEqual([...y.dataSync()], [1, 2]);
    assert.throws(() => argmax({ topK: 4 }), /argmax_param.top_k: expected at most 3/);
  });
});

describe('BatchReindex, Embed, Parameter', () => {
  it('BatchReindex picks items by index; repeated items sum their gradients', () => {
    const layer = buildLayer(
      { x: [3, 2], i: [4] },
      { name: 'b', type: 'BatchReindex', bottom: ['x', 'i'], top: ['y'] },
    );
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const order = tf.tensor1d([2, 0, 2, 1]);
    assert.deepEqual([...layer.forward([x, order], 0)[0]!.dataSync()], [5, 6, 1, 2, 5, 6, 3, 4]);
    const [dx] = tf.grads((v: tf.Tensor) => tf.sum(layer.forward([v, order], 0)[0]!))([x]);
    assert.deepEqual([...dx!.dataSync()], [1, 1, 1, 1, 2, 2]);
    assert.throws(
      () => layer.forward([x, tf.tensor1d([0, 1, 3, 0])], 0),
      /bottom 1 value 2: expected an index in \[0, 3\)/,
    );
  });

  it('Embed looks rows up by index, adds the bias, and passes the gradient check on its blobs', () => {
    const layer = buildLayer(
      { x: [2, 2] },
      {
        name: 'e',
        type: 'Embed',
        bottom: ['x'],
        top: ['y'],
        embedParam: {
          numOutput: 3,
          inputDim: 4,
          weightFiller: { type: 'uniform', min: -1, max: 1 },
          biasFiller: { type: 'uniform', min: -1, max: 1 },
        },
      },
    );
    const x = tf.tensor2d([3, 0, 3, 1], [2, 2]);
    const [w, b] = layer.blobs.map((v) => [...v.dataSync()]) as [number[], number[]];
    const y = layer.forward([x], 0)[0]!;
    assert.deepEqual(y.shape, [2, 2, 3]);
    assertClose(
      [...y.dataSync()].slice(0, 3),
      [0, 1, 2].map((j) => w[3 * 3 + j]! + b[j]!),
      1e-6,
    );
    assert.equal(checkGradients(layer, [x], { ...step, bottoms: [] }), 12 + 3);
    assert.throws(
      () => layer.forward([tf.tensor2d([4, 0, 0, 0], [2, 2])], 0),
      /expected an integer index in \[0, 4\)/,
    );
  });

  it('Parameter outputs its blob, which gets the top gradient', () => {
    const layer = buildLayer(
      { x: [1] },
      { name: 'p', type: 'Parameter', top: ['y'], parameterParam: { shape: { dim: [2, 2] } } },
    );
    assert.deepEqual(layer.forward([], 0)[0]!.shape, [2, 2]);
    assert.equal(checkGradients(layer, [], step), 4);
  });
});

describe('MVN', () => {
  const mvn = (mvnParam: object) =>
    buildLayer({ x: [2, 3, 4] }, { name: 'm', type: 'MVN', bottom: ['x'], top: ['y'], mvnParam });

  it('gives each channel (or item) mean 0 and standard deviation 1', () => {
    const x = seeded([2, 3, 4], 7, -2, 5);
    const y = mvn({}).forward([x], 0)[0]!;
    assertClose(tf.mean(y, 2).dataSync(), [0, 0, 0, 0, 0, 0], 1e-5);
    assertClose(tf.mean(tf.square(y), 2).dataSync(), [1, 1, 1, 1, 1, 1], 1e-4);
    const across = mvn({ acrossChannels: true, normalizeVariance: false }).forward([x], 0)[0]!;
    assertClose(tf.mean(tf.reshape(across, [2, 12]), 1).dataSync(), [0, 0], 1e-5);
  });

  for (const param of [{}, { acrossChannels: true }, { normalizeVariance: false }]) {
    it(`${JSON.stringify(param)} passes the gradient check`, () => {
      assert.equal(checkGradients(mvn(param), [seeded([2, 3, 4], 8)], { step: 1e-2, tolerance: 2e-3 }), 24);
    });
  }
});
