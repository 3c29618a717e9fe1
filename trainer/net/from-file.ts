// A net spec from a prototxt file (local path or s3:// URI), and the net-level facts the `caffe` commands
// check before building layers.
import type { BadInputError } from '../contract/errors.js';
import { firstRecordShapes } from '../data/first-record.js';
import { readText } from '../files.js';
import { type NetParameter, parseNetPrototxt } from '../proto/index.js';
import { EXTERNAL_DATA_TYPES } from './data-source.js';
import {
  buildNetSpec,
  type DataShapeDefaults,
  filterLayers,
  type LayerSpec,
  type NetSpec,
} from './spec/index.js';

export interface NetFileOptions {
  phase: number;
  /** `--data-shape`: the image size of every Data layer instead of its first record's. */
  dataShape?: DataShapeDefaults;
  /** Given (`caffe time`, which needs only shapes): a data layer whose first record cannot be read is
   * reported here and takes the default shape, instead of failing. */
  onUnreadable?: (layer: string, error: BadInputError) => void;
  level?: number;
  stages?: string[];
}

export async function netSpecFromFile(uri: string, options: NetFileOptions): Promise<NetSpec> {
  const net = parseNetPrototxt(await readText(uri), uri);
  const recordShapes = options.dataShape
    ? new Map()
    : await dataLayerShapes(net, options, uri, options.onUnreadable);
  return buildNetSpec(net, { ...options, recordShapes, fileName: uri });
}

/** The first record's shape of each Data/ImageData layer of the net in this phase, level and stages. */
export function dataLayerShapes(
  net: NetParameter,
  options: { phase: number; level?: number; stages?: string[] },
  fileName: string,
  onUnreadable?: (layer: string, error: BadInputError) => void,
): Promise<Map<string, DataShapeDefaults>> {
  const state = {
    phase: options.phase,
    level: options.level ?? net.state?.level ?? 0,
    stages: [...(net.state?.stage ?? []), ...(options.stages ?? [])],
  };
  return firstRecordShapes(filterLayers(net, state, fileName), onUnreadable);
}

/** Layers that read data from outside the net (Data, ImageData, ...). */
export function externalDataLayers(spec: NetSpec): LayerSpec[] {
  return spec.layers.filter((l) => EXTERNAL_DATA_TYPES.has(l.type));
}
