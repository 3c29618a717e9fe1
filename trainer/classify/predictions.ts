// From the net's output to what `caffe classify` prints: the average over an image's crops, the top k
// classes, labels, and the two output forms (cpp_classification's lines, or JSON). Pure.
import { BadInputError } from '../contract/errors.js';

export interface Prediction {
  index: number;
  prob: number;
}

export interface ImagePredictions {
  image: string;
  top: Prediction[];
}

/** The JSON form: `[{"image": path, "top5": [{"index", "label", "prob"}, ...]}]`. */
export interface JsonPrediction {
  image: string;
  top5: { index: number; label: string | null; prob: number }[];
}

/** The mean over `rows` rows of `rows` x `classes` values (the crops of one image). */
export function averageRows(values: ArrayLike<number>, rows: number): Float32Array {
  if (rows <= 0 || values.length % rows !== 0) {
    throw new RangeError(`expected a multiple of ${rows} values, received ${values.length}`);
  }
  const classes = values.length / rows;
  const mean = new Float32Array(classes);
  for (let k = 0; k < classes; k++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += values[r * classes + k]!;
    mean[k] = sum / rows;
  }
  return mean;
}

/** The k largest values, largest first; equal values in index order. */
export function topK(scores: ArrayLike<number>, k: number): Prediction[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order.slice(0, k).map((index) => ({ index, prob: scores[index]! }));
}

/** A labels file (synset_words.txt): one label per line, line i naming class i. */
export function parseLabels(text: string, classes: number, where: string): string[] {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length !== classes) {
    throw new BadInputError(
      `expected one label per class of the net's output (${classes}), received ${lines.length} lines`,
      where,
    );
  }
  return lines;
}

/**
 * cpp_classification's output: a header line per image, then `0.3134 - "n01440764 tench"` per class.
 * Without labels, the class index stands in for the label.
 */
export function predictionLines(result: ImagePredictions, labels: string[] | undefined): string[] {
  return [
    `---------- Prediction for ${result.image} ----------`,
    ...result.top.map((p) => `${p.prob.toFixed(4)} - "${labels?.[p.index] ?? String(p.index)}"`),
  ];
}

export function jsonPredictions(results: ImagePredictions[], labels: string[] | undefined): JsonPrediction[] {
  return results.map((r) => ({
    image: r.image,
    top5: r.top.map((p) => ({ index: p.index, label: labels?.[p.index] ?? null, prob: p.prob })),
  }));
}
