// DummyData: tops of fixed shapes filled by dummy_data_param.data_filler (none: zeros; one: the same filler
// for every top; or one per top). Constant tops are made once; random ones are redrawn at every forward.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { FillerParameter } from '../../proto/messages.js';
import type { Rng } from '../../rng.js';
import { fillBlob } from '../fillers.js';
import type { LayerSpec } from '../spec/types.js';
import { atLeast, exactly, Layer, type LayerContext } from './layer.js';
import { registerLayer } from './registry.js';

export class DummyDataLayer extends Layer {
  private readonly fillers: (FillerParameter | undefined)[];
  private readonly constants: (tf.Tensor | undefined)[];
  private readonly rng: Rng;

  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: exactly(0), tops: atLeast(1) });
    this.rng = context.rng;
    const given = spec.param.dummyDataParam?.dataFiller ?? [];
    const tops = spec.tops.length;
    if (given.length !== 0 && given.length !== 1 && given.length !== tops) {
      throw new BadInputError(
        `dummy_data_param.data_filler: expected 0, 1 or ${tops} (one per top) fillers, received ${given.length}`,
        this.where,
      );
    }
    this.fillers = spec.tops.map((_, i) => (given.length === 1 ? given[0] : given[i]));
    this.constants = this.fillers.map((filler, i) =>
      (filler?.type ?? 'constant') === 'constant' ? this.draw(i) : undefined,
    );
  }

  forward(_bottoms?: tf.Tensor[], _phase?: number): tf.Tensor[] {
    return this.spec.tops.map((_, i) => {
      const constant = this.constants[i];
      return constant ? tf.clone(constant) : this.draw(i);
    });
  }

  override dispose(): void {
    super.dispose();
    for (const constant of this.constants) constant?.dispose();
  }

  private draw(top: number): tf.Tensor {
    const shape = this.topShape(top);
    const values = fillBlob(this.fillers[top], shape, this.rng, `${this.where} dummy_data_param.data_filler`);
    return tf.tensor(values, shape, 'float32');
  }
}

registerLayer('DummyData', (spec, context) => new DummyDataLayer(spec, context));
