// InfogainLoss (Caffe 1.0: on scores, with its own softmax along infogain_loss_param.axis): for each
// position whose label is not ignore_label, -Σ_l H[label, l] · log(max(p_l, 1e-20)), summed and divided by
// loss_param.normalization's normalizer (VALID by default). H is bottom 2 or the .binaryproto file
// infogain_loss_param.source (a local path). The scores' gradient is Caffe's,
// (p_l · Σ_k H[label, k] - H[label, l]) / normalizer; labels and H get none.
import { readFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import { decodeBlobProto } from '../../proto/binary.js';
import type { LayerSpec } from '../spec/types.js';
import { Layer } from './layer.js';
import { LOG_THRESHOLD } from './multinomial-logistic-loss.js';
import { canonicalAxis, countOf } from './params.js';
import { registerLayer } from './registry.js';
import { softmaxAlong } from './softmax.js';
import { lossNormalizer, normalizationMode } from './softmax-with-loss.js';

export class InfogainLossLayer extends Layer {
  readonly axis: number;
  readonly normalization: number;
  readonly ignoreLabel: number | undefined;
  private readonly outer: number;
  private readonly classes: number;
  private readonly inner: number;
  /** H from infogain_loss_param.source, when it is not a bottom. */
  private readonly fileMatrix: Float32Array | undefined;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: { min: 2, max: 3 }, tops: { min: 1, max: 1 } });
    const scores = this.bottomShape(0);
    this.axis = canonicalAxis(
      spec.param.infogainLossParam?.axis ?? 1,
      scores.length,
      'infogain_loss_param.axis',
      this.where,
    );
    this.normalization = normalizationMode(spec.param.lossParam, this.where);
    this.ignoreLabel = spec.param.lossParam?.ignoreLabel;
    this.outer = countOf(scores.slice(0, this.axis));
    this.classes = scores[this.axis]!;
    this.inner = countOf(scores.slice(this.axis + 1));
    if (spec.bottoms.length === 2)
      this.fileMatrix = this.readMatrix(spec.param.infogainLossParam?.source ?? '');
  }

  private readMatrix(source: string): Float32Array {
    const where = `${this.where} infogain_loss_param.source ${source}`;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(source);
    } catch (error) {
      throw new BadInputError(`cannot read the H matrix: ${(error as Error).message}`, where);
    }
    const blob = decodeBlobProto(bytes, source);
    const values = Float32Array.from(blob.data.length > 0 ? blob.data : (blob.doubleData ?? []));
    if (values.length !== this.classes * this.classes) {
      throw new BadInputError(
        `expected ${this.classes}x${this.classes} values (classes squared), received ${values.length}`,
        where,
      );
    }
    return values;
  }

  forward([scores, labels, given]: tf.Tensor[]): tf.Tensor[] {
    const c = this.classes;
    const h = given ? given.dataSync() : this.fileMatrix!;
    // Per position: the row H[label] (zeros where the label is ignored) laid out like the scores.
    const rows = new Float32Array(this.outer * c * this.inner);
    const rowSums = new Float32Array(this.outer * this.inner);
    let valid = 0;
    labels!.dataSync().forEach((value, position) => {
      const label = Math.trunc(value);
      if (this.ignoreLabel !== undefined && label === this.ignoreLabel) return;
      if (!(label >= 0 && label < c)) {
        throw new BadInputError(
          `label at position ${position}: expected an integer in [0, ${c}), received ${value}`,
          this.where,
        );
      }
      const o = Math.floor(position / this.inner);
      const i = position % this.inner;
      for (let l = 0; l < c; l++) {
        rows[(o * c + l) * this.inner + i] = h[label * c + l]!;
        rowSums[position]! += h[label * c + l]!;
      }
      valid++;
    });
    const total = this.outer * this.inner;
    const normalizer = lossNormalizer(this.normalization, {
      total,
      valid: this.ignoreLabel === undefined ? total : valid,
      outer: this.outer,
    });
    const weights = tf.tensor3d(rows, [this.outer, c, this.inner]);
    const sums = tf.tensor3d(rowSums, [this.outer, 1, this.inner]);
    const lossOf = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
      const p = softmaxAlong(x, 1);
      // Only saved tensors outlive the forward pass: tf.grads disposes the rest before calling gradFunc.
      save([p, weights, sums]);
      const value = tf.div(tf.neg(tf.sum(tf.mul(weights, tf.log(tf.maximum(p, LOG_THRESHOLD))))), normalizer);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.mul(tf.sub(tf.mul(saved[0]!, saved[2]!), saved[1]!), tf.div(dy, normalizer)),
      };
    });
    return [lossOf(tf.reshape(scores!, [this.outer, c, this.inner]))];
  }
}

registerLayer('InfogainLoss', (spec) => new InfogainLossLayer(spec));
