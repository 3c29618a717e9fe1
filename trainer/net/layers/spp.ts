// SPP (spatial pyramid pooling): one Pooling layer per pyramid level, as spec/rules/spp.ts sets them up,
// each top flattened and all concatenated along axis 1 (one level: the Pooling top as it is).
import * as tf from '@tensorflow/tfjs-core';

import { sppLevelParameter, sppLevelShapes } from '../spec/rules/spp.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { PoolingLayer } from './pooling.js';
import { registerLayer } from './registry.js';

export class SPPLayer extends Layer {
  private readonly levels: PoolingLayer[];

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const bottom = this.bottomShape(0);
    const shapes = sppLevelShapes({
      layer: spec.param,
      where: this.where,
      name: spec.name,
      bottomShapes: [bottom],
      topCount: 1,
      phase: 0,
      dataShape: { channels: 0, height: 0, width: 0 },
    });
    this.levels = shapes.map((shape, level) => {
      const param = sppLevelParameter(spec.param, level, bottom[2]!, bottom[3]!);
      const levelSpec: LayerSpec = {
        ...spec,
        name: param.name!,
        type: 'Pooling',
        topShapes: [shape],
        paramShapes: [],
        lossWeights: [0],
        param,
      };
      return new PoolingLayer(levelSpec);
    });
  }

  override dispose(): void {
    super.dispose();
    for (const level of this.levels) level.dispose();
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const pooled = this.levels.map((level) => level.forward([x!])[0]!);
    if (pooled.length === 1) return pooled;
    const n = this.bottomShape(0)[0]!;
    return [
      tf.concat(
        pooled.map((p) => tf.reshape(p, [n, -1])),
        1,
      ),
    ];
  }
}

registerLayer('SPP', (spec) => new SPPLayer(spec));
