// Bilinear resizing of interleaved 8-bit pixels as OpenCV's cv::resize computes it with
// INTER_LINEAR, which Caffe's convert_imageset and ImageData layer call: pixel centres aligned,
// edges replicated, 11-bit fixed-point weights, a horizontal pass then a vertical one. The passes run
// in the native codec when it is built (ten times faster), in JavaScript otherwise: the same values.
import { nativeCodec } from './native-codec.js';

/** `squash`: exactly width x height, aspect ratio not kept (as `convert -resize 256x256!` and Caffe's
 * convert_imageset --resize_width/--resize_height). `crop`: shorter side to size, then centre crop. */
export type ResizeMode = 'squash' | 'crop';

/** Interleaved pixels (H x W x C): BGR for 3 channels, gray for 1. */
export interface InterleavedImage {
  pixels: Uint8Array;
  channels: number;
  height: number;
  width: number;
}

const BITS = 11;
const ONE = 1 << BITS;

/** Resizes to width x height (`squash`), or covers it and keeps the centre (`crop`). */
export function resizeImage(
  image: InterleavedImage,
  width: number,
  height: number,
  mode: ResizeMode = 'squash',
): InterleavedImage {
  if (image.width === width && image.height === height) return image;
  let scaledWidth = width;
  let scaledHeight = height;
  if (mode === 'crop') {
    const scale = Math.max(width / image.width, height / image.height);
    scaledWidth = Math.max(width, Math.round(image.width * scale));
    scaledHeight = Math.max(height, Math.round(image.height * scale));
  }
  const left = (scaledWidth - width) >> 1;
  const top = (scaledHeight - height) >> 1;
  const c = image.channels;
  const xs = taps(image.width, scaledWidth, left, width, true);
  const ys = taps(image.height, scaledHeight, top, height, false);
  // Per output column: the source offsets of its two taps and their weights. Past the right edge
  // both taps are the last column (the second's weight is 0 there).
  const rowValues = width * c;
  const first = new Int32Array(width);
  const second = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    first[x] = xs.index[x]! * c;
    second[x] = Math.min(xs.index[x]! + 1, image.width - 1) * c;
  }
  const horizontal: Horizontal = {
    src: image.pixels,
    stride: image.width * c,
    channels: c,
    first,
    second,
    firstWeight: xs.first,
    secondWeight: xs.second,
  };
  const out = new Uint8Array(height * rowValues);
  if (nativeCodec) {
    const { src, stride } = horizontal;
    nativeCodec.resizeRows(
      src,
      stride,
      image.height,
      c,
      first,
      second,
      xs.first,
      xs.second,
      ys.index,
      ys.first,
      ys.second,
      out,
    );
  } else resizePasses(horizontal, ys, image.height, out);
  return { pixels: out, channels: c, height, width };
}

/** Both passes in JavaScript, row by row: what the native codec's resizeRows does. */
function resizePasses(horizontal: Horizontal, ys: Taps, srcHeight: number, out: Uint8Array): void {
  const rowValues = horizontal.first.length * horizontal.channels;
  const height = ys.index.length;
  // The two source rows the current output row blends, resized horizontally; reused across rows.
  let upper = new Int32Array(rowValues);
  let lower = new Int32Array(rowValues);
  let upperRow = -1;
  let lowerRow = -1;
  for (let y = 0; y < height; y++) {
    const y0 = clamp(ys.index[y]!, srcHeight);
    const y1 = clamp(ys.index[y]! + 1, srcHeight);
    if (y0 !== upperRow) {
      if (y0 === lowerRow) {
        const t = upper;
        upper = lower;
        lower = t;
        lowerRow = -1;
      } else resizeRow(horizontal, y0, upper);
      upperRow = y0;
    }
    if (y1 !== lowerRow) {
      if (y1 === upperRow) lower.set(upper);
      else resizeRow(horizontal, y1, lower);
      lowerRow = y1;
    }
    blendRows(upper, lower, ys.first[y]!, ys.second[y]!, out, y * rowValues);
  }
}

interface Taps {
  index: Int32Array;
  first: Int32Array;
  second: Int32Array;
}

interface Horizontal {
  src: Uint8Array;
  stride: number;
  channels: number;
  first: Int32Array;
  second: Int32Array;
  firstWeight: Int32Array;
  secondWeight: Int32Array;
}

/** One source row resized horizontally: values scaled by 2^11. */
function resizeRow(h: Horizontal, row: number, into: Int32Array): void {
  const { src, first, second, firstWeight, secondWeight } = h;
  const base = row * h.stride;
  const width = first.length;
  if (h.channels === 3) {
    // The common case unrolled: one lookup of offsets and weights per pixel, not per value.
    for (let x = 0, o = 0; x < width; x++, o += 3) {
      const p = base + first[x]!;
      const q = base + second[x]!;
      const a = firstWeight[x]!;
      const b = secondWeight[x]!;
      into[o] = src[p]! * a + src[q]! * b;
      into[o + 1] = src[p + 1]! * a + src[q + 1]! * b;
      into[o + 2] = src[p + 2]! * a + src[q + 2]! * b;
    }
    return;
  }
  const c = h.channels;
  for (let x = 0, o = 0; x < width; x++) {
    for (let k = 0; k < c; k++, o++) {
      into[o] = src[base + first[x]! + k]! * firstWeight[x]! + src[base + second[x]! + k]! * secondWeight[x]!;
    }
  }
}

/** The vertical pass, as OpenCV computes it on x86 (its vector path): 16-bit high products, then a
 * rounding shift. The weights sum to 2^11, so each value stays within 0..255. */
function blendRows(upper: Int32Array, lower: Int32Array, a: number, b: number, out: Uint8Array, at: number) {
  for (let i = 0; i < upper.length; i++) {
    out[at + i] = ((((upper[i]! >> 4) * a) >> 16) + (((lower[i]! >> 4) * b) >> 16) + 2) >> 2;
  }
}

/**
 * For output positions start..start+count of a `dst`-long axis resized from `src`: the left (or
 * upper) source index and the fixed-point weights of it and of the next one, as OpenCV computes
 * them: the position in float32; horizontally a position past an edge is pinned to the edge pixel,
 * vertically the rows are clamped instead and the weights kept (which rounds differently).
 */
function taps(src: number, dst: number, start: number, count: number, horizontal: boolean): Taps {
  const index = new Int32Array(count);
  const first = new Int32Array(count);
  const second = new Int32Array(count);
  const scale = 1 / (dst / src); // OpenCV's scale_x: the inverse of its inv_scale_x
  for (let d = 0; d < count; d++) {
    let f = Math.fround((d + start + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (horizontal && s < 0) {
      s = 0;
      f = 0;
    }
    if (horizontal && s >= src - 1) {
      s = src - 1;
      f = 0;
    }
    index[d] = s;
    first[d] = roundHalfEven(Math.fround(1 - f) * ONE);
    second[d] = roundHalfEven(f * ONE);
  }
  return { index, first, second };
}

/** A row index clamped into 0..size-1 (OpenCV replicates the edge rows). */
function clamp(i: number, size: number): number {
  return i < 0 ? 0 : i >= size ? size - 1 : i;
}

/** cvRound: to the nearest integer, ties to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
