// The one place the data room meets the Datum and BlobProto codecs of trainer/proto.
import { BadInputError } from '../contract/errors.js';
import {
  type BlobProto,
  type Datum,
  decodeBlobProto,
  decodeDatum,
  encodeBlobProto,
  encodeDatum,
} from '../proto/index.js';

export type { BlobProto, Datum };

/** A raw Datum as convert_imageset writes it: planar BGR (or gray) bytes, `encoded: false` set. */
export function rawDatumBytes(
  pixels: Uint8Array,
  channels: number,
  height: number,
  width: number,
  label: number,
) {
  return encodeDatum({ channels, height, width, data: pixels, label, encoded: false });
}

/** An encoded Datum as convert_imageset writes it: only data, label and `encoded: true`. */
export function encodedDatumBytes(image: Uint8Array, label: number): Uint8Array {
  return encodeDatum({ channels: 0, height: 0, width: 0, data: image, label, encoded: true });
}

export function readDatum(bytes: Uint8Array, where?: string): Datum {
  return decodeDatum(bytes, where);
}

/**
 * A raw (not encoded) Datum's values and shape: its bytes, or its float_data when it has no bytes.
 * As Caffe's DataTransformer and compute_image_mean check it, the values must fill
 * channels x height x width exactly.
 */
export function rawDatumValues(datum: Datum, where: string) {
  const { channels, height, width } = datum;
  const data = datum.data && datum.data.length > 0 ? datum.data : Float32Array.from(datum.floatData ?? []);
  if (!(channels > 0 && height > 0 && width > 0) || data.length !== channels * height * width) {
    throw new BadInputError(
      `expected channels x height x width values, received ${data.length} for ${channels}x${height}x${width}`,
      where,
    );
  }
  return { channels, height, width, data };
}

/** A mean image as compute_image_mean writes it: legacy num=1, channels, height, width and data. */
export function meanBlobBytes(
  mean: Float32Array,
  channels: number,
  height: number,
  width: number,
): Uint8Array {
  return encodeBlobProto({ num: 1, channels, height, width, data: mean });
}

/** A mean file's C, H, W and values, whichever shape form it uses. */
export function readMeanBlob(bytes: Uint8Array, where: string) {
  const blob = decodeBlobProto(bytes, where);
  const legacy = blob.num !== undefined || blob.channels !== undefined || blob.height !== undefined;
  const dims = legacy
    ? [blob.num ?? 0, blob.channels ?? 0, blob.height ?? 0, blob.width ?? 0]
    : (blob.shape?.dim ?? []).map(Number);
  const [channels, height, width] = dims.length === 4 ? dims.slice(1) : dims.slice(-3);
  const data = blob.data instanceof Float32Array ? blob.data : Float32Array.from(blob.data);
  const positive = (n: number | undefined): n is number => n !== undefined && Number.isInteger(n) && n > 0;
  if (
    !positive(channels) ||
    !positive(height) ||
    !positive(width) ||
    data.length !== channels * height * width
  ) {
    throw new BadInputError(
      `expected a mean blob of shape 1xCxHxW, received shape [${dims}] with ${data.length} values`,
      where,
    );
  }
  return { channels, height, width, data };
}
