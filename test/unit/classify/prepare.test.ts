// From a decoded image to the net's input batch: image dims, mean handling and crops.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { floatImage, resizeBilinear } from '../../../trainer/classify/image.js';
import { type Mean, meanFromBlob, meanFromValues, meanPlane } from '../../../trainer/classify/mean.js';
import { cropBatch, defaultImageDims, parseImageDims } from '../../../trainer/classify/prepare.js';
import { BadInputError } from '../../../trainer/contract/errors.js';

const INPUT = { channels: 2, height: 2, width: 2 };

/** A mean image whose value says where it is: 100·c + 10·y + x. */
function positionalMean(channels: number, height: number, width: number): Mean {
  const data = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = 100 * c + 10 * y + x;
  return { kind: 'image', image: { channels, height, width, data } };
}

describe('image dims', () => {
  it('default to the mean image size, else to the net input size', () => {
    assert.deepEqual(defaultImageDims(positionalMean(2, 4, 5), INPUT), { height: 4, width: 5 });
    assert.deepEqual(defaultImageDims(meanFromValues('1,2'), INPUT), { height: 2, width: 2 });
    assert.deepEqual(defaultImageDims(undefined, INPUT), { height: 2, width: 2 });
  });

  it('parse H,W and refuse sizes smaller than the input', () => {
    assert.deepEqual(parseImageDims('3, 4', INPUT), { height: 3, width: 4 });
    assert.throws(() => parseImageDims('3', INPUT), /expected H,W as two positive integers, received '3'/);
    assert.throws(() => parseImageDims('1,4', INPUT), /image dims 1x4 are smaller than the net's 2x2 input/);
  });
});

describe('means', () => {
  it('reads a legacy 1xCxHxW binaryproto blob', () => {
    const mean = meanFromBlob(
      { num: 1, channels: 1, height: 1, width: 2, data: new Float32Array([3, 4]) },
      'm',
    );
    assert.equal(mean.kind, 'image');
    if (mean.kind === 'image') assert.deepEqual(Array.from(mean.image.data), [3, 4]);
  });

  it('refuses a blob whose values do not fill its shape', () => {
    assert.throws(
      () => meanFromBlob({ shape: { dim: [1, 2, 2] }, data: new Float32Array(3) }, 'mean.binaryproto'),
      (e: unknown) =>
        e instanceof BadInputError && /mean.binaryproto: expected 4 mean values/.test(e.message),
    );
  });

  it('broadcast one value or one per channel, and refuse other counts', () => {
    assert.deepEqual(
      Array.from(meanPlane(meanFromValues('5'), 2, 1, 2, { height: 1, width: 2 })),
      [5, 5, 5, 5],
    );
    assert.deepEqual(
      Array.from(meanPlane(meanFromValues('5,7'), 2, 1, 2, { height: 1, width: 2 })),
      [5, 5, 7, 7],
    );
    assert.throws(
      () => meanPlane(meanFromValues('1,2,3'), 2, 1, 1, { height: 1, width: 1 }),
      /one per channel \(2\)/,
    );
    assert.throws(() => meanFromValues('104,x'), /expected numbers separated by commas/);
  });

  it('resize a mean image to the image dims, and centre-crop it for an image already at input size', () => {
    const mean = positionalMean(1, 4, 4);
    if (mean.kind !== 'image') throw new Error('unreachable');
    const resized = resizeBilinear(mean.image, 6, 6).data;
    assert.deepEqual(meanPlane(mean, 1, 6, 6, { height: 6, width: 6 }), resized);
    // The centre 2x2 of the 4x4 mean: rows 1-2, columns 1-2.
    assert.deepEqual(Array.from(meanPlane(mean, 1, 2, 2, { height: 4, width: 4 })), [11, 12, 21, 22]);
  });
});

describe('cropBatch', () => {
  it('subtracts the mean at each crop’s own positions, mirrored with mirrored crops', () => {
    // A zero image at the mean's size: every crop value is minus the mean where the pixel came from.
    const image = floatImage(new Float32Array(2 * 4 * 4), 2, 4, 4);
    const settings = {
      input: INPUT,
      imageDims: { height: 4, width: 4 },
      oversample: true,
      mean: positionalMean(2, 4, 4),
    };
    const batch = cropBatch(image, settings, 'img.png');
    assert.equal(batch.count, 10);
    const crop = (i: number) => Array.from(batch.data.subarray(i * 8, (i + 1) * 8), (v) => -v);
    assert.deepEqual(crop(1), [2, 3, 12, 13, 102, 103, 112, 113]); // top-right corner
    assert.deepEqual(crop(4), [11, 12, 21, 22, 111, 112, 121, 122]); // centre
    assert.deepEqual(crop(6), [3, 2, 13, 12, 103, 102, 113, 112]); // top-right, mirrored
  });

  it('resizes to the image dims before the centre crop', () => {
    const values = Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 3);
    const image = floatImage(values, 2, 3, 3);
    const settings = { input: INPUT, imageDims: { height: 4, width: 4 }, oversample: false };
    const resized = resizeBilinear(image, 4, 4).data;
    const at = (c: number, y: number, x: number) => resized[(c * 4 + y) * 4 + x]!;
    const expected = [0, 1].flatMap((c) => [at(c, 1, 1), at(c, 1, 2), at(c, 2, 1), at(c, 2, 2)]);
    assert.deepEqual(Array.from(cropBatch(image, settings, 'img.png').data), expected);
  });

  it('uses an image already of the input size as it is, whatever the image dims', () => {
    const image = floatImage([1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2);
    const settings = {
      input: INPUT,
      imageDims: { height: 9, width: 9 },
      oversample: false,
      mean: meanFromValues('1,2'),
    };
    assert.deepEqual(Array.from(cropBatch(image, settings, 'img.png').data), [0, 1, 2, 3, 3, 4, 5, 6]);
  });

  it('refuses an image with the wrong channel count, naming the image', () => {
    const image = floatImage([1, 2, 3, 4], 1, 2, 2);
    const settings = { input: INPUT, imageDims: { height: 2, width: 2 }, oversample: false };
    assert.throws(() => cropBatch(image, settings, 'gray.png'), /gray.png: expected an image of 2 channel/);
  });
});
