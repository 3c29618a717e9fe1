// Byte test vectors produced by the official protobuf runtime from caffe.proto (BVLC/caffe
// src/caffe/proto/caffe.proto): each is encoded from its message and decoded back to it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  decodeBlobProto,
  decodeDatum,
  decodeMessage,
  decodeNetParameter,
  decodeSolverState,
  encodeBlobProto,
  encodeDatum,
  encodeMessage,
  encodeNetParameter,
  encodeSolverState,
  Phase,
} from '../../../trainer/proto/index.js';
import { fromHex, hex } from './support.js';

describe('Caffe byte test vectors', () => {
  it('BlobProto with shape {2, 3} and data 1..6 packs data before shape', () => {
    const bytes = '2a18 0000803f 00000040 00004040 00008040 0000a040 0000c040 3a04 0a02 0203';
    assert.equal(
      hex(encodeBlobProto({ shape: { dim: [2, 3] }, data: [1, 2, 3, 4, 5, 6] })),
      bytes.replace(/ /g, ''),
    );
    const blob = decodeBlobProto(fromHex(bytes));
    assert.deepEqual(blob.shape, { dim: [2, 3] });
    assert.deepEqual(Array.from(blob.data), [1, 2, 3, 4, 5, 6]);
    assert.ok(blob.data instanceof Float32Array);
    assert.equal(blob.num, undefined);
  });

  it('BlobProto in the legacy form compute_image_mean writes', () => {
    const bytes = '0801 1001 1802 2002 2a10 0000003f 0000003f 0000003f 0000003f';
    const message = { num: 1, channels: 1, height: 2, width: 2, data: [0.5, 0.5, 0.5, 0.5] };
    assert.equal(hex(encodeBlobProto(message)), bytes.replace(/ /g, ''));
    const blob = decodeBlobProto(fromHex(bytes));
    assert.deepEqual({ ...blob, data: Array.from(blob.data) }, message);
  });

  it('Datum as convert_imageset writes a raw image, encoded: false included', () => {
    const bytes = '0803 1002 1802 220c 000102030405060708090a0b 2807 3800';
    const data = Uint8Array.from({ length: 12 }, (_, i) => i);
    const datum = { channels: 3, height: 2, width: 2, data, label: 7, encoded: false };
    assert.equal(hex(encodeDatum(datum)), bytes.replace(/ /g, ''));
    const decoded = decodeDatum(fromHex(bytes));
    assert.deepEqual({ ...decoded, data: Uint8Array.from(decoded.data!) }, datum);
  });

  it('Datum float_data is written unpacked, one key per value', () => {
    const bytes = '0801 1001 1802 2801 35 0000803f 35 00000040';
    const datum = { channels: 1, height: 1, width: 2, label: 1, floatData: [1, 2] };
    assert.equal(hex(encodeDatum(datum)), bytes.replace(/ /g, ''));
    assert.deepEqual(decodeDatum(fromHex(bytes)), datum);
  });

  it('SolverState writes current_step even when it is 0', () => {
    const bytes =
      '08904e 1217 785f697465725f31303030302e63616666656d6f64656c 1a0b 2a04 00000000 3a03 0a01 01 2000';
    const state = {
      iter: 10000,
      learnedNet: 'x_iter_10000.caffemodel',
      history: [{ data: new Float32Array([0]), shape: { dim: [1] } }],
      currentStep: 0,
    };
    assert.equal(hex(encodeSolverState(state)), bytes.replace(/ /g, ''));
    assert.deepEqual(decodeSolverState(fromHex(bytes)), state);
  });

  it('NetParameter puts layer (field 100, key a2 06) last and keeps phase TRAIN = 0', () => {
    const bytes = '0a01 4e a206 19 0a02 6970 120c 496e6e657250726f64756374 2d 0000803f 5000';
    const net = {
      name: 'N',
      layer: [{ name: 'ip', type: 'InnerProduct', lossWeight: [1], phase: Phase.TRAIN }],
    };
    assert.equal(hex(encodeNetParameter(net)), bytes.replace(/ /g, ''));
    assert.deepEqual(decodeNetParameter(fromHex(bytes), 'vector', { upgrade: false }), net);
  });

  it('ConvolutionParameter repeated uint32 pad and kernel_size are unpacked', () => {
    const bytes = '1801 2003';
    assert.equal(hex(encodeMessage('ConvolutionParameter', { pad: [1], kernelSize: [3] })), '18012003');
    assert.deepEqual(decodeMessage('ConvolutionParameter', fromHex(bytes)), { pad: [1], kernelSize: [3] });
  });

  it('negative int32 values are varints sign-extended to 10 bytes (FillerParameter sparse -1)', () => {
    const bytes = encodeMessage('FillerParameter', { sparse: -1 });
    assert.equal(hex(bytes), '38ffffffffffffffffff01');
    assert.deepEqual(decodeMessage('FillerParameter', bytes), { sparse: -1 });
  });
});
