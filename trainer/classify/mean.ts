// The mean that classification subtracts: a mean image (a .binaryproto as compute_image_mean writes it)
// or one value per channel (--mean-value=B,G,R), made into a plane of the size it is subtracted at.
import { BadInputError, UsageError } from '../contract/errors.js';
import { blobShape } from '../net/spec/index.js';
import type { BlobProto } from '../proto/index.js';
import { centreCrop, type FloatImage, resizeBilinear } from './image.js';

export type Mean = { kind: 'image'; image: FloatImage } | { kind: 'values'; values: number[] };

/** A mean .binaryproto blob (1 x C x H x W or C x H x W) as a mean image. */
export function meanFromBlob(blob: BlobProto, where: string): Mean {
  const shape = blobShape(blob);
  const dims = shape.length === 4 && shape[0] === 1 ? shape.slice(1) : shape;
  if (dims.length !== 3 || dims.some((d) => d <= 0)) {
    throw new BadInputError(
      `expected a mean blob of shape 1xCxHxW or CxHxW, received ${shape.join('x')}`,
      where,
    );
  }
  const [channels, height, width] = dims as [number, number, number];
  const values = blob.doubleData?.length ? blob.doubleData : blob.data;
  if (values.length !== channels * height * width) {
    throw new BadInputError(
      `expected ${channels * height * width} mean values for ${shape.join('x')}, received ${values.length}`,
      where,
    );
  }
  return { kind: 'image', image: { channels, height, width, data: Float32Array.from(values) } };
}

/** `--mean-value=104,117,123` (or one value for every channel). */
export function meanFromValues(text: string): Mean {
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v)) || text.trim() === '') {
    throw new UsageError(`--mean-value: expected numbers separated by commas, received '${text}'`);
  }
  return { kind: 'values', values };
}

/** The mean image's size, which is the size the training images had (undefined for per-channel values). */
export function meanImageSize(mean: Mean | undefined): { height: number; width: number } | undefined {
  return mean?.kind === 'image' ? { height: mean.image.height, width: mean.image.width } : undefined;
}

/** Throws unless the mean fits a net input of `channels` channels. */
export function checkMean(mean: Mean, channels: number, where: string): void {
  if (mean.kind === 'values') {
    const n = mean.values.length;
    if (n !== 1 && n !== channels) {
      throw new BadInputError(`expected 1 value or one per channel (${channels}), received ${n}`, where);
    }
  } else if (mean.image.channels !== channels) {
    throw new BadInputError(
      `the mean has ${mean.image.channels} channels, the net's input has ${channels}`,
      where,
    );
  }
}

/**
 * The mean as a C x height x width plane. A mean image is resized to `imageDims` (bilinear, when its size
 * differs) and, when the plane is smaller than that (an image that is already the net's input size and
 * skips the resize), centre-cropped, so each pixel meets the mean of the position it would have had.
 */
export function meanPlane(
  mean: Mean,
  channels: number,
  height: number,
  width: number,
  imageDims: { height: number; width: number },
): Float32Array {
  checkMean(mean, channels, 'mean');
  const area = height * width;
  if (mean.kind === 'values') {
    const plane = new Float32Array(channels * area);
    const one = mean.values.length === 1;
    for (let c = 0; c < channels; c++) plane.fill(mean.values[one ? 0 : c]!, c * area, (c + 1) * area);
    return plane;
  }
  let image = resizeBilinear(mean.image, imageDims.height, imageDims.width);
  if (height !== image.height || width !== image.width) image = centreCrop(image, height, width);
  return image.data;
}
