// Caffe's SGD update in place on the native backend (InPlaceMomentum in trainer/backend/tensorflow-ops.ts).
// The parameter stays a tf.Variable, as on every backend, so the net and snapshots see nothing different:
// after each update it is a read of its resource variable. The history lives only in its resource
// variable; the solver hands over a history tensor when it has one (at the start, after a resume) and
// asks for it when it writes a .solverstate. Before each update the value variable is reloaded if the
// tf.Variable changed hands since (weights copied in), so the in-place copy is never stale.
import type * as tf from '@tensorflow/tfjs-core';

import { InPlaceMomentum, onNativeBackend } from '../backend/tensorflow-ops.js';

interface Slot {
  momentum: InPlaceMomentum;
  /** The variable's data right after this slot's last update. */
  valueId: object | undefined;
}

type WithDataId = tf.Variable & { dataId: object };

export class InPlaceSgd {
  private readonly slots = new Map<tf.Variable, Slot>();

  /** For an SGD solver on the native backend; undefined elsewhere (the tfjs update rules run). */
  static create(solverType: string): InPlaceSgd | undefined {
    return solverType === 'SGD' && onNativeBackend() ? new InPlaceSgd() : undefined;
  }

  /**
   * V ← rate·diff + momentum·V; variable ← variable − V. `history`, when given, is V before this update
   * (the solver's, at the start or after a resume): it is taken over and disposed.
   */
  update(
    variable: tf.Variable,
    history: tf.Tensor | undefined,
    diff: tf.Tensor,
    rate: number,
    momentum: number,
  ): void {
    const slot = this.slotOf(variable);
    if ((variable as WithDataId).dataId !== slot.valueId) slot.momentum.loadValue(variable);
    if (history) {
      slot.momentum.loadHistory(history);
      history.dispose();
    }
    // Let go of the variable's own read, so the update finds the buffer unshared and writes it in place:
    // the variable holds `diff` (same shape) for the moment.
    variable.assign(diff);
    slot.momentum.apply(diff, rate, momentum);
    const value = slot.momentum.readValue();
    variable.assign(value);
    value.dispose();
    slot.valueId = (variable as WithDataId).dataId;
  }

  /** V of this parameter, as a new tensor; undefined if it has not been updated here yet. */
  history(variable: tf.Variable): tf.Tensor | undefined {
    return this.slots.get(variable)?.momentum.readHistory();
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.momentum.dispose();
    this.slots.clear();
  }

  private slotOf(variable: tf.Variable): Slot {
    let slot = this.slots.get(variable);
    if (!slot) {
      const momentum = InPlaceMomentum.create(variable.shape);
      if (!momentum) throw new Error('in-place SGD needs the native backend');
      slot = { momentum, valueId: undefined };
      this.slots.set(variable, slot);
    }
    return slot;
  }
}
