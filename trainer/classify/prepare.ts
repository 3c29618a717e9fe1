// One decoded image → the batch of net inputs `caffe classify` runs: resized to the image dims, mean
// subtracted, then the centre crop or Caffe's ten oversampled crops. Pure.
import { BadInputError, UsageError } from '../contract/errors.js';
import {
  type CropPlacement,
  centrePlacement,
  cropInto,
  type FloatImage,
  oversamplePlacements,
  resizeBilinear,
} from './image.js';
import { type Mean, meanImageSize, meanPlane } from './mean.js';

export interface Size {
  height: number;
  width: number;
}

/** The net input's C x H x W (one image of its batch). */
export interface InputSize extends Size {
  channels: number;
}

export interface ClassifySettings {
  input: InputSize;
  /** The size every image is resized to before cropping. */
  imageDims: Size;
  /** Ten crops (corners, centre and their mirrors) instead of the centre crop alone. */
  oversample: boolean;
  mean?: Mean;
}

export interface CropBatch {
  /** `count` x C x H x W values, in the order of `placements`. */
  data: Float32Array;
  count: number;
  placements: CropPlacement[];
}

/**
 * The image dims when --image-dims is not given: the mean image's size when there is one (the size the
 * training images had, e.g. 256x256 for CaffeNet's 227x227 crops, which is Caffe's classify.py default),
 * else the net's input size (what Caffe's Classifier class defaults to), which makes the crop the whole image.
 */
export function defaultImageDims(mean: Mean | undefined, input: Size): Size {
  return meanImageSize(mean) ?? { height: input.height, width: input.width };
}

/** `--image-dims=H,W`: two positive integers, each at least the net's input size. */
export function parseImageDims(text: string, input: Size): Size {
  const dims = text.split(',').map((d) => Number(d.trim()));
  if (dims.length !== 2 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new UsageError(`--image-dims: expected H,W as two positive integers, received '${text}'`);
  }
  const [height, width] = dims as [number, number];
  checkImageDims({ height, width }, input, '--image-dims');
  return { height, width };
}

export function checkImageDims(dims: Size, input: Size, where: string): void {
  if (dims.height < input.height || dims.width < input.width) {
    throw new BadInputError(
      `image dims ${dims.height}x${dims.width} are smaller than the net's ${input.height}x${input.width} input`,
      where,
    );
  }
}

/**
 * The crops of one image. An image already of the net's input size is used as it is (no resize; its crop
 * is the whole image); any other is resized to the image dims. The mean is subtracted from the whole
 * resized image before cropping, so a crop meets the mean at its own positions and a mirrored crop the
 * mirrored mean, as in Caffe's DataTransformer.
 */
export function cropBatch(image: FloatImage, settings: ClassifySettings, where: string): CropBatch {
  const { input, imageDims } = settings;
  if (image.channels !== input.channels) {
    throw new BadInputError(
      `expected an image of ${input.channels} channel(s), received ${image.channels}`,
      where,
    );
  }
  const atInputSize = image.height === input.height && image.width === input.width;
  const working = atInputSize
    ? { ...image, data: image.data.slice() }
    : resizeBilinear(image, imageDims.height, imageDims.width);
  if (settings.mean) {
    const plane = meanPlane(settings.mean, working.channels, working.height, working.width, imageDims);
    for (let i = 0; i < plane.length; i++) working.data[i]! -= plane[i]!;
  }
  const placements = settings.oversample
    ? oversamplePlacements(working.height, working.width, input.height, input.width)
    : [centrePlacement(working.height, working.width, input.height, input.width)];
  const size = input.channels * input.height * input.width;
  const data = new Float32Array(placements.length * size);
  placements.forEach((placement, i) => {
    cropInto(working, placement, input.height, input.width, data, i * size);
  });
  return { data, count: placements.length, placements };
}
