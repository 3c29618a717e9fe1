// A Net's weights in and out: to a .caffemodel NetParameter (Caffe's Net::ToProto), from one (Caffe's
// CopyTrainedLayersFrom), and shared with another net (Caffe's ShareTrainedLayersWith, train → test).
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../contract/errors.js';
import type { BlobProto, LayerParameter, NetParameter } from '../proto/index.js';
import type { Net } from './net.js';
import { checkWeightsMatch, type WeightsMatch } from './spec/index.js';

/**
 * `name` and every layer's parameters (phase filled in, default loss weights, inserted Split layers) with
 * `blobs` replaced by the current values. A shared blob is written under every layer that uses it.
 */
export async function netParameterOf(net: Net): Promise<NetParameter> {
  const layer: LayerParameter[] = [];
  for (const [l, spec] of net.spec.layers.entries()) {
    const blobs: BlobProto[] = [];
    for (const variable of net.layers[l]!.blobs) {
      blobs.push({ shape: { dim: [...variable.shape] }, data: (await variable.data()) as Float32Array });
    }
    layer.push({ ...spec.param, blobs });
  }
  return { name: net.name, layer };
}

/**
 * Copies the file's layers into the net's layers of the same name, in the file's order (a later layer of
 * the same name overwrites). Checks everything first (checkWeightsMatch), so a bad file changes nothing.
 */
export function copyTrainedLayers(net: Net, weights: NetParameter, fileName: string): WeightsMatch {
  const match = checkWeightsMatch(net.spec, weights, fileName);
  for (const source of weights.layer ?? []) {
    const target = net.layer(source.name ?? '');
    if (!target) continue;
    (source.blobs ?? []).forEach((blob, i) => {
      const variable = target.blobs[i]!;
      const values = blob.doubleData?.length ? Float32Array.from(blob.doubleData) : blob.data;
      const value = tf.tensor(values, variable.shape, 'float32');
      variable.assign(value);
      value.dispose();
    });
  }
  return match;
}

/** `net` uses `source`'s variables for every layer of the same name; counts and shapes must match. */
export function shareTrainedLayers(net: Net, source: Net): void {
  for (const from of source.layers) {
    const target = net.layer(from.name);
    if (!target) continue;
    if (from.blobs.length !== target.blobs.length) {
      throw new BadInputError(
        `sharing trained layers: expected ${target.blobs.length} blobs as in the target net, received ${from.blobs.length}`,
        `layer "${from.name}"`,
      );
    }
    from.blobs.forEach((variable, i) => {
      const own = target.blobs[i]!;
      if (own.shape.join('x') !== variable.shape.join('x')) {
        throw new BadInputError(
          `sharing trained layers: blob ${i} shape mismatch: the target net has ${own.shape.join('x')}, ` +
            `the source net has ${variable.shape.join('x')}`,
          `layer "${from.name}"`,
        );
      }
      net.replaceBlob(target, i, variable, true);
    });
  }
}
