// Layer type name → layer factory, as in Caffe's LayerRegistry. Each layer file registers itself at its
// bottom when imported; trainer/net/layers/index.ts imports them all.
import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import type { Layer, LayerContext } from './layer.js';

export type LayerFactory = (spec: LayerSpec, context: LayerContext) => Layer;

const factories = new Map<string, LayerFactory>();

export function registerLayer(type: string, factory: LayerFactory): void {
  if (factories.has(type)) throw new Error(`layer type "${type}" is registered twice`);
  factories.set(type, factory);
}

/** Builds the layer a spec describes: checks its parameters and creates its filled blobs. */
export function createLayer(spec: LayerSpec, context: LayerContext): Layer {
  const factory = factories.get(spec.type);
  if (!factory) {
    throw new BadInputError(
      `unknown layer type "${spec.type}"; known types: ${registeredLayerTypes().join(', ')}`,
      `layer "${spec.name}"`,
    );
  }
  return factory(spec, context);
}

export function registeredLayerTypes(): string[] {
  return [...factories.keys()].sort();
}
