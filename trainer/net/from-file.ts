// A net spec from a prototxt file (local path or s3:// URI), and the net-level facts the `caffe` commands
// check before building layers.
import { BadInputError } from '../contract/errors.js';
import { readText } from '../files.js';
import { parseNetPrototxt } from '../proto/index.js';
import { EXTERNAL_DATA_TYPES } from './data-source.js';
import { registeredLayerTypes } from './layers/index.js';
import { buildNetSpec, type DataShapeDefaults, type LayerSpec, type NetSpec } from './spec/index.js';

export interface NetFileOptions {
  phase: number;
  /** Image size of data layers whose prototxt does not fix it (default 3x256x256). */
  dataShape?: DataShapeDefaults;
  level?: number;
  stages?: string[];
}

export async function netSpecFromFile(uri: string, options: NetFileOptions): Promise<NetSpec> {
  const net = parseNetPrototxt(await readText(uri), uri);
  return buildNetSpec(net, { ...options, fileName: uri });
}

/** Layers that read data from outside the net (Data, ImageData, ...). */
export function externalDataLayers(spec: NetSpec): LayerSpec[] {
  return spec.layers.filter((l) => EXTERNAL_DATA_TYPES.has(l.type));
}

/** Throws when a data layer has neither a registered implementation nor a DataSource to feed it. */
export function checkDataLayersAvailable(spec: NetSpec, fed: ReadonlySet<string>, fileName: string): void {
  const known = new Set(registeredLayerTypes());
  for (const layer of externalDataLayers(spec)) {
    if (known.has(layer.type) || fed.has(layer.name)) continue;
    throw new BadInputError(
      `layer "${layer.name}" (${layer.type}): this build cannot read ${layer.type} layers yet (the data ` +
        'loader is not in it); use a net whose data comes from Input or DummyData layers',
      fileName,
    );
  }
}
