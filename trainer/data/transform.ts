// Caffe's DataTransformer for one image: crop (random in TRAIN, centre in TEST), mirror, mean
// subtraction (mean file or mean values) and scale, in that order, from planar uint8 pixels into a
// float32 output (BVLC/caffe src/caffe/data_transformer.cpp). Pure: the random draws come in as numbers.

import { BadInputError } from '../contract/errors.js';
import { nativeCodec } from './native-codec.js';

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
  const { hOff, wOff, outHeight, outWidth } = p;
  const mean = s.meanImage?.data;
  const values = s.meanValues ?? [];
  for (let c = 0; c < channels; c++) {
    const channelMean = values.length === 0 ? 0 : values.length === 1 ? values[0]! : values[c]!;
    for (let h = 0; h < outHeight; h++) {
      const src = (c * height + h + hOff) * width + wOff;
      const dst = outOffset + (c * outHeight + h) * outWidth;
      const row: Row = { src, step: 1, meanAt: src, dst, width: outWidth, mirror: p.mirror };
      if (mean) rowMinusImage(pixels, mean, s.scale, row, out);
      else rowMinusValue(pixels, channelMean, s.scale, row, out);
    }
  }
}

/** transformInto for interleaved bytes (H x W x C, BGR as decoded): no planar copy first. In the
 * native codec when it is built. */
export function transformInterleavedInto(
  hwc: Uint8Array,
  channels: number,
  height: number,
  width: number,
  s: TransformSettings,
  p: Placement,
  out: Float32Array,
  outOffset: number,
): void {
  const { hOff, wOff, outHeight, outWidth } = p;
  const mean = s.meanImage?.data;
  const values = s.meanValues ?? [];
  const scale = s.scale;
  if (nativeCodec) {
    // The same loops in C: the loader's hottest (about five times faster).
    const meanValues = Float64Array.from(values);
    const args = [hOff, wOff, outHeight, outWidth, p.mirror, scale, mean ?? null, meanValues] as const;
    nativeCodec.transformInterleaved(hwc, channels, height, width, ...args, out, outOffset);
    return;
  }
  const dir = p.mirror ? -1 : 1;
  for (let c = 0; c < channels; c++) {
    const channelMean = values.length === 0 ? 0 : values.length === 1 ? values[0]! : values[c]!;
    for (let h = 0; h < outHeight; h++) {
      // Its own loop rather than the row helpers: it sees only bytes, so it stays monomorphic.
      let i = ((h + hOff) * width + wOff) * channels + c;
      let m = (c * height + h + hOff) * width + wOff;
      const dst = outOffset + (c * outHeight + h) * outWidth;
      let o = p.mirror ? dst + outWidth - 1 : dst;
      if (mean) {
        for (let w = 0; w < outWidth; w++, i += channels, m++, o += dir)
          out[o] = (hwc[i]! - mean[m]!) * scale;
      } else {
        for (let w = 0; w < outWidth; w++, i += channels, o += dir) out[o] = (hwc[i]! - channelMean) * scale;
      }
    }
  }
}

/** One output row: `width` inputs from `src` every `step`, mean values from `meanAt`, out at `dst`. */
interface Row {
  src: number;
  step: number;
  meanAt: number;
  dst: number;
  width: number;
  mirror: boolean;
}

// The row loops keep Caffe's arithmetic, (pixel - mean) * scale; a mirrored row is written from its
// end backwards, decided once per row rather than once per pixel.
function rowMinusImage(
  pixels: ArrayLike<number>,
  mean: Float32Array,
  scale: number,
  r: Row,
  out: Float32Array,
) {
  const dir = r.mirror ? -1 : 1;
  for (let w = 0, i = r.src, m = r.meanAt, o = r.mirror ? r.dst + r.width - 1 : r.dst; w < r.width; w++) {
    out[o] = (pixels[i]! - mean[m]!) * scale;
    i += r.step;
    m++;
    o += dir;
  }
}

function rowMinusValue(pixels: ArrayLike<number>, value: number, scale: number, r: Row, out: Float32Array) {
  const dir = r.mirror ? -1 : 1;
  for (let w = 0, i = r.src, o = r.mirror ? r.dst + r.width - 1 : r.dst; w < r.width; w++) {
    out[o] = (pixels[i]! - value) * scale;
    i += r.step;
    o += dir;
  }
}
