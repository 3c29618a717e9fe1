import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { LRNParameter } from '../../../trainer/proto/messages.js';
import {
  assertClose,
  buildFromEditedSpec,
  buildLayer,
  checkGradients,
  layerSpecFor,
  seeded,
} from './support.js';

const WITHIN_CHANNEL = 1;

function lrn(shape: number[], param: LRNParameter) {
  return buildLayer({ x: shape }, { name: 'norm', type: 'LRN', bottom: ['x'], top: ['y'], lrnParam: param });
}

/** Caffe's LRN as a direct loop over every (n, c, h, w). */
function referenceLrn(
  x: ArrayLike<number>,
  [n, c, h, w]: number[],
  p: Required<Omit<LRNParameter, 'engine'>>,
): number[] {
  const at = (b: number, ch: number, y: number, xx: number) => x[((b * c! + ch) * h! + y) * w! + xx]!;
  const half = (p.localSize - 1) / 2;
  const out: number[] = [];
  for (let b = 0; b < n!; b++) {
    for (let ch = 0; ch < c!; ch++) {
      for (let y = 0; y < h!; y++) {
        for (let xx = 0; xx < w!; xx++) {
          let sum = 0;
          let scale: number;
          if (p.normRegion === WITHIN_CHANNEL) {
            for (let dy = -half; dy <= half; dy++) {
              for (let dx = -half; dx <= half; dx++) {
                const yy = y + dy;
                const x2 = xx + dx;
                if (yy >= 0 && yy < h! && x2 >= 0 && x2 < w!) sum += at(b, ch, yy, x2) ** 2;
              }
            }
            scale = 1 + (p.alpha / p.localSize ** 2) * sum;
          } else {
            for (let other = ch - half; other <= ch + half; other++) {
              if (other >= 0 && other < c!) sum += at(b, other, y, xx) ** 2;
            }
            scale = p.k + (p.alpha / p.localSize) * sum;
          }
          out.push(at(b, ch, y, xx) * scale ** -p.beta);
        }
      }
    }
  }
  return out;
}

describe('LRN', () => {
  const shape = [2, 7, 3, 4];
  const across = { localSize: 5, alpha: 0.5, beta: 0.75, k: 2, normRegion: 0 };
  const within = { localSize: 3, alpha: 0.9, beta: 0.6, k: 5, normRegion: WITHIN_CHANNEL };

  it('matches a direct loop across channels (alpha divided by local_size, k added)', () => {
    const x = seeded(shape, 1, -2, 2);
    assertClose(
      lrn(shape, across).forward([x], 0)[0]!.dataSync(),
      referenceLrn(x.dataSync(), shape, across),
      1e-5,
      'across',
    );
  });

  it('matches a direct loop within a channel (alpha divided by local_size², k ignored)', () => {
    const x = seeded(shape, 2, -2, 2);
    assertClose(
      lrn(shape, within).forward([x], 0)[0]!.dataSync(),
      referenceLrn(x.dataSync(), shape, within),
      1e-5,
      'within',
    );
  });

  it('uses Caffe defaults: local_size 5, alpha 1, beta 0.75, k 1, across channels', () => {
    const x = seeded(shape, 3, -2, 2);
    const defaults = { localSize: 5, alpha: 1, beta: 0.75, k: 1, normRegion: 0 };
    assertClose(
      lrn(shape, {}).forward([x], 0)[0]!.dataSync(),
      referenceLrn(x.dataSync(), shape, defaults),
      1e-5,
      'defaults',
    );
  });

  // Caffe's own LRN gradient test uses step 1e-2 and a 1e-2 threshold; the power makes it curved.
  it('passes the gradient check across channels (step 1e-2, tolerance 1e-2)', () => {
    const compared = checkGradients(lrn([1, 6, 2, 3], across), [seeded([1, 6, 2, 3], 4, -2, 2)], {
      step: 1e-2,
      tolerance: 1e-2,
    });
    assert.equal(compared, 36);
  });

  it('passes the gradient check within a channel (step 1e-2, tolerance 1e-2)', () => {
    const compared = checkGradients(lrn([1, 2, 4, 4], within), [seeded([1, 2, 4, 4], 5, -2, 2)], {
      step: 1e-2,
      tolerance: 1e-2,
    });
    assert.equal(compared, 32);
  });

  it('rejects an even local_size', () => {
    const spec = layerSpecFor({ x: shape }, { name: 'norm', type: 'LRN', bottom: ['x'], top: ['y'] });
    assert.throws(
      () => buildFromEditedSpec(spec, { lrnParam: { localSize: 4 } }),
      /lrn_param.local_size: expected an odd number, received 4/,
    );
  });
});
