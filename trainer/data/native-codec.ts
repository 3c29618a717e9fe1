// The native image codec (trainer/data/native/codec.c): libjpeg-turbo with OpenCV's settings, so its
// pixels equal cv2.imdecode's and its bytes cv2.imencode's; and the loops of the bilinear resize and
// of the loader's transform.
// Built into the cache by hack/native/codec.sh (`npm run setup`); when it is missing, images.ts
// uses sharp and resize.ts its own loops instead.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface NativeCodec {
  /** Decodes into `out` (interleaved BGR, or gray; exactly width x height x channels bytes, from
   * the frame header); returns libjpeg's warning count. Throws when no image, or one of another
   * size, comes out. */
  decode(jpeg: Uint8Array, out: Uint8Array, gray: boolean): number;
  /** decode on Node's thread pool. */
  decodeAsync(jpeg: Uint8Array, out: Uint8Array, gray: boolean): Promise<number>;
  /** Encodes interleaved BGR (or gray) bytes with libjpeg's defaults at `quality`. */
  encode(pixels: Uint8Array, width: number, height: number, channels: number, quality: number): Buffer;
  encodeAsync(
    pixels: Uint8Array,
    width: number,
    height: number,
    channels: number,
    quality: number,
  ): Promise<Buffer>;
  /** resize.ts's two passes over taps it computed: per output column the source offsets of the
   * two taps and their weights, per output row the upper source row (unclamped) and the weights. */
  resizeRows(
    src: Uint8Array,
    stride: number,
    srcHeight: number,
    channels: number,
    xFirst: Int32Array,
    xSecond: Int32Array,
    xFirstWeight: Int32Array,
    xSecondWeight: Int32Array,
    yRow: Int32Array,
    yFirstWeight: Int32Array,
    ySecondWeight: Int32Array,
    out: Uint8Array,
  ): void;
  /** transform.ts's transformInterleavedInto (`mean` null when there is no mean image). */
  transformInterleaved(
    hwc: Uint8Array,
    channels: number,
    height: number,
    width: number,
    hOff: number,
    wOff: number,
    outHeight: number,
    outWidth: number,
    mirror: boolean,
    scale: number,
    mean: Float32Array | null,
    meanValues: Float64Array,
    out: Float32Array,
    outOffset: number,
  ): void;
  libjpegTurboVersion: number;
}

/** Where the addon is: $BREWERY_CODEC_ADDON (`none` turns it off), else the cache. */
function codecAddonPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.BREWERY_CODEC_ADDON)
    return env.BREWERY_CODEC_ADDON === 'none' ? undefined : env.BREWERY_CODEC_ADDON;
  const cache = env.BREWERY_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'brewery');
  return join(cache, 'native', 'codec-current', 'brewery_codec.node');
}

function load(): NativeCodec | undefined {
  const path = codecAddonPath();
  if (!path) return undefined;
  if (!existsSync(path)) {
    if (process.env.BREWERY_CODEC_ADDON) throw new Error(`BREWERY_CODEC_ADDON: no codec addon at ${path}`);
    return undefined;
  }
  return createRequire(import.meta.url)(path) as NativeCodec;
}

/** The codec, or undefined when it is not built (or turned off). */
export const nativeCodec: NativeCodec | undefined = load();
