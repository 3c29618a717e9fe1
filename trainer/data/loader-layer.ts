// Loader options from a Data or ImageData layer's parameters, as Caffe's layers read them.
import { BadInputError } from '../contract/errors.js';
import type { LayerParameter } from '../proto/index.js';
import type { LoaderOptions } from './loader.js';
import type { Phase } from './transform.js';

export interface LayerLoaderSettings {
  /** Seed of shuffling and augmentation (the solver's random_seed, or any fixed number). */
  seed: number;
  threads?: number;
  cacheDir?: string;
  /** Shuffle a Data layer's records (Caffe reads them in key order; default false). */
  shuffleData?: boolean;
}

export function loaderOptionsFromLayer(
  layer: LayerParameter,
  phase: Phase,
  settings: LayerLoaderSettings,
): LoaderOptions {
  const where = `layer ${layer.name ?? '?'}`;
  const transform = layer.transformParam ?? {};
  const common = {
    phase,
    transform,
    seed: settings.seed,
    threads: settings.threads,
    cacheDir: settings.cacheDir,
  };
  if (layer.type === 'Data') {
    const p = layer.dataParam ?? {};
    if (!p.source) throw new BadInputError('expected data_param.source', where);
    if (p.backend !== undefined && p.backend !== 1) {
      throw new BadInputError('only backend: LMDB is supported', `${where}: data_param.backend`);
    }
    return {
      ...common,
      source: { type: 'Data', uri: p.source },
      batchSize: p.batchSize ?? 0,
      shuffle: settings.shuffleData ?? false,
      ...(p.prefetch ? { prefetch: p.prefetch } : {}),
    };
  }
  if (layer.type === 'ImageData') {
    const p = layer.imageDataParam ?? {};
    if (!p.source) throw new BadInputError('expected image_data_param.source', where);
    return {
      ...common,
      source: {
        type: 'ImageData',
        listFile: p.source,
        rootFolder: p.rootFolder ?? '',
        newHeight: p.newHeight ?? 0,
        newWidth: p.newWidth ?? 0,
        isColor: p.isColor ?? true,
      },
      batchSize: p.batchSize ?? 1,
      shuffle: p.shuffle ?? false,
    };
  }
  throw new BadInputError(`expected a Data or ImageData layer, received type '${layer.type}'`, where);
}
