// Caffe's CopyTrainedLayersFrom checks: source layers are matched to the net by name (unmatched ones are
// ignored), and every matched layer must have the same number of blobs with the same shapes. A legacy
// blob (num/channels/height/width) matches a shape left-padded with 1s to 4 axes.
import { BadInputError } from '../../contract/errors.js';
import type { BlobProto, NetParameter } from '../../proto/index.js';
import { formatTopShape } from './log.js';
import { count, type NetSpec, type Shape } from './types.js';

export interface WeightsMatch {
  /** Layers of the weights file that the net has, in the file's order. */
  copied: string[];
  /** Source layers the net does not have ("Ignoring source layer"). */
  ignored: string[];
}

export function checkWeightsMatch(spec: NetSpec, weights: NetParameter, fileName: string): WeightsMatch {
  const targets = new Map(spec.layers.map((l) => [l.name, l]));
  const match: WeightsMatch = { copied: [], ignored: [] };
  for (const source of weights.layer ?? []) {
    const name = source.name ?? '';
    const target = targets.get(name);
    if (!target) {
      match.ignored.push(name);
      continue;
    }
    const blobs = source.blobs ?? [];
    if (blobs.length !== target.paramShapes.length) {
      throw new BadInputError(
        `layer "${name}": expected ${target.paramShapes.length} blobs as in the net, received ${blobs.length}`,
        fileName,
      );
    }
    blobs.forEach((blob, i) => {
      const expected = target.paramShapes[i]!;
      if (!blobMatchesShape(blob, expected)) {
        throw new BadInputError(
          `layer "${name}" blob ${i}: shape mismatch: the net expects ${formatTopShape(expected)}, ` +
            `the file has ${formatTopShape(blobShape(blob))}`,
          fileName,
        );
      }
      const values = blob.doubleData?.length ? blob.doubleData.length : blob.data.length;
      if (values !== count(expected)) {
        throw new BadInputError(
          `layer "${name}" blob ${i}: expected ${count(expected)} values, received ${values}`,
          fileName,
        );
      }
    });
    match.copied.push(name);
  }
  return match;
}

/** The shape a BlobProto declares: legacy 4-D when any legacy field is set, else `shape`. */
export function blobShape(blob: BlobProto): Shape {
  if (hasLegacyDims(blob)) return [blob.num ?? 0, blob.channels ?? 0, blob.height ?? 0, blob.width ?? 0];
  return blob.shape?.dim ?? [];
}

export function blobMatchesShape(blob: BlobProto, shape: Shape): boolean {
  if (hasLegacyDims(blob)) {
    if (shape.length > 4) return false;
    const padded = [...Array(4 - shape.length).fill(1), ...shape];
    return blobShape(blob).every((d, i) => d === padded[i]);
  }
  const dims = blob.shape?.dim ?? [];
  return dims.length === shape.length && dims.every((d, i) => d === shape[i]);
}

function hasLegacyDims(blob: BlobProto): boolean {
  return [blob.num, blob.channels, blob.height, blob.width].some((v) => v !== undefined);
}
