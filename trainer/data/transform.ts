// Caffe's DataTransformer for one image: crop (random in TRAIN, centre in TEST), mirror, mean
// subtraction (mean file or mean values) and scale, in that order, from planar uint8 pixels into a
// float32 output (CAFFE_FACTS §3.10). Pure: the random draws come in as numbers.
import { BadInputError } from '../errors.js';

export type Phase = 'TRAIN' | 'TEST';

export interface TransformSettings {
  phase: Phase;
  /** Multiplies every value after the mean is subtracted (Caffe's `scale`, default 1). */
  scale: number;
  mirror: boolean;
  /** 0: no crop. */
  cropSize: number;
  /** Mean image (C x H x W of the input), from mean_file. */
  meanImage?: { channels: number; height: number; width: number; data: Float32Array };
  /** mean_value: one for all channels or one per channel. */
  meanValues?: number[];
}

/** Three uniform 32-bit draws per image: mirror, then row offset, then column offset (Caffe's order). */
export const DRAWS_PER_IMAGE = 3;

export interface Placement {
  hOff: number;
  wOff: number;
  mirror: boolean;
  outHeight: number;
  outWidth: number;
}

/** Where the crop lies and whether the image is mirrored, from the input size and three draws. */
export function placement(
  height: number,
  width: number,
  s: TransformSettings,
  draws: ArrayLike<number>,
  at = 0,
) {
  const mirror = s.mirror && draws[at]! % 2 === 1;
  if (s.cropSize <= 0) return { hOff: 0, wOff: 0, mirror, outHeight: height, outWidth: width };
  if (s.cropSize > height || s.cropSize > width) {
    throw new BadInputError(
      `crop_size ${s.cropSize} is larger than the ${height}x${width} image`,
      'transform_param',
    );
  }
  const crop = s.cropSize;
  const hOff = s.phase === 'TRAIN' ? draws[at + 1]! % (height - crop + 1) : Math.floor((height - crop) / 2);
  const wOff = s.phase === 'TRAIN' ? draws[at + 2]! % (width - crop + 1) : Math.floor((width - crop) / 2);
  return { hOff, wOff, mirror, outHeight: crop, outWidth: crop };
}

/** Checks the mean against the input once, before any pixel is touched. */
export function checkMean(s: TransformSettings, channels: number, height: number, width: number): void {
  if (s.meanImage && s.meanValues && s.meanValues.length > 0) {
    throw new BadInputError('cannot specify mean_file and mean_value at the same time', 'transform_param');
  }
  const m = s.meanImage;
  if (m && (m.channels !== channels || m.height !== height || m.width !== width)) {
    throw new BadInputError(
      `mean_file is ${m.channels}x${m.height}x${m.width} but the data is ${channels}x${height}x${width}; they must match`,
      'transform_param.mean_file',
    );
  }
  const n = s.meanValues?.length ?? 0;
  if (n > 1 && n !== channels) {
    throw new BadInputError(
      `expected 1 mean_value or one per channel (${channels}), received ${n}`,
      'transform_param.mean_value',
    );
  }
}

/**
 * Writes the transformed image into `out` at `outOffset` (C x outHeight x outWidth floats).
 * `pixels` is planar C x H x W.
 */
export function transformInto(
  pixels: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  s: TransformSettings,
  p: Placement,
  out: Float32Array,
  outOffset: number,
): void {
  const { hOff, wOff, mirror, outHeight, outWidth } = p;
  const mean = s.meanImage?.data;
  const values = s.meanValues ?? [];
  const scale = s.scale;
  for (let c = 0; c < channels; c++) {
    const channelMean = values.length === 0 ? 0 : values.length === 1 ? values[0]! : values[c]!;
    for (let h = 0; h < outHeight; h++) {
      const src = (c * height + h + hOff) * width + wOff;
      const dst = outOffset + (c * outHeight + h) * outWidth;
      if (mean) {
        for (let w = 0; w < outWidth; w++) {
          const v = (pixels[src + w]! - mean[src + w]!) * scale;
          out[mirror ? dst + outWidth - 1 - w : dst + w] = v;
        }
      } else {
        for (let w = 0; w < outWidth; w++) {
          const v = (pixels[src + w]! - channelMean) * scale;
          out[mirror ? dst + outWidth - 1 - w : dst + w] = v;
        }
      }
    }
  }
}
