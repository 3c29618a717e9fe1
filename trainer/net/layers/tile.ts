// Tile: the bottom repeated tile_param.tiles times along tile_param.axis, whole blocks one after another.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class TileLayer extends Layer {
  private readonly reps: number[];

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const bottom = this.bottomShape(0);
    const top = this.topShape(0);
    this.reps = top.map((d, i) => d / bottom[i]!);
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.tile(x!, this.reps)];
  }
}

registerLayer('Tile', (spec) => new TileLayer(spec));
