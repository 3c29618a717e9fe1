// The image shape of a Data layer, from the first record of its database: Caffe's
// DataLayer::DataLayerSetUp reads one Datum and sizes its top from it (DataTransformer::InferBlobShape),
// so a prototxt never states it.
import { BadInputError } from '../contract/errors.js';
import type { LayerParameter } from '../proto/index.js';
import { decodeInterleaved, encodedDatumIsColor } from './images.js';
import { listSource, lmdbSource, type SourcePart } from './loader-sources.js';
import { readDatum } from './records.js';

export interface RecordShape {
  channels: number;
  height: number;
  width: number;
}

/** Channels, height and width of the first record of each Data and ImageData layer among `layers`, by
 * layer name (ImageDataLayer::DataLayerSetUp reads its first image the same way). */
export async function firstRecordShapes(
  layers: LayerParameter[],
  /** Given: a layer whose first record cannot be read is reported here and left out, not an error. */
  onUnreadable?: (layer: string, error: BadInputError) => void,
): Promise<Map<string, RecordShape>> {
  const shapes = new Map<string, RecordShape>();
  for (const layer of layers) {
    const name = layer.name ?? '';
    try {
      if (layer.type === 'Data' && layer.dataParam?.source) {
        shapes.set(name, await firstRecordShape(layer.dataParam.source, layer));
      } else if (layer.type === 'ImageData' && layer.imageDataParam?.source) {
        shapes.set(name, await firstImageShape(layer));
      }
    } catch (error) {
      if (!(onUnreadable && error instanceof BadInputError)) throw error;
      onUnreadable(name, error);
    }
  }
  return shapes;
}

async function firstImageShape(layer: LayerParameter): Promise<RecordShape> {
  const param = layer.imageDataParam ?? {};
  const part = await (await listSource(param.source!, param.rootFolder ?? '')).open(0);
  try {
    const { bytes, name } = await part.read(0);
    const image = await decodeInterleaved(bytes, { color: param.isColor ?? true, where: name });
    return { channels: image.channels, height: image.height, width: image.width };
  } finally {
    await part.release();
  }
}

async function firstRecordShape(uri: string, layer: LayerParameter): Promise<RecordShape> {
  const source = await lmdbSource(uri);
  try {
    return await firstShape(await source.open(0), uri, layer);
  } finally {
    await source.close();
  }
}

async function firstShape(part: SourcePart, uri: string, layer: LayerParameter): Promise<RecordShape> {
  try {
    if (part.size === 0) throw new BadInputError('the database has no records', uri);
    const { bytes, name } = await part.read(0);
    const datum = readDatum(bytes, name);
    if (!datum.encoded) {
      return { channels: datum.channels ?? 0, height: datum.height ?? 0, width: datum.width ?? 0 };
    }
    const data = datum.data ?? new Uint8Array(0);
    const color = encodedDatumIsColor(data, layer.transformParam ?? {});
    const image = await decodeInterleaved(data, { color, where: name });
    return { channels: image.channels, height: image.height, width: image.width };
  } finally {
    await part.release();
  }
}
