// Caffe's SGD update in place on the native backend (InPlaceMomentum in trainer/backend/tensorflow-ops.ts).
// The parameter stays a tf.Variable and its history a tensor, as on every backend, so the net, snapshots
// and resumes see nothing different: after each update both are reads of the resource variables. Before
// each update the variables are reloaded from whichever of the two changed hands since (weights copied in,
// a solverstate restored), so the in-place copy is never stale.
import type * as tf from '@tensorflow/tfjs-core';

import { InPlaceMomentum, onNativeBackend } from '../backend/tensorflow-ops.js';

interface Slot {
  momentum: InPlaceMomentum;
  /** What the variable and the history were right after this slot's last update. */
  valueId: object | undefined;
  history: tf.Tensor | undefined;
}

type WithDataId = tf.Variable & { dataId: object };

export class InPlaceSgd {
  private readonly slots = new Map<tf.Variable, Slot>();

  /** For an SGD solver on the native backend; undefined elsewhere (the tfjs update rules run). */
  static create(solverType: string): InPlaceSgd | undefined {
    return solverType === 'SGD' && onNativeBackend() ? new InPlaceSgd() : undefined;
  }

  /**
   * history ← step + momentum·history; variable ← variable − history, where step is local_rate·diff.
   * Takes ownership of `history` and returns the new one.
   */
  update(variable: tf.Variable, history: tf.Tensor, step: tf.Tensor, momentum: number): tf.Tensor {
    let slot = this.slots.get(variable);
    if (!slot) {
      const momentumVars = InPlaceMomentum.create(variable.shape);
      if (!momentumVars) throw new Error('in-place SGD needs the native backend');
      slot = { momentum: momentumVars, valueId: undefined, history: undefined };
      this.slots.set(variable, slot);
    }
    if ((variable as WithDataId).dataId !== slot.valueId) slot.momentum.loadValue(variable);
    if (history !== slot.history) slot.momentum.loadHistory(history);
    // Let go of our own reads, so the update finds the buffers unshared and writes them in place: the
    // variable holds `step` (same shape) for the moment.
    history.dispose();
    variable.assign(step);
    slot.momentum.apply(step, momentum);
    const read = slot.momentum.read();
    variable.assign(read.value);
    read.value.dispose();
    slot.valueId = (variable as WithDataId).dataId;
    slot.history = read.history;
    return read.history;
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.momentum.dispose();
    this.slots.clear();
  }
}
