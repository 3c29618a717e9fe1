// Image decoding, resizing and encoding as Caffe's tools do them through OpenCV: JPEGs (CMYK ones too)
// through libjpeg-turbo with OpenCV's settings (the native codec, native-codec.ts), everything else
// (PNG data, files libjpeg refuses) through sharp, made gray as OpenCV's decoders do; OpenCV's bilinear resize (resize.ts); and
// the pixel layouts Caffe wants: interleaved BGR as decoded, planar (CHW) BGR in raw Datums.
import type sharpModule from 'sharp';

import { BadInputError } from '../contract/errors.js';
import { nativeCodec } from './native-codec.js';
import { type InterleavedImage, type ResizeMode, resizeImage } from './resize.js';

export type { InterleavedImage, ResizeMode } from './resize.js';

/**
 * The most pixels a decoded image may have: sharp's default limitInputPixels (0x3fff squared), which
 * the sharp path enforces anyway, so a JPEG header cannot size the native decoder's buffer past it.
 */
export const MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;

export interface PlanarImage {
  /** Planar bytes: BGR for 3 channels, gray for 1. */
  pixels: Uint8Array;
  channels: number;
  height: number;
  width: number;
}

export interface DecodeOptions {
  /** 3-channel BGR (default) or 1-channel gray. */
  color?: boolean;
  /** Resize to width x height when both are given. */
  width?: number;
  height?: number;
  mode?: ResizeMode;
  /** What the bytes are, named in a BadInputError (see DecodeInterleavedOptions). */
  where?: string;
}

export interface DecodeInterleavedOptions {
  /** 3-channel BGR (default) or 1-channel gray. */
  color?: boolean;
  /** Decode into this buffer when it is large enough (the caller reuses it image after image). */
  into?: Uint8Array;
  /** Decode on Node's thread pool, so several images decode at once. */
  offThread?: boolean;
  /** What the bytes are (a file, a record), named in the BadInputError of an image no decoder reads. */
  where?: string;
}

/**
 * Decodes any image to interleaved BGR or gray, as cv2.imdecode would: CMYK and gray JPEGs and PNG
 * data become 3-channel colour; a truncated JPEG keeps what libjpeg could read. Throws
 * BadInputError for bytes no decoder can read, or whose header claims more than MAX_IMAGE_PIXELS.
 */
export async function decodeInterleaved(
  bytes: Uint8Array,
  options: DecodeInterleavedOptions = {},
): Promise<InterleavedImage> {
  const color = options.color ?? true;
  const frame = jpegFrame(bytes);
  if (frame && frame.width * frame.height > MAX_IMAGE_PIXELS) {
    throw new BadInputError(
      `the JPEG header says ${frame.width}x${frame.height}, more than the ${MAX_IMAGE_PIXELS} pixels an image may have`,
      options.where,
    );
  }
  if (nativeCodec && frame && [1, 3, 4].includes(frame.components) && frame.width > 0) {
    const channels = color ? 3 : 1;
    const size = frame.width * frame.height * channels;
    const out =
      options.into && options.into.length >= size ? options.into.subarray(0, size) : new Uint8Array(size);
    try {
      if (options.offThread) await nativeCodec.decodeAsync(bytes, out, !color);
      else nativeCodec.decode(bytes, out, !color);
      return { pixels: out, channels, height: frame.height, width: frame.width };
    } catch {
      // sharp reads some files libjpeg refuses, and otherwise says why it cannot.
    }
  }
  return decodeWithSharp(bytes, color, options.where);
}

let sharpLoading: Promise<typeof sharpModule> | undefined;

/** sharp, loaded when a file first needs it (with the codec built, most runs never do). */
function loadSharp(): Promise<typeof sharpModule> {
  sharpLoading ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false); // decoded images are used once; a cache only adds memory
    sharp.concurrency(1); // one libvips thread per image: the callers' images in flight are the parallelism
    return sharp;
  });
  return sharpLoading;
}

async function decodeWithSharp(bytes: Uint8Array, color: boolean, where?: string): Promise<InterleavedImage> {
  const image = await decodeColorWithSharp(bytes, where);
  return color ? image : grayAsOpenCv(image, isPng(bytes) ? 'libpng' : 'opencv');
}

/**
 * Interleaved BGR to gray as OpenCV's decoders make it for IMREAD_GRAYSCALE: its PNG decoder asks
 * libpng (png_set_rgb_to_gray with 0.299 and 0.587: coefficients of 15 fractional bits, 9797, 19234
 * and 3737, truncated), the others convert as cvtColor does (14 fractional bits, rounded). A gray
 * pixel stays itself either way. Checked pixel for pixel against cv::imread.
 */
export function grayAsOpenCv(image: InterleavedImage, rule: 'libpng' | 'opencv'): InterleavedImage {
  const { pixels, height, width } = image;
  const out = new Uint8Array(height * width);
  for (let i = 0, p = 0; i < out.length; i++, p += 3) {
    const b = pixels[p]!;
    const g = pixels[p + 1]!;
    const r = pixels[p + 2]!;
    out[i] =
      rule === 'libpng'
        ? (r * 9797 + g * 19234 + b * 3737) >> 15
        : (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14;
  }
  return { pixels: out, channels: 1, height, width };
}

/** Any image as interleaved BGR through sharp (libvips). */
async function decodeColorWithSharp(bytes: Uint8Array, where?: string): Promise<InterleavedImage> {
  const sharp = await loadSharp();
  // Caffe compat: OpenCV keeps a JPEG whose end is missing (libjpeg warns and fills the rest), so
  // only errors that leave no image at all make a file unreadable.
  let decoded: { data: Buffer; info: { channels: number; height: number; width: number } };
  try {
    // Inside the try: sharp throws some input errors (an empty buffer) before it returns a promise.
    decoded = await sharp(bytes, { failOn: 'none' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new BadInputError(`no decoder can read it: ${(error as Error).message.split('\n')[0]}`, where);
  }
  const { data, info } = decoded;
  swapRedBlue(data);
  return { pixels: data, channels: info.channels, height: info.height, width: info.width };
}

/** Decodes and, when asked, resizes: interleaved BGR or gray, as OpenCV's imread and resize give it. */
export async function decodeResized(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<InterleavedImage> {
  const image = await decodeInterleaved(bytes, {
    color: options.color ?? true,
    offThread: true,
    ...(options.where === undefined ? {} : { where: options.where }),
  });
  const { width, height } = options;
  return width && height ? resizeImage(image, width, height, options.mode) : image;
}

/** Decodes (and resizes, when asked) to planar BGR or gray. */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<PlanarImage> {
  const image = await decodeResized(bytes, options);
  return { ...image, pixels: toPlanar(image) };
}

/** Decodes, resizes and encodes as a 3-channel JPEG: the payload of an encoded Datum. */
export async function resizeToJpeg(
  bytes: Uint8Array,
  size: number,
  mode: ResizeMode,
  quality: number,
): Promise<Buffer> {
  const image = await decodeResized(bytes, { width: size, height: size, mode });
  return encodeJpeg(image, quality, { offThread: true });
}

/**
 * Encodes interleaved BGR or gray as cv2.imencode does (libjpeg's defaults: 4:2:0, standard Huffman
 * tables; the same bytes with the native codec).
 */
export function encodeJpeg(
  image: InterleavedImage,
  quality: number,
  options: { offThread?: boolean } = {},
): Promise<Buffer> {
  const { pixels, width, height, channels } = image;
  if (nativeCodec) {
    return options.offThread
      ? nativeCodec.encodeAsync(pixels, width, height, channels, quality)
      : Promise.resolve(nativeCodec.encode(pixels, width, height, channels, quality));
  }
  return encodeWithSharp(image, quality);
}

async function encodeWithSharp(image: InterleavedImage, quality: number): Promise<Buffer> {
  const { pixels, width, height, channels } = image;
  const rgb = Uint8Array.from(pixels);
  if (channels === 3) swapRedBlue(rgb);
  const sharp = await loadSharp();
  return sharp(rgb, { raw: { width, height, channels: channels as 1 | 3 } })
    .jpeg({ quality, optimiseCoding: false })
    .toBuffer();
}

/**
 * Encodes interleaved BGR or gray as a PNG, what cv2.imencode('.png') stores (OpenCV writes it with
 * zlib's fastest level; libvips's bytes differ, its pixels do not).
 */
export async function encodePng(image: InterleavedImage): Promise<Buffer> {
  const { pixels, width, height, channels } = image;
  const rgb = Uint8Array.from(pixels);
  if (channels === 3) swapRedBlue(rgb);
  const sharp = await loadSharp();
  return sharp(rgb, { raw: { width, height, channels: channels as 1 | 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/** Adds an image (interleaved BGR) to running per-position sums in planar BGR order. */
export function addInterleavedInto(sums: Float64Array, image: InterleavedImage): void {
  const area = image.width * image.height;
  if (image.channels !== 3 || sums.length !== 3 * area)
    throw new Error(`expected ${sums.length / 3} BGR pixels to sum, received ${area}x${image.channels}`);
  const bgr = image.pixels;
  for (let i = 0, p = 0; i < area; i++, p += 3) {
    sums[i]! += bgr[p]!;
    sums[area + i]! += bgr[p + 1]!;
    sums[2 * area + i]! += bgr[p + 2]!;
  }
}

/** A JPEG's frame header: size and component count. */
export interface JpegFrame {
  width: number;
  height: number;
  components: number;
}

/** Reads a JPEG's frame header by walking its markers; undefined for anything else. */
export function jpegFrame(bytes: Uint8Array): JpegFrame | undefined {
  if (!isJpeg(bytes)) return undefined;
  let at = 2;
  while (at + 9 < bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      const height = (bytes[at + 5]! << 8) | bytes[at + 6]!;
      const width = (bytes[at + 7]! << 8) | bytes[at + 8]!;
      return { width, height, components: bytes[at + 9]! };
    }
    at += 2 + length;
  }
  return undefined;
}

function isPng(bytes: Uint8Array): boolean {
  return bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8;
}

/** Interleaved (HWC) to planar (CHW), channel order kept; one channel is the same bytes. */
export function toPlanar(image: InterleavedImage): Uint8Array {
  const { pixels, channels, height, width } = image;
  if (channels === 1) return pixels;
  const area = height * width;
  const out = new Uint8Array(channels * area);
  for (let i = 0, p = 0; i < area; i++, p += channels) {
    for (let c = 0; c < channels; c++) out[c * area + i] = pixels[p + c]!;
  }
  return out;
}

function swapRedBlue(pixels: Uint8Array): void {
  for (let p = 0; p + 2 < pixels.length; p += 3) {
    const r = pixels[p]!;
    pixels[p] = pixels[p + 2]!;
    pixels[p + 2] = r;
  }
}

/** What a file holds, read from its first bytes: why a file named .JPEG needed converting. */
export function describeSource(bytes: Uint8Array): string | undefined {
  if (isPng(bytes)) return 'PNG data';
  // The frame header's component count says gray (1), colour (3) or CMYK (4).
  const components = jpegFrame(bytes)?.components;
  return components === 1 ? 'grayscale JPEG' : components === 4 ? 'CMYK JPEG' : undefined;
}

/**
 * Whether an image is one gray channel as stored: what cv::imdecode with IMREAD_UNCHANGED (Caffe's
 * DecodeDatumToCVMatNative) gives one channel for. A gray JPEG, or a PNG of colour type 0 (its
 * IHDR's byte 25; gray with alpha decodes to colour).
 */
export function storedAsGray(bytes: Uint8Array): boolean {
  if (isPng(bytes)) return bytes.length > 25 && bytes[25] === 0;
  return jpegFrame(bytes)?.components === 1;
}

/** Whether an encoded Datum decodes to colour: force_color or force_gray when set (Caffe's
 * DecodeDatumToCVMat), else as the image is (DecodeDatumToCVMatNative). */
export function encodedDatumIsColor(
  data: Uint8Array,
  force: { forceColor?: boolean; forceGray?: boolean },
): boolean {
  if (force.forceColor) return true;
  if (force.forceGray) return false;
  return !storedAsGray(data);
}
