// Image decoding, resizing and encoding with sharp, and the pixel layout Caffe wants: planar (CHW)
// bytes in BGR order, as OpenCV's decoder and convert_imageset produce them.
import sharp, { type OutputInfo, type Sharp } from 'sharp';

/** `squash`: exactly size x size, aspect ratio not kept (as `convert -resize 256x256!` and Caffe's
 * convert_imageset --resize_width/--resize_height). `crop`: shorter side to size, then centre crop. */
export type ResizeMode = 'squash' | 'crop';

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
}

/** Decodes any image sharp can read (CMYK and gray JPEGs, PNG, ...) to planar BGR or gray. */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<PlanarImage> {
  const color = options.color ?? true;
  let pipeline = open(bytes);
  if (options.width && options.height)
    pipeline = resize(pipeline, options.width, options.height, options.mode);
  // A plain colour JPEG decodes to sRGB already; the conversion step is for the others.
  const plain = isJpeg(bytes) && describeSource(bytes) === undefined;
  if (!color) pipeline = pipeline.toColourspace('b-w');
  else if (!plain) pipeline = pipeline.toColourspace('srgb').removeAlpha();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { pixels: toPlanarBgr(data, info.height, info.width, info.channels), ...dims(info) };
}

/** Decodes, resizes and encodes as a 3-channel JPEG: the payload of an encoded Datum. */
export async function resizeToJpeg(
  bytes: Uint8Array,
  size: number,
  mode: ResizeMode,
  quality: number,
): Promise<Buffer> {
  let pipeline = resize(open(bytes), size, size, mode);
  // A plain colour JPEG needs no conversion step (it costs time on every image); others do.
  if (describeSource(bytes) !== undefined || !isJpeg(bytes))
    pipeline = pipeline.toColourspace('srgb').removeAlpha();
  // Standard Huffman tables, as OpenCV's imencode writes them: optimised tables cost a second pass
  // over the coefficients (about 0.7 ms of a 256x256 encode here) and change no decoded pixel.
  return pipeline.jpeg({ quality, optimiseCoding: false }).toBuffer();
}

/** Decodes an image straight into running per-position sums, in planar BGR order (no copy). */
export async function addDecodedInto(sums: Float64Array, bytes: Uint8Array): Promise<void> {
  const { data, info } = await open(bytes)
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  addRgbInto(sums, data, 1, info.width * info.height);
}

/** Adds `count` interleaved RGB images of `area` pixels each to planar BGR sums. */
function addRgbInto(sums: Float64Array, rgb: Uint8Array, count: number, area: number): void {
  if (sums.length !== 3 * area)
    throw new Error(`expected ${sums.length / 3} pixels to sum, received ${area}`);
  for (let n = 0, p = 0; n < count; n++) {
    for (let i = 0; i < area; i++, p += 3) {
      sums[i]! += rgb[p + 2]!;
      sums[area + i]! += rgb[p + 1]!;
      sums[2 * area + i]! += rgb[p]!;
    }
  }
}

/** Decodes many images into running sums as addDecodedInto does: one sharp call when they allow it. */
export async function addDecodedAllInto(sums: Float64Array, images: Uint8Array[]): Promise<void> {
  const frame = images.length > 0 ? jpegFrame(images[0]!) : undefined;
  if (frame && images.every((bytes) => isPlainColourJpeg(bytes) && sameSize(jpegFrame(bytes), frame))) {
    const rgb = await decodeJpegsRgb(images, frame.width, frame.height);
    addRgbInto(sums, rgb, images.length, frame.width * frame.height);
    return;
  }
  for (const bytes of images) await addDecodedInto(sums, bytes);
}

/** A JPEG's frame header: size and component count; `icc` when it embeds a colour profile. */
export interface JpegFrame {
  width: number;
  height: number;
  components: number;
  icc: boolean;
}

/** Reads a JPEG's frame header by walking its markers; undefined for anything else. */
export function jpegFrame(bytes: Uint8Array): JpegFrame | undefined {
  if (!isJpeg(bytes)) return undefined;
  let icc = false;
  let at = 2;
  while (at + 9 < bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (marker === 0xe2) icc = true; // APP2 holds ICC profiles (and, rarely, other things: same answer)
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      const height = (bytes[at + 5]! << 8) | bytes[at + 6]!;
      const width = (bytes[at + 7]! << 8) | bytes[at + 8]!;
      return { width, height, components: bytes[at + 9]!, icc };
    }
    at += 2 + length;
  }
  return undefined;
}

/**
 * A whole 3-component JPEG without a colour profile: sharp decodes it to sRGB with no conversion
 * step, so decoding it alone or joined with others of its size gives the same bytes. (A truncated
 * one, which libjpeg fills in with a warning, is left to the one-at-a-time path.)
 */
export function isPlainColourJpeg(bytes: Uint8Array): boolean {
  const frame = jpegFrame(bytes);
  const whole = bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9;
  return whole && frame !== undefined && frame.components === 3 && !frame.icc && frame.width > 0;
}

/**
 * Decodes plain colour JPEGs of one size (width x height) to interleaved RGB, image after image, in
 * one sharp call: sharp's fixed cost per call (about 0.8 ms of CPU here) is close to what decoding
 * a 256x256 JPEG costs.
 */
export async function decodeJpegsRgb(jpegs: Uint8Array[], width: number, height: number): Promise<Buffer> {
  const pipeline =
    jpegs.length === 1
      ? sharp(jpegs[0]!, { failOn: 'none' })
      : sharp(jpegs, { failOn: 'none', join: { across: 1 } });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height * jpegs.length || info.channels !== 3) {
    throw new Error(
      `expected ${jpegs.length} RGB images of ${width}x${height}, received ${info.width}x${info.height}x${info.channels}`,
    );
  }
  return data;
}

/** Whether two frames have the same width and height. */
export function sameSize(a: JpegFrame | undefined, b: JpegFrame): boolean {
  return a !== undefined && a.width === b.width && a.height === b.height;
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8;
}

/** Encodes planar BGR (or gray) bytes as a JPEG. */
export function encodePlanarJpeg(image: PlanarImage, quality: number): Promise<Buffer> {
  const { height, width, channels } = image;
  const interleaved = toInterleavedRgb(image.pixels, height, width, channels);
  return sharp(interleaved, { raw: { width, height, channels: channels as 1 | 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** Interleaved RGB(A) or gray bytes (HWC) to planar BGR or gray (CHW); alpha is dropped. */
export function toPlanarBgr(hwc: Uint8Array, height: number, width: number, channels: number): Uint8Array {
  const area = height * width;
  if (channels === 1) return new Uint8Array(hwc.buffer, hwc.byteOffset, area);
  const out = new Uint8Array(3 * area);
  for (let i = 0, p = 0; i < area; i++, p += channels) {
    out[i] = hwc[p + 2]!;
    out[area + i] = hwc[p + 1]!;
    out[2 * area + i] = hwc[p]!;
  }
  return out;
}

/** Planar BGR or gray (CHW) back to interleaved RGB or gray (HWC). */
export function toInterleavedRgb(
  chw: Uint8Array,
  height: number,
  width: number,
  channels: number,
): Uint8Array {
  const area = height * width;
  if (channels === 1) return chw;
  const out = new Uint8Array(3 * area);
  for (let i = 0, p = 0; i < area; i++, p += 3) {
    out[p] = chw[2 * area + i]!;
    out[p + 1] = chw[area + i]!;
    out[p + 2] = chw[i]!;
  }
  return out;
}

/** What a file holds, read from its first bytes: why a file named .JPEG needed converting. */
export function describeSource(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'PNG data';
  // The frame header's component count says gray (1), colour (3) or CMYK (4).
  const components = jpegFrame(bytes)?.components;
  return components === 1 ? 'grayscale JPEG' : components === 4 ? 'CMYK JPEG' : undefined;
}

function open(bytes: Uint8Array): Sharp {
  // Caffe compat: OpenCV keeps a JPEG whose end is missing (libjpeg warns and fills the rest), so only
  // errors that leave no image at all make a file unreadable.
  return sharp(bytes, { failOn: 'none' });
}

function resize(pipeline: Sharp, width: number, height: number, mode: ResizeMode = 'squash'): Sharp {
  return pipeline.resize(width, height, {
    fit: mode === 'crop' ? 'cover' : 'fill',
    position: 'centre',
    kernel: 'linear',
  });
}

function dims(info: OutputInfo) {
  return { channels: info.channels === 1 ? 1 : 3, height: info.height, width: info.width };
}
