// Caffe's compute_image_mean: the per-position mean of every record of an LMDB, as a BlobProto.
import { storageFor } from '../storage/index.js';
import { localDb } from './db-files.js';
import { channelMeans } from './finalize.js';
import { decodeImage, describeSource } from './images.js';
import { LmdbReader } from './lmdb-reader.js';
import { meanBlobBytes, readDatum } from './records.js';

export async function computeImageMean(dbUri: string, outUri: string | undefined, log = console.log) {
  const db = await localDb(dbUri);
  const reader = await LmdbReader.open(db.path);
  let sum: Float32Array | undefined;
  let shape = { channels: 0, height: 0, width: 0 };
  let count = 0;
  try {
    for await (const { key, value } of reader.records()) {
      const where = `${dbUri} record ${key}`;
      const values = await datumValues(value, where);
      if (!sum) {
        sum = new Float32Array(values.data.length);
        shape = values;
      } else if (values.data.length !== sum.length) {
        throw new Error(
          `${where}: expected ${sum.length} values like the first record, received ${values.data.length}`,
        );
      }
      // Caffe compat: the running sum is float32, as in compute_image_mean.
      for (let i = 0; i < sum.length; i++) sum[i]! += values.data[i]!;
      count++;
      if (count % 10000 === 0) log(`Processed ${count} files.`);
    }
  } finally {
    await reader.close();
    await db.release();
  }
  if (!sum || count === 0) throw new Error(`${dbUri}: the database has no records`);
  if (count % 10000 !== 0) log(`Processed ${count} files.`);
  const mean = sum.map((v) => v / count);
  if (outUri) {
    log(`Write to ${outUri}`);
    await storageFor(outUri).write(outUri, meanBlobBytes(mean, shape.channels, shape.height, shape.width));
  }
  log(`Number of channels: ${shape.channels}`);
  channelMeans(mean, shape.channels).forEach((v, c) => {
    log(`mean_value channel [${c}]: ${v}`);
  });
  return { ...shape, data: mean, count };
}

/** A record's pixel values (decoded when encoded, in the image's own channel count) and shape. */
async function datumValues(value: Uint8Array, where: string) {
  const datum = readDatum(value, where);
  if (datum.encoded) {
    const color = describeSource(datum.data ?? new Uint8Array()) !== 'grayscale JPEG';
    const image = await decodeImage(datum.data ?? new Uint8Array(), { color });
    return { ...image, data: image.pixels };
  }
  const data = datum.data && datum.data.length > 0 ? datum.data : Float32Array.from(datum.floatData ?? []);
  return { channels: datum.channels, height: datum.height, width: datum.width, data };
}
