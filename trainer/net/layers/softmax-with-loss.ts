// SoftmaxWithLoss: the multinomial logistic loss of a softmax, -Σ log p[label] over the positions whose
// label is not ignore_label, divided by the normalizer of loss_param.normalization. Bottoms: scores
// (outer × C × inner, softmax along softmax_param.axis) and labels (outer·inner values). Tops: the loss
// (a scalar), and optionally the probabilities.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LossParameter } from '../../proto/messages.js';
import { NormalizationMode } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { canonicalAxis, countOf, enumValue } from './params.js';
import { registerLayer } from './registry.js';
import { logSoftmaxAlong, softmaxAlong } from './softmax.js';

/** log(FLT_MIN): Caffe clamps each probability at FLT_MIN before the logarithm. */
const LOG_FLT_MIN = Math.log(1.17549435e-38);

export class SoftmaxWithLossLayer extends Layer {
  readonly axis: number;
  readonly normalization: number;
  readonly ignoreLabel: number | undefined;
  private readonly outer: number;
  private readonly classes: number;
  private readonly inner: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(2), tops: { min: 1, max: 2 } });
    const scores = this.bottomShape(0);
    this.axis = canonicalAxis(
      spec.param.softmaxParam?.axis ?? 1,
      scores.length,
      'softmax_param.axis',
      this.where,
    );
    this.normalization = normalizationMode(spec.param.lossParam, this.where);
    this.ignoreLabel = spec.param.lossParam?.ignoreLabel;
    this.outer = countOf(scores.slice(0, this.axis));
    this.classes = scores[this.axis]!;
    this.inner = countOf(scores.slice(this.axis + 1));
    const labels = countOf(this.bottomShape(1));
    if (labels !== this.outer * this.inner) {
      throw new BadInputError(
        `expected ${this.outer * this.inner} labels (one per prediction: outer ${this.outer} × inner ${this.inner}), ` +
          `received ${labels}`,
        this.where,
      );
    }
  }

  forward([scores, labels]: tf.Tensor[]): tf.Tensor[] {
    const targets = this.readTargets(labels!);
    const normalizer = this.normalizer(targets.validCount);
    const logits = tf.reshape(scores!, [this.outer, this.classes, this.inner]);
    const loss = softmaxLoss(logits as tf.Tensor3D, labels!, targets, normalizer);
    return this.spec.tops.length === 2 ? [loss, softmaxAlong(scores!, this.axis)] : [loss];
  }

  /** Caffe's get_normalizer, clamped to at least 1. */
  normalizer(validCount: number): number {
    const total = this.outer * this.inner;
    return lossNormalizer(this.normalization, {
      total,
      valid: this.ignoreLabel === undefined ? total : validCount,
      outer: this.outer,
    });
  }

  /** One-hot targets (outer × C × inner) and which positions count (outer × 1 × inner), from the labels. */
  private readTargets(labels: tf.Tensor): Targets {
    const values = labels.dataSync();
    const oneHot = new Float32Array(this.outer * this.classes * this.inner);
    const counted = new Float32Array(this.outer * this.inner);
    let validCount = 0;
    for (let o = 0; o < this.outer; o++) {
      for (let i = 0; i < this.inner; i++) {
        const position = o * this.inner + i;
        const label = Math.trunc(values[position]!);
        if (this.ignoreLabel !== undefined && label === this.ignoreLabel) continue;
        if (!(label >= 0 && label < this.classes)) {
          throw new BadInputError(
            `label at position ${position}: expected an integer in [0, ${this.classes}), received ${values[position]}`,
            this.where,
          );
        }
        oneHot[(o * this.classes + label) * this.inner + i] = 1;
        counted[position] = 1;
        validCount++;
      }
    }
    return {
      oneHot: tf.tensor3d(oneHot, [this.outer, this.classes, this.inner]),
      counted: tf.tensor3d(counted, [this.outer, 1, this.inner]),
      validCount,
    };
  }
}

interface Targets {
  oneHot: tf.Tensor3D;
  counted: tf.Tensor3D;
  validCount: number;
}

/**
 * The loss with Caffe's gradient, (p - onehot) / normalizer at counted positions and 0 elsewhere, written
 * out rather than derived: the clamp at FLT_MIN would otherwise zero the gradient of a hopeless prediction,
 * where Caffe still pushes it. Labels get no gradient (Caffe cannot propagate to them).
 */
function softmaxLoss(
  logits: tf.Tensor3D,
  labels: tf.Tensor,
  targets: Targets,
  normalizer: number,
): tf.Tensor {
  const lossOf = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor3D, tf.Tensor, tf.GradSaveFunc];
    const logProbabilities = logSoftmaxAlong(x, 1);
    // Caffe compat: log(max(p, FLT_MIN)), so a zero probability costs 87.3 rather than Infinity.
    const picked = tf.mul(tf.maximum(logProbabilities, LOG_FLT_MIN), targets.oneHot);
    const value = tf.div(tf.neg(tf.sum(picked)), normalizer);
    // Only saved tensors outlive the forward pass: tf.grads disposes the rest before calling gradFunc.
    save([logProbabilities, y, targets.oneHot, targets.counted]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [logP, savedLabels, oneHot, counted] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const residual = tf.sub(tf.mul(tf.exp(logP), counted), oneHot);
      return [tf.mul(residual, tf.div(dy, normalizer)), tf.zerosLike(savedLabels)];
    };
    return { value, gradFunc };
  });
  return lossOf(logits, labels);
}

/**
 * loss_param.normalization, or the deprecated `normalize` flag when normalization is unset, else
 * `fallback` (VALID here; SigmoidCrossEntropyLoss falls back to BATCH_SIZE).
 */
export function normalizationMode(
  param: LossParameter | undefined,
  where: string,
  fallback: number = NormalizationMode.VALID,
): number {
  if (param?.normalization === undefined && param?.normalize !== undefined) {
    return param.normalize ? NormalizationMode.VALID : NormalizationMode.BATCH_SIZE;
  }
  return enumValue(param?.normalization, fallback, NormalizationMode, 'loss_param.normalization', where);
}

/** Caffe's get_normalizer for a loss layer's counts, clamped to at least 1. */
export function lossNormalizer(
  mode: number,
  counts: { total: number; valid: number; outer: number },
): number {
  switch (mode) {
    case NormalizationMode.FULL:
      return Math.max(1, counts.total);
    case NormalizationMode.VALID:
      return Math.max(1, counts.valid);
    case NormalizationMode.BATCH_SIZE:
      return Math.max(1, counts.outer);
    default:
      return 1;
  }
}

registerLayer('SoftmaxWithLoss', (spec) => new SoftmaxWithLossLayer(spec));
