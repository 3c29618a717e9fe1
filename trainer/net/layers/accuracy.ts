// Accuracy: the share of counted positions whose true class is among the top_k scores. Computed on the CPU
// from the scores' values; it has no gradient (Caffe's Accuracy has no backward either). Optional second
// top: the accuracy of each class.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { canonicalAxis, countOf, positiveInt } from './params.js';
import { registerLayer } from './registry.js';

export interface AccuracyResult {
  accuracy: number;
  perClass: Float32Array;
}

export class AccuracyLayer extends Layer {
  readonly topK: number;
  readonly axis: number;
  readonly ignoreLabel: number | undefined;
  private readonly outer: number;
  private readonly classes: number;
  private readonly inner: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(2), tops: { min: 1, max: 2 } });
    const param = spec.param.accuracyParam;
    const scores = this.bottomShape(0);
    this.axis = canonicalAxis(param?.axis ?? 1, scores.length, 'accuracy_param.axis', this.where);
    this.topK = positiveInt(param?.topK, 1, 'accuracy_param.top_k', this.where);
    this.ignoreLabel = param?.ignoreLabel;
    this.outer = countOf(scores.slice(0, this.axis));
    this.classes = scores[this.axis]!;
    this.inner = countOf(scores.slice(this.axis + 1));
    if (this.topK > this.classes) {
      throw new BadInputError(
        `accuracy_param.top_k: expected at most the number of classes (${this.classes}), received ${this.topK}`,
        this.where,
      );
    }
    const labels = countOf(this.bottomShape(1));
    if (labels !== this.outer * this.inner) {
      throw new BadInputError(`expected ${this.outer * this.inner} labels, received ${labels}`, this.where);
    }
  }

  forward([scores, labels]: tf.Tensor[]): tf.Tensor[] {
    const result = this.measure(scores!.dataSync(), labels!.dataSync());
    const accuracy = tf.scalar(result.accuracy);
    return this.spec.tops.length === 2 ? [accuracy, tf.tensor1d(result.perClass)] : [accuracy];
  }

  /**
   * Caffe compat: a position is correct when fewer than top_k other classes score at least as high as the
   * true class, so a tie counts against it (unlike tf.inTopK, which breaks ties by index).
   */
  measure(scores: ArrayLike<number>, labels: ArrayLike<number>): AccuracyResult {
    const correctPerClass = new Float32Array(this.classes);
    const countPerClass = new Float32Array(this.classes);
    let correct = 0;
    let counted = 0;
    for (let o = 0; o < this.outer; o++) {
      for (let i = 0; i < this.inner; i++) {
        const label = Math.trunc(labels[o * this.inner + i]!);
        if (this.ignoreLabel !== undefined && label === this.ignoreLabel) continue;
        if (!(label >= 0 && label < this.classes)) {
          throw new BadInputError(
            `label at position ${o * this.inner + i}: expected an integer in [0, ${this.classes}), received ${label}`,
            this.where,
          );
        }
        countPerClass[label]!++;
        const at = (k: number) => scores[(o * this.classes + k) * this.inner + i]!;
        const trueScore = at(label);
        let atLeastAsHigh = 0;
        for (let k = 0; k < this.classes; k++) if (k !== label && at(k) >= trueScore) atLeastAsHigh++;
        if (atLeastAsHigh < this.topK) {
          correct++;
          correctPerClass[label]!++;
        }
        counted++;
      }
    }
    const perClass = correctPerClass.map((c, k) => (countPerClass[k] === 0 ? 0 : c / countPerClass[k]!));
    return { accuracy: counted === 0 ? 0 : correct / counted, perClass };
  }
}

registerLayer('Accuracy', (spec) => new AccuracyLayer(spec));
