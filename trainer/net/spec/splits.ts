// Caffe's insert_splits: a top read by more than one bottom gets a Split layer right after its producer,
// named `<blob>_<layer>_<topIndex>_split`, whose tops `<blob>_<layer>_<topIndex>_split_<k>` feed the readers
// in order. A loss weight on the original top moves to the first split top.
import { BadInputError } from '../../contract/errors.js';
import type { LayerParameter } from '../../proto/index.js';

/** The Split layers insertSplits made (as opposed to Split layers written in the prototxt). */
export const insertedSplitLayers = new WeakSet<LayerParameter>();

interface TopId {
  layer: number;
  top: number;
}

export function insertSplits(layers: LayerParameter[], fileName: string): LayerParameter[] {
  const lastProducer = new Map<string, TopId>();
  const sourceOfBottom = new Map<string, TopId>();
  const readers = new Map<string, number>();
  const key = (id: TopId) => `${id.layer}:${id.top}`;

  layers.forEach((layer, i) => {
    (layer.bottom ?? []).forEach((blob, j) => {
      const source = lastProducer.get(blob);
      if (!source) {
        throw new BadInputError(
          `unknown bottom blob "${blob}" (layer "${layer.name}", bottom index ${j}): no earlier layer produces it`,
          fileName,
        );
      }
      sourceOfBottom.set(`${i}:${j}`, source);
      readers.set(key(source), (readers.get(key(source)) ?? 0) + 1);
    });
    (layer.top ?? []).forEach((blob, j) => {
      lastProducer.set(blob, { layer: i, top: j });
    });
  });

  const splitsTaken = new Map<string, number>();
  const out: LayerParameter[] = [];
  layers.forEach((layer, i) => {
    const copy: LayerParameter = { ...layer };
    if (layer.bottom) {
      copy.bottom = layer.bottom.map((blob, j) => {
        const source = sourceOfBottom.get(`${i}:${j}`)!;
        if ((readers.get(key(source)) ?? 0) <= 1) return blob;
        const k = splitsTaken.get(key(source)) ?? 0;
        splitsTaken.set(key(source), k + 1);
        return splitBlobName(layers[source.layer]!.name ?? '', blob, source.top, k);
      });
    }
    out.push(copy);
    (layer.top ?? []).forEach((blob, j) => {
      const count = readers.get(key({ layer: i, top: j })) ?? 0;
      if (count <= 1) return;
      const producer = layer.name ?? '';
      const lossWeight = layer.lossWeight?.[j] ?? 0;
      const split: LayerParameter = {
        name: splitLayerName(producer, blob, j),
        type: 'Split',
        bottom: [blob],
        top: Array.from({ length: count }, (_, k) => splitBlobName(producer, blob, j, k)),
      };
      if (lossWeight !== 0) split.lossWeight = split.top!.map((_, k) => (k === 0 ? lossWeight : 0));
      if (layer.phase !== undefined) split.phase = layer.phase;
      insertedSplitLayers.add(split);
      out.push(split);
    });
  });
  return out;
}

export function splitLayerName(layer: string, blob: string, topIndex: number): string {
  return `${blob}_${layer}_${topIndex}_split`;
}

export function splitBlobName(layer: string, blob: string, topIndex: number, k: number): string {
  return `${splitLayerName(layer, blob, topIndex)}_${k}`;
}
