// Caffe's compute_image_mean: the per-position mean of every record of an LMDB, as a BlobProto.
//
// A damaged database or record is bad input naming the file and page or the record key (exit 65),
// where Caffe aborts on a failed CHECK.
import { BadInputError } from '../contract/errors.js';
import { type ToolLog, toolLog } from '../glog.js';
import { isS3Uri, joinUri, storageFor } from '../storage/index.js';
import { localDb } from './db-files.js';
import { channelMeans } from './finalize.js';
import { decodeImage, jpegFrame, storedAsGray } from './images.js';
import { LmdbReader, recordKeyText } from './lmdb-reader.js';
import { meanBlobBytes, rawDatumValues, readDatum } from './records.js';

interface Shape {
  channels: number;
  height: number;
  width: number;
}

/** Caffe's compute_image_mean; `log` gets its lines with the line of tools/compute_image_mean.cpp that logs each. */
export async function computeImageMean(
  dbUri: string,
  outUri: string | undefined,
  log: ToolLog = toolLog('compute_image_mean.cpp'),
) {
  const db = await localDb(dbUri);
  let reader: LmdbReader;
  try {
    reader = await LmdbReader.open(db.path, isS3Uri(dbUri) ? joinUri(dbUri, 'data.mdb') : undefined);
  } catch (error) {
    await db.release();
    throw error;
  }
  let sum: Float32Array | undefined;
  let shape: Shape = { channels: 0, height: 0, width: 0 };
  let count = 0;
  try {
    for await (const { key, value } of reader.records()) {
      const where = `${dbUri} record ${recordKeyText(key)}`;
      const values = await datumValues(value, where, sum ? shape : undefined);
      if (!sum) {
        sum = new Float32Array(values.data.length);
        shape = values;
      } else if (values.data.length !== sum.length) {
        throw new BadInputError(
          `expected ${sum.length} values like the first record, received ${values.data.length}`,
          where,
        );
      }
      // Caffe compat: the running sum is float32, as in compute_image_mean.
      for (let i = 0; i < sum.length; i++) sum[i]! += values.data[i]!;
      count++;
      if (count % 10000 === 0) log(`Processed ${count} files.`, 95);
    }
  } finally {
    await reader.close();
    await db.release();
  }
  if (!sum || count === 0) throw new BadInputError('the database has no records', dbUri);
  if (count % 10000 !== 0) log(`Processed ${count} files.`, 101);
  const mean = sum.map((v) => v / count);
  if (outUri) {
    log(`Write to ${outUri}`, 108);
    await storageFor(outUri).write(outUri, meanBlobBytes(mean, shape.channels, shape.height, shape.width));
  }
  log(`Number of channels: ${shape.channels}`, 114);
  channelMeans(mean, shape.channels).forEach((v, c) => {
    log(`mean_value channel [${c}]: ${v}`, 119);
  });
  return { ...shape, data: mean, count };
}

/**
 * A record's pixel values (decoded when encoded, in the image's own channel count) and shape. After
 * the first record, a JPEG whose header gives another size is refused before it is decoded, so a
 * damaged header cannot size a buffer.
 */
async function datumValues(value: Uint8Array, where: string, expected: Shape | undefined) {
  const datum = readDatum(value, where);
  if (!datum.encoded) return rawDatumValues(datum, where);
  const bytes = datum.data ?? new Uint8Array();
  const color = !storedAsGray(bytes);
  const frame = jpegFrame(bytes);
  if (expected && frame && (frame.width !== expected.width || frame.height !== expected.height)) {
    throw new BadInputError(
      `expected a ${expected.width}x${expected.height} image like the first record, its JPEG header says ${frame.width}x${frame.height}`,
      where,
    );
  }
  const image = await decodeImage(bytes, { color, where });
  return { ...image, data: image.pixels };
}
