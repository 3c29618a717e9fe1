// Legacy nets: a V1 (2014) binary net built by hand from the field tables — `layers` (field 2) with enum
// types, blobs_lr/weight_decay, legacy 4-D blob dims and net-level input fields — reads back upgraded, its
// weights fit the upgraded net, and Caffe's upgrade tools write the current form.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { buildNetSpec, checkWeightsMatch } from '../../../trainer/net/spec/index.js';
import {
  decodeNetParameter,
  Phase,
  parseNetPrototxt,
  parseSolverPrototxt,
} from '../../../trainer/proto/index.js';
import { runCli } from './support.js';

// A minimal protobuf writer, independent of protobufjs, so the test checks our reader against the tables.
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
};
const key = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, value: number) => [...key(field, 0), ...varint(value)];
const bytes = (field: number, payload: number[]) => [...key(field, 2), ...varint(payload.length), ...payload];
const str = (field: number, text: string) => bytes(field, [...Buffer.from(text, 'utf8')]);
const float = (field: number, value: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return [...key(field, 5), ...b];
};
const packedFloats = (field: number, values: number[]) => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    b.writeFloatLE(v, i * 4);
  });
  return bytes(field, [...b]);
};
/** BlobProto in the legacy form: num (1), channels (2), height (3), width (4), data (5, packed). */
const legacyBlob = (dims: number[], values: number[]) => [
  ...dims.flatMap((d, i) => int(i + 1, d)),
  ...packedFloats(5, values),
];
const ramp = (n: number, scale: number) => Array.from({ length: n }, (_, i) => (i - n / 2) * scale);

const convWeights = ramp(2 * 3 * 3 * 3, 0.01);
const ipWeights = ramp(4 * 2 * 6 * 6, 0.001);
// V1LayerParameter: bottom 2, top 3, name 4, type 5, blobs 6, blobs_lr 7, weight_decay 8,
// convolution_param 10, inner_product_param 17, include 32.
const v1Layers = [
  [
    ...str(4, 'conv1'),
    ...int(5, 4),
    ...str(2, 'data'),
    ...str(3, 'conv1'),
    ...bytes(6, legacyBlob([2, 3, 3, 3], convWeights)),
    ...bytes(6, legacyBlob([1, 1, 1, 2], [0.5, -0.5])),
    ...float(7, 1),
    ...float(7, 2),
    ...float(8, 1),
    ...float(8, 0),
    ...bytes(10, [...int(1, 2), ...int(4, 3)]),
  ],
  [...str(4, 'relu1'), ...int(5, 18), ...str(2, 'conv1'), ...str(3, 'conv1')],
  [
    ...str(4, 'ip'),
    ...int(5, 14),
    ...str(2, 'conv1'),
    ...str(3, 'ip'),
    ...bytes(6, legacyBlob([1, 1, 4, 72], ipWeights)),
    ...bytes(6, legacyBlob([1, 1, 1, 4], [1, 2, 3, 4])),
    ...bytes(17, int(1, 4)),
  ],
  [...str(4, 'prob'), ...int(5, 20), ...str(2, 'ip'), ...str(3, 'prob'), ...bytes(32, int(1, 1))],
];
// NetParameter: name 1, layers 2, input 3, input_dim 4 (unpacked).
const v1Net = new Uint8Array([
  ...str(1, 'LegacyNet'),
  ...v1Layers.flatMap((layer) => bytes(2, layer)),
  ...str(3, 'data'),
  ...[1, 3, 8, 8].flatMap((d) => int(4, d)),
]);

describe('a legacy V1 binary net built from the field tables', () => {
  it('reads as stored, with V1 layers and input fields', () => {
    const raw = decodeNetParameter(v1Net, 'legacy.caffemodel', { upgrade: false });
    assert.equal(raw.layers?.length, 4);
    assert.equal(raw.layers?.[0]?.type, 4);
    assert.deepEqual(raw.layers?.[0]?.blobsLr, [1, 2]);
    assert.deepEqual(raw.inputDim, [1, 3, 8, 8]);
    assert.equal(raw.layer, undefined);
  });

  it('reads upgraded: an Input layer first, type strings, ParamSpecs, legacy blob dims kept', () => {
    const net = decodeNetParameter(v1Net, 'legacy.caffemodel');
    assert.equal(net.layers, undefined);
    assert.equal(net.input, undefined);
    assert.deepEqual(
      net.layer?.map((l) => [l.name, l.type]),
      [
        ['input', 'Input'],
        ['conv1', 'Convolution'],
        ['relu1', 'ReLU'],
        ['ip', 'InnerProduct'],
        ['prob', 'Softmax'],
      ],
    );
    assert.deepEqual(net.layer?.[0]?.inputParam, { shape: [{ dim: [1, 3, 8, 8] }] });
    const conv = net.layer?.[1];
    assert.deepEqual(conv?.param, [
      { lrMult: 1, decayMult: 1 },
      { lrMult: 2, decayMult: 0 },
    ]);
    assert.deepEqual(conv?.convolutionParam, { numOutput: 2, kernelSize: [3] });
    assert.deepEqual(
      [conv?.blobs?.[0]?.num, conv?.blobs?.[0]?.channels, conv?.blobs?.[0]?.height],
      [2, 3, 3],
    );
    assert.deepEqual(Array.from(conv!.blobs![0]!.data), convWeights.map(Math.fround));
    assert.deepEqual(net.layer?.[4]?.include, [{ phase: Phase.TEST }]);
  });

  it('its legacy-shaped weights fit the upgraded net (1-padded to 4 axes)', () => {
    const net = decodeNetParameter(v1Net, 'legacy.caffemodel');
    const spec = buildNetSpec(net, { phase: Phase.TEST });
    assert.deepEqual(spec.layers.find((l) => l.name === 'ip')?.paramShapes, [[4, 72], [4]]);
    assert.deepEqual(checkWeightsMatch(spec, net, 'legacy.caffemodel'), {
      copied: ['input', 'conv1', 'relu1', 'ip', 'prob'],
      ignored: [],
    });
  });

  it('V1 text with data transform fields in data_param moves them to transform_param', () => {
    const net = parseNetPrototxt(
      'layers { name: "d" type: DATA top: "data" top: "label" ' +
        'data_param { source: "db" batch_size: 4 crop_size: 5 mirror: true mean_file: "m.binaryproto" } ' +
        'blobs_lr: 1 }',
      'old.prototxt',
    );
    assert.deepEqual(net.layer?.[0], {
      name: 'd',
      type: 'Data',
      top: ['data', 'label'],
      param: [{ lrMult: 1 }],
      dataParam: { source: 'db', batchSize: 4 },
      transformParam: { cropSize: 5, mirror: true, meanFile: 'm.binaryproto' },
    });
  });
});

describe('V1 nets with the layers this trainer does not run', () => {
  it('upgrade with their parameters: WindowData (transform fields moved), HDF5Data, InfogainLoss, HDF5Output', () => {
    const net = parseNetPrototxt(
      'layers { name: "w" type: WINDOW_DATA top: "data" top: "label" ' +
        'window_data_param { source: "windows.txt" batch_size: 128 fg_threshold: 0.5 crop_mode: "warp" crop_size: 227 mirror: true } }\n' +
        'layers { name: "h" type: HDF5_DATA top: "x" hdf5_data_param { source: "list.txt" batch_size: 10 shuffle: true } }\n' +
        'layers { name: "l" type: INFOGAIN_LOSS bottom: "x" bottom: "label" top: "loss" infogain_loss_param { source: "H.binaryproto" } }\n' +
        'layers { name: "o" type: HDF5_OUTPUT bottom: "x" hdf5_output_param { file_name: "out.h5" } }\n',
      'v1.prototxt',
    );
    assert.deepEqual(net.layer, [
      {
        name: 'w',
        type: 'WindowData',
        top: ['data', 'label'],
        windowDataParam: { source: 'windows.txt', batchSize: 128, fgThreshold: 0.5, cropMode: 'warp' },
        transformParam: { cropSize: 227, mirror: true },
      },
      {
        name: 'h',
        type: 'HDF5Data',
        top: ['x'],
        hdf5DataParam: { source: 'list.txt', batchSize: 10, shuffle: true },
      },
      {
        name: 'l',
        type: 'InfogainLoss',
        bottom: ['x', 'label'],
        top: ['loss'],
        infogainLossParam: { source: 'H.binaryproto' },
      },
      { name: 'o', type: 'HDF5Output', bottom: ['x'], hdf5OutputParam: { fileName: 'out.h5' } },
    ]);
  });

  it('are refused when the net is built, by layer and type', () => {
    const net = parseNetPrototxt(
      'input: "x" input_dim: 1 input_dim: 2 input_dim: 1 input_dim: 1\n' +
        'layers { name: "o" type: HDF5_OUTPUT bottom: "x" hdf5_output_param { file_name: "out.h5" } }\n',
      'v1.prototxt',
    );
    assert.throws(
      () => buildNetSpec(net, { phase: Phase.TEST }),
      /layer "o".*unknown layer type "HDF5Output"|unknown layer type "HDF5Output"/,
    );
  });
});

describe('other upgrades Caffe applies on reading', () => {
  it('input_shape becomes an Input layer, and old BatchNorm ParamSpecs get lr_mult and decay_mult 0', () => {
    const net = parseNetPrototxt(
      'input: "a" input_shape { dim: 2 dim: 5 }\n' +
        'layer { name: "bn" type: "BatchNorm" bottom: "a" top: "a" param { lr_mult: 1 } param { lr_mult: 1 } param { lr_mult: 1 } }',
      'bn.prototxt',
    );
    assert.deepEqual(net.layer?.[0], {
      name: 'input',
      type: 'Input',
      top: ['a'],
      inputParam: { shape: [{ dim: [2, 5] }] },
    });
    assert.deepEqual(net.layer?.[1]?.param, [
      { lrMult: 0, decayMult: 0 },
      { lrMult: 0, decayMult: 0 },
      { lrMult: 0, decayMult: 0 },
    ]);
  });

  it('a V0 net upgrades: its padding layer folds into the conv it feeds, flat fields into param messages', () => {
    const net = parseNetPrototxt(
      `input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
layers { layer { name: "pad1" type: "padding" pad: 2 } bottom: "data" top: "pad1" }
layers { layer { name: "conv1" type: "conv" num_output: 4 kernelsize: 3 stride: 2 biasterm: false blobs_lr: 1 }
  bottom: "pad1" top: "conv1" }
layers { layer { name: "pool1" type: "pool" pool: AVE kernelsize: 2 stride: 2 } bottom: "conv1" top: "pool1" }`,
      'v0.prototxt',
    );
    assert.deepEqual(
      net.layer?.map((l) => [l.name, l.type, l.bottom]),
      [
        ['input', 'Input', undefined],
        ['conv1', 'Convolution', ['data']],
        ['pool1', 'Pooling', ['conv1']],
      ],
    );
    assert.deepEqual(net.layer?.[1]?.convolutionParam, {
      numOutput: 4,
      biasTerm: false,
      pad: [2],
      kernelSize: [3],
      stride: [2],
    });
    assert.deepEqual(net.layer?.[1]?.param, [{ lrMult: 1 }]);
    assert.deepEqual(net.layer?.[2]?.poolingParam, { pool: 1, kernelSize: 2, stride: 2 });
  });

  it('a V0 padding layer feeding anything but conv or pool, and an unknown V0 type, are refused', () => {
    assert.throws(
      () =>
        parseNetPrototxt(
          `input: "d" layers { layer { name: "p" type: "padding" pad: 1 } bottom: "d" top: "p" }
layers { layer { name: "r" type: "relu" } bottom: "p" top: "r" }`,
          'v0.prototxt',
        ),
      /v0\.prototxt: layers\[1\] \("r"\).*a padding layer feeds a layer of type "relu"/s,
    );
    assert.throws(
      () => parseNetPrototxt('layers { layer { name: "x" type: "warp" } }', 'v0.prototxt'),
      /unknown V0 layer type "warp"/,
    );
  });
});

describe("Caffe's upgrade tools", () => {
  const dir = mkdtempSync(join(tmpdir(), 'brewery-upgrade-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('upgrade_net_proto_binary writes the current form', () => {
    const input = join(dir, 'legacy.caffemodel');
    const output = join(dir, 'upgraded.caffemodel');
    writeFileSync(input, v1Net);
    const result = runCli(['upgrade_net_proto_binary', input, output]);
    assert.equal(result.code, 0, result.stderr);
    const written = new Uint8Array(readFileSync(output));
    const asStored = decodeNetParameter(written, output, { upgrade: false });
    assert.equal(asStored.layers, undefined);
    assert.deepEqual(asStored, decodeNetParameter(v1Net, input));
  });

  it('upgrade_net_proto_text turns V1 layers and input_dim into the current text', () => {
    const input = join(dir, 'old.prototxt');
    const output = join(dir, 'new.prototxt');
    writeFileSync(
      input,
      'name: "old"\ninput: "data"\ninput_dim: 1 input_dim: 3 input_dim: 4 input_dim: 4\nlayers { name: "r" type: RELU bottom: "data" top: "data" }\n',
    );
    const result = runCli(['upgrade_net_proto_text', input, output]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      readFileSync(output, 'utf8'),
      'name: "old"\nlayer {\n  name: "input"\n  type: "Input"\n  top: "data"\n  input_param {\n    shape {\n' +
        '      dim: 1\n      dim: 3\n      dim: 4\n      dim: 4\n    }\n  }\n}\nlayer {\n  name: "r"\n  type: "ReLU"\n' +
        '  bottom: "data"\n  top: "data"\n}\n',
    );
  });

  it('upgrade_solver_proto_text turns solver_type into type, and refuses both', () => {
    const input = join(dir, 'solver.prototxt');
    const output = join(dir, 'solver.new.prototxt');
    writeFileSync(input, 'base_lr: 0.01\nsolver_type: ADAM\n');
    assert.equal(runCli(['upgrade_solver_proto_text', input, output]).code, 0);
    assert.deepEqual(parseSolverPrototxt(readFileSync(output, 'utf8'), output, { upgrade: false }), {
      baseLr: Math.fround(0.01),
      type: 'Adam',
    });
    writeFileSync(input, 'solver_type: ADAM\ntype: "SGD"\n');
    const both = runCli(['upgrade_solver_proto_text', input, output]);
    assert.equal(both.code, 65);
    assert.match(both.stderr, /cannot be both specified/);
  });
});
