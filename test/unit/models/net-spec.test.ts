// Shape rules of every layer type, NetState filtering and split insertion, each on a small hand-worked net.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import {
  buildNetSpec,
  insertSplits,
  type NetSpecOptions,
  pooledSize,
  stateMeetsRule,
} from '../../../trainer/net/spec/index.js';
import { Phase, parseNetPrototxt } from '../../../trainer/proto/index.js';

/** A net whose first layer is an Input of `dims`, followed by `body`. */
function net(dims: number[], body: string, options: Partial<NetSpecOptions> = {}) {
  const input = `layer { name: "in" type: "Input" top: "data" input_param { shape { ${dims.map((d) => `dim: ${d}`).join(' ')} } } }`;
  return buildNetSpec(parseNetPrototxt(`${input}\n${body}`, 'spec.prototxt'), {
    phase: Phase.TRAIN,
    ...options,
  });
}
const layer = (spec: ReturnType<typeof net>, name: string) => spec.layers.find((l) => l.name === name)!;
const rejects = (run: () => unknown, message: RegExp) =>
  assert.throws(run, (e: unknown) => e instanceof BadInputError && message.test(e.message));

describe('Pooling', () => {
  it("rounds up as Caffe does: a 6x5 input, kernel 3, stride 2 gives 3x2 (TensorFlow's VALID gives 2x2)", () => {
    const spec = net(
      [1, 1, 6, 5],
      'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { kernel_size: 3 stride: 2 } }',
    );
    assert.deepEqual(layer(spec, 'p').topShapes, [[1, 1, 3, 2]]);
  });

  it('drops a last window that would start in the padding', () => {
    assert.equal(pooledSize(5, 2, 2, 1), 3);
    assert.equal(pooledSize(5, 2, 2, 0), 3);
    assert.equal(pooledSize(13, 3, 2, 0), 6);
    assert.equal(pooledSize(6, 3, 2, 0, true), 2);
  });

  it('global pooling covers the whole image; AVE takes padding; a mask top is MAX only', () => {
    const spec = net(
      [2, 4, 7, 9],
      'layer { name: "g" type: "Pooling" bottom: "data" top: "g" pooling_param { pool: AVE global_pooling: true } }\n' +
        'layer { name: "a" type: "Pooling" bottom: "data" top: "a" pooling_param { pool: AVE kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 } }',
    );
    assert.deepEqual(layer(spec, 'g').topShapes, [[2, 4, 1, 1]]);
    assert.deepEqual(layer(spec, 'a').topShapes, [[2, 4, 4, 4]]);
    rejects(
      () =>
        net(
          [1, 1, 4, 4],
          'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { kernel_size: 2 pad: 2 } }',
        ),
      /pooling_param\.pad: expected less than the kernel \(2\), received 2/,
    );
  });
});

describe('Convolution', () => {
  it('handles rectangular kernels, per-axis pad and stride, dilation and groups', () => {
    const spec = net(
      [2, 4, 10, 12],
      'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 6 group: 2 ' +
        'kernel_h: 3 kernel_w: 5 pad_h: 1 pad_w: 2 stride_h: 2 stride_w: 1 dilation: 2 } }',
    );
    assert.deepEqual(layer(spec, 'c').topShapes, [[2, 6, 4, 8]]);
    assert.deepEqual(layer(spec, 'c').paramShapes, [[6, 2, 3, 5], [6]]);
  });

  it('reads per-axis repeated kernel_size and stride, and drops the bias when bias_term is false', () => {
    const spec = net(
      [1, 3, 9, 9],
      'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 3 kernel_size: 1 stride: 2 stride: 1 bias_term: false } }',
    );
    assert.deepEqual(layer(spec, 'c').topShapes, [[1, 2, 4, 9]]);
    assert.deepEqual(layer(spec, 'c').paramShapes, [[2, 3, 3, 1]]);
  });

  it('rejects kernel_size together with kernel_h/kernel_w, and a missing num_output', () => {
    rejects(
      () =>
        net(
          [1, 1, 5, 5],
          'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 1 kernel_size: 3 kernel_h: 3 kernel_w: 3 } }',
        ),
      /give either kernel or kernel_h\/kernel_w, not both/,
    );
    rejects(
      () =>
        net(
          [1, 1, 5, 5],
          'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { kernel_size: 3 } }',
        ),
      /convolution_param\.num_output: expected a positive integer, received nothing/,
    );
  });
});

describe('other layer types', () => {
  it('LRN keeps the shape in both regions and wants an odd local_size', () => {
    const spec = net(
      [1, 8, 5, 5],
      'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 } }',
    );
    assert.deepEqual(layer(spec, 'n').topShapes, [[1, 8, 5, 5]]);
    rejects(
      () =>
        net(
          [1, 8, 5, 5],
          'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 4 } }',
        ),
      /lrn_param\.local_size: expected an odd number, received 4/,
    );
  });

  it('InnerProduct flattens from its axis, with transpose', () => {
    const spec = net(
      [2, 3, 4, 5],
      'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 7 axis: 2 } }\n' +
        'layer { name: "t" type: "InnerProduct" bottom: "data" top: "t" inner_product_param { num_output: 7 axis: -3 transpose: true bias_term: false } }',
    );
    assert.deepEqual(layer(spec, 'ip').topShapes, [[2, 3, 7]]);
    assert.deepEqual(layer(spec, 'ip').paramShapes, [[7, 20], [7]]);
    assert.deepEqual(layer(spec, 't').paramShapes, [[60, 7]]);
  });

  it('ReLU, Sigmoid, TanH, Dropout and Softmax keep the shape; Dropout checks its ratio', () => {
    const spec = net(
      [4, 10],
      ['ReLU', 'Sigmoid', 'TanH', 'Dropout', 'Softmax']
        .map((t) => `layer { name: "${t}" type: "${t}" bottom: "data" top: "data" }`)
        .join('\n'),
    );
    assert.deepEqual(spec.blobShapes.get('data'), [4, 10]);
    rejects(
      () =>
        net(
          [4, 10],
          'layer { name: "d" type: "Dropout" bottom: "data" top: "data" dropout_param { dropout_ratio: 1 } }',
        ),
      /dropout_ratio: expected a number in \[0, 1\), received 1/,
    );
  });

  it('SoftmaxWithLoss and Accuracy give scalars, check labels and top_k', () => {
    const body = (topK: number) =>
      'layer { name: "lbl" type: "Input" top: "label" input_param { shape { dim: 4 } } }\n' +
      `layer { name: "acc" type: "Accuracy" bottom: "data" bottom: "label" top: "acc" accuracy_param { top_k: ${topK} } }\n` +
      'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "data" bottom: "label" top: "loss" }';
    const spec = net([4, 10], body(5));
    assert.deepEqual(layer(spec, 'loss').topShapes, [[]]);
    assert.deepEqual(layer(spec, 'loss').lossWeights, [1]);
    assert.deepEqual(layer(spec, 'acc').topShapes, [[]]);
    rejects(
      () => net([4, 10], body(11)),
      /accuracy_param\.top_k: expected at most the 10 classes, received 11/,
    );
    rejects(
      () =>
        net(
          [4, 10],
          'layer { name: "lbl" type: "Input" top: "label" input_param { shape { dim: 5 } } }\nlayer { name: "l" type: "SoftmaxWithLoss" bottom: "data" bottom: "label" top: "l" }',
        ),
      /expected 4 labels for predictions of shape 4x10, received shape 5/,
    );
  });

  it('Concat adds up its axis; Eltwise wants equal shapes; Flatten joins axes', () => {
    const spec = net(
      [2, 3, 4, 5],
      'layer { name: "cat" type: "Concat" bottom: "data" bottom: "data" top: "cat" }\n' +
        'layer { name: "sum" type: "Eltwise" bottom: "cat" bottom: "cat" top: "sum" eltwise_param { coeff: 1 coeff: -1 } }\n' +
        'layer { name: "flat" type: "Flatten" bottom: "sum" top: "flat" }\n' +
        'layer { name: "mid" type: "Flatten" bottom: "sum" top: "mid" flatten_param { axis: 2 end_axis: 3 } }',
    );
    assert.deepEqual(layer(spec, 'cat').topShapes, [[2, 6, 4, 5]]);
    assert.deepEqual(layer(spec, 'flat').topShapes, [[2, 120]]);
    assert.deepEqual(layer(spec, 'mid').topShapes, [[2, 6, 20]]);
    rejects(
      () =>
        net(
          [2, 3],
          'layer { name: "c" type: "Concat" bottom: "data" bottom: "data" top: "c" concat_param { axis: 0 concat_dim: 1 } }',
        ),
      /give either axis or concat_dim/,
    );
    rejects(
      () =>
        net(
          [2, 3],
          'layer { name: "c" type: "Concat" bottom: "data" bottom: "data" top: "c" }\nlayer { name: "e" type: "Eltwise" bottom: "data" bottom: "c" top: "e" }',
        ),
      /bottom 1: expected the shape of bottom 0 \(2x3\), received 2x6/,
    );
  });

  it('BatchNorm holds mean, variance and a factor; Scale learns a per-channel scale and bias', () => {
    const spec = net(
      [2, 5, 3, 3],
      'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" }\n' +
        'layer { name: "sc" type: "Scale" bottom: "data" top: "data" scale_param { bias_term: true } }',
    );
    assert.deepEqual(layer(spec, 'bn').paramShapes, [[5], [5], [1]]);
    assert.deepEqual(layer(spec, 'sc').paramShapes, [[5], [5]]);
  });

  it('Silence consumes blobs so they are not outputs; an explicit Split copies', () => {
    const spec = net(
      [3, 2],
      'layer { name: "s" type: "Split" bottom: "data" top: "a" top: "b" }\nlayer { name: "q" type: "Silence" bottom: "a" }',
    );
    assert.deepEqual(layer(spec, 's').topShapes, [
      [3, 2],
      [3, 2],
    ]);
    assert.deepEqual(spec.outputs, ['b']);
  });
});

describe('data layers', () => {
  const build = (text: string, options: Partial<NetSpecOptions> = {}) =>
    buildNetSpec(parseNetPrototxt(text, 'data.prototxt'), { phase: Phase.TRAIN, ...options });

  it('Data crops to crop_size, or takes the documented default image size without it', () => {
    const data = (transform: string) =>
      `layer { name: "d" type: "Data" top: "data" top: "label" ${transform} data_param { source: "db" batch_size: 8 } }`;
    assert.deepEqual(build(data('transform_param { crop_size: 227 }')).layers[0]!.topShapes, [
      [8, 3, 227, 227],
      [8],
    ]);
    assert.deepEqual(build(data('')).layers[0]!.topShapes, [[8, 3, 256, 256], [8]]);
    assert.deepEqual(
      build(data(''), { dataShape: { channels: 1, height: 28, width: 28 } }).layers[0]!.topShapes[0],
      [8, 1, 28, 28],
    );
    assert.throws(
      () => build(data('transform_param { crop_size: 300 }')),
      /crop_size: expected at most the image size 256x256, received 300/,
    );
  });

  it('ImageData resizes to new_height x new_width; gray images have one channel', () => {
    const spec = build(
      'layer { name: "i" type: "ImageData" top: "data" top: "label" transform_param { crop_size: 20 } image_data_param { source: "list.txt" batch_size: 4 new_height: 32 new_width: 24 is_color: false } }',
    );
    assert.deepEqual(spec.layers[0]!.topShapes, [[4, 1, 20, 20], [4]]);
  });

  it('DummyData and MemoryData take their shapes from their parameters', () => {
    const spec = build(
      'layer { name: "dd" type: "DummyData" top: "x" top: "y" dummy_data_param { num: 2 channels: 3 channels: 1 height: 4 width: 5 } }\n' +
        'layer { name: "m" type: "MemoryData" top: "m" top: "ml" memory_data_param { batch_size: 6 channels: 1 height: 7 width: 8 } }\n' +
        'layer { name: "d2" type: "DummyData" top: "z" dummy_data_param { shape { dim: 9 } } }',
    );
    assert.deepEqual(spec.layers[0]!.topShapes, [
      [2, 3, 4, 5],
      [2, 1, 4, 5],
    ]);
    assert.deepEqual(spec.layers[1]!.topShapes, [[6, 1, 7, 8], [6]]);
    assert.deepEqual(spec.layers[2]!.topShapes, [[9]]);
  });
});

describe('NetState filtering and split insertion', () => {
  it('meets a rule only when phase, levels, stages and not_stages all hold', () => {
    const state = { phase: Phase.TEST, level: 2, stages: ['deploy'] };
    assert.equal(stateMeetsRule(state, {}), true);
    assert.equal(stateMeetsRule(state, { phase: Phase.TRAIN }), false);
    assert.equal(stateMeetsRule(state, { minLevel: 2, maxLevel: 2 }), true);
    assert.equal(stateMeetsRule(state, { minLevel: 3 }), false);
    assert.equal(stateMeetsRule(state, { maxLevel: 1 }), false);
    assert.equal(stateMeetsRule(state, { stage: ['deploy', 'x'] }), false);
    assert.equal(stateMeetsRule(state, { notStage: ['deploy'] }), false);
  });

  it('keeps layers by include (any rule met) and drops them by exclude; level and stages come from the options', () => {
    const text =
      'state { stage: "base" }\n' +
      'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 } } }\n' +
      'layer { name: "lvl" type: "ReLU" bottom: "x" top: "x" include { min_level: 1 } include { stage: "extra" } }\n' +
      'layer { name: "nobase" type: "ReLU" bottom: "x" top: "x" exclude { stage: "base" } }';
    const names = (options: Partial<NetSpecOptions>) =>
      buildNetSpec(parseNetPrototxt(text, 'f'), { phase: Phase.TEST, ...options }).layers.map((l) => l.name);
    assert.deepEqual(names({}), ['in']);
    assert.deepEqual(names({ level: 1 }), ['in', 'lvl']);
    assert.deepEqual(names({ stages: ['extra'] }), ['in', 'lvl']);
    const spec = buildNetSpec(parseNetPrototxt(text, 'f'), { phase: Phase.TEST });
    assert.equal(spec.layers[0]!.param.phase, Phase.TEST);
  });

  it('inserts Split layers named as Caffe names them, moving a loss weight to the first split top', () => {
    const layers = insertSplits(
      [
        { name: 'a', top: ['x'], lossWeight: [2] },
        { name: 'b', bottom: ['x'], top: ['y'] },
        { name: 'c', bottom: ['x', 'y'], top: ['z'] },
      ],
      'f',
    );
    assert.deepEqual(
      layers.map((l) => l.name),
      ['a', 'x_a_0_split', 'b', 'c'],
    );
    assert.deepEqual(layers[1], {
      name: 'x_a_0_split',
      type: 'Split',
      bottom: ['x'],
      top: ['x_a_0_split_0', 'x_a_0_split_1'],
      lossWeight: [2, 0],
    });
    assert.deepEqual(layers[2]!.bottom, ['x_a_0_split_0']);
    assert.deepEqual(layers[3]!.bottom, ['x_a_0_split_1', 'y']);
  });

  it('rejects a top produced twice and a wrong number of blobs', () => {
    rejects(
      () =>
        net(
          [1, 2],
          'layer { name: "a" type: "ReLU" bottom: "data" top: "y" }\nlayer { name: "b" type: "ReLU" bottom: "data" top: "y" }',
        ),
      /top blob "y" is produced by more than one layer/,
    );
    rejects(
      () => net([1, 2], 'layer { name: "a" type: "ReLU" bottom: "data" top: "y" top: "z" }'),
      /expected 1 top blob\(s\), received 2/,
    );
  });
});
