// A Net's weights: .caffemodel out and in (byte identity), Caffe's copy rules, and train → test sharing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import { decodeNetParameter, encodeNetParameter } from '../../../trainer/proto/index.js';
import { feedTiny, netFrom, TINY_NET, tf } from './support.js';

describe('Net weights', () => {
  it('writes a caffemodel that loads into a differently seeded net and writes back byte for byte', async () => {
    const first = netFrom(TINY_NET, { seed: 1 });
    const bytes = encodeNetParameter(await first.toNetParameter());
    const second = netFrom(TINY_NET, { seed: 2 });
    const before = encodeNetParameter(await second.toNetParameter());
    assert.notDeepEqual(before, bytes, 'the two seeds should give different fillers');
    const match = second.copyTrainedLayersFrom(
      decodeNetParameter(bytes, 'first.caffemodel'),
      'first.caffemodel',
    );
    assert.deepEqual(match.copied, ['input', 'conv', 'relu', 'pool', 'ip', 'loss']);
    assert.deepEqual(encodeNetParameter(await second.toNetParameter()), bytes);
    first.dispose();
    second.dispose();
  });

  it('writes every layer with its parameters, its phase and its blobs with shapes', async () => {
    const net = netFrom(TINY_NET);
    const param = await net.toNetParameter();
    assert.equal(param.name, 'tiny');
    const conv = param.layer!.find((l) => l.name === 'conv')!;
    assert.equal(conv.phase, 0);
    assert.deepEqual(
      conv.blobs!.map((b) => b.shape!.dim),
      [[2, 1, 3, 3], [2]],
    );
    assert.deepEqual(
      [...conv.blobs![1]!.data],
      [...(net.layer('conv')!.blobs[1]!.dataSync() as Float32Array)],
    );
    assert.equal(param.layer!.find((l) => l.name === 'loss')!.lossWeight?.[0], 1);
    net.dispose();
  });

  it('rejects a weights file whose blob shape differs, naming the layer and both shapes', async () => {
    const wide = netFrom(TINY_NET.replace('num_output: 3', 'num_output: 4'));
    const weights = await wide.toNetParameter();
    const net = netFrom(TINY_NET);
    assert.throws(
      () => net.copyTrainedLayersFrom(weights, 'wide.caffemodel'),
      (error: unknown) =>
        error instanceof BadInputError &&
        /layer "ip" blob 0/.test(error.message) &&
        /4 8 \(32\)/.test(error.message) &&
        /3 8 \(24\)/.test(error.message),
    );
    wide.dispose();
    net.dispose();
  });

  it('ignores source layers the net does not have and keeps fillers of layers the file lacks', async () => {
    const source = netFrom(TINY_NET.replace(/name: "ip"/g, 'name: "ip_other"'), { seed: 4 });
    const net = netFrom(TINY_NET, { seed: 5 });
    const ipBefore = [...net.layer('ip')!.blobs[0]!.dataSync()];
    const match = net.copyTrainedLayersFrom(await source.toNetParameter());
    assert.deepEqual(match.ignored, ['ip_other']);
    assert.deepEqual([...net.layer('ip')!.blobs[0]!.dataSync()], ipBefore);
    assert.deepEqual(
      [...net.layer('conv')!.blobs[0]!.dataSync()],
      [...source.layer('conv')!.blobs[0]!.dataSync()],
    );
    source.dispose();
    net.dispose();
  });
});

describe('Net sharing trained layers (train → test)', () => {
  it('makes the test net read the train net’s variables, so updates show in test passes', async () => {
    const train = netFrom(TINY_NET, { phase: 0, seed: 1 });
    const test = netFrom(TINY_NET, { phase: 1, seed: 2 });
    test.shareTrainedLayersWith(train);
    assert.equal(test.layer('conv')!.blobs[0], train.layer('conv')!.blobs[0]);
    assert.equal(test.layer('ip')!.blobs[1], train.layer('ip')!.blobs[1]);
    feedTiny(train);
    feedTiny(test);
    assert.equal((await test.forward()).loss, (await train.forward()).loss);
    const ipBias = train.layer('ip')!.blobs[1]!;
    ipBias.assign(tf.tensor([5, -5, 0]));
    const afterUpdate = (await test.forward()).loss;
    assert.equal(afterUpdate, (await train.forward()).loss);
    test.dispose();
    assert.equal(ipBias.isDisposed, false, 'disposing the test net must leave the train net’s variables');
    train.dispose();
    assert.equal(ipBias.isDisposed, true);
  });
});
