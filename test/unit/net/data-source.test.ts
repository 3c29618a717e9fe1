// The DataSource hook: a data layer fed from outside gets one batch per pass, checked against its top shapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import type { DataSource } from '../../../trainer/net/data-source.js';
import { Net } from '../../../trainer/net/net.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import { parseNetPrototxt } from '../../../trainer/proto/index.js';
import { Rng } from '../../../trainer/rng.js';
import { tf } from './support.js';

const NET = `
name: "fed"
layer { name: "data" type: "Data" top: "data" top: "label"
  transform_param { crop_size: 2 } data_param { source: "db" batch_size: 2 } }
layer { name: "flat" type: "Flatten" bottom: "data" top: "flat" }
`;

/** Batches whose values count the calls: batch k holds k everywhere. */
class CountingSource implements DataSource {
  calls = 0;
  constructor(private readonly shape: number[]) {}
  async next(): Promise<tf.Tensor[]> {
    this.calls++;
    return [tf.fill(this.shape, this.calls), tf.zeros([2])];
  }
}

function fedNet(source: DataSource): Net {
  const spec = buildNetSpec(parseNetPrototxt(NET), {
    phase: 0,
    dataShape: { channels: 1, height: 2, width: 2 },
  });
  return Net.fromSpec(spec, { rng: new Rng(1), dataSources: { data: source } });
}

describe('DataSource', () => {
  it('gives the data layer the next batch at every pass', async () => {
    const source = new CountingSource([2, 1, 2, 2]);
    const net = fedNet(source);
    const first = await net.forward();
    const second = await net.forward();
    assert.equal(source.calls, 2);
    assert.deepEqual(
      [first, second].map((r) => Array.from(r.outputs.find((o) => o.name === 'flat')!.values)),
      [new Array(8).fill(1), new Array(8).fill(2)],
    );
    net.dispose();
  });

  it('rejects a batch of the wrong shape, naming the layer and both shapes', async () => {
    const net = fedNet(new CountingSource([2, 1, 3, 3]));
    await assert.rejects(
      net.forward(),
      (error: unknown) =>
        error instanceof BadInputError &&
        /layer "data" \(Data\)/.test(error.message) &&
        /expected a batch of shape 2x1x2x2, received 2x1x3x3/.test(error.message),
    );
    net.dispose();
  });
});
