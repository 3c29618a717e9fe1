// Where a training iteration's memory goes, for `caffe time --memory`: the tensor bytes tfjs holds
// (tf.memory()) and the process's resident set after every layer's forward and every op of its backward,
// the highest of each per layer and phase, and what held the most tensor bytes at the peak — activations,
// what the tape keeps for backward, gradients, weights, the solver's history — beside the peak RSS, whose
// excess over the tensors is the runtime's and the allocator's (freed memory malloc has not returned).
import * as tf from '@tensorflow/tfjs-core';

import type { NetMemoryObserver } from './net.js';
import { activeTapeSavedBytes, type TapeHeld } from './tape-backward.js';

export type MemoryPhase = 'forward' | 'backward' | 'update';

export interface MemoryReading {
  tensorBytes: number;
  rssBytes: number;
}

/** What held the tensor bytes at one moment; the parts add up to tensorBytes. */
export interface MemoryHolders {
  activations: number;
  keptForBackward: number;
  gradients: number;
  weights: number;
  history: number;
}

export interface MemoryPeak extends MemoryReading {
  phase: MemoryPhase;
  /** The layer whose step it was (undefined: the update). */
  layer: string | undefined;
  holders: MemoryHolders;
}

export class MemoryProfile implements NetMemoryObserver {
  /** Per layer (net order), per phase: the highest reading during that layer's steps. */
  readonly layers: { name: string; forward?: MemoryReading; backward?: MemoryReading }[];
  /** The reading with the most tensor bytes. */
  peak: MemoryPeak | undefined;
  /** The highest RSS seen at a reading (the process's own peak, maxRSS, also counts moments between them). */
  peakRssBytes = 0;
  /** Bytes of the solver's history, once an update made it. */
  historyBytes = 0;
  private readonly weightsBytes: number;
  private readonly weights: readonly tf.Tensor[];

  constructor(layerNames: string[], weights: readonly tf.Tensor[]) {
    this.layers = layerNames.map((name) => ({ name }));
    this.weights = weights;
    this.weightsBytes = weights.reduce((sum, w) => sum + w.size * 4, 0);
  }

  forward(layer: number): void {
    this.record('forward', layer, { savedBytes: activeTapeSavedBytes(this.weights), gradientBytes: 0 });
  }

  backward(layer: number, held: TapeHeld): void {
    this.record('backward', layer, held);
  }

  /** After the solver's update: the weights and the history, and nothing else of the pass. */
  update(historyBytes: number): void {
    this.historyBytes = historyBytes;
    this.record('update', -1, { savedBytes: 0, gradientBytes: 0 });
  }

  private record(phase: MemoryPhase, layer: number, held: TapeHeld): void {
    const reading = { tensorBytes: tf.memory().numBytes, rssBytes: process.memoryUsage.rss() };
    this.peakRssBytes = Math.max(this.peakRssBytes, reading.rssBytes);
    const entry = this.layers[layer];
    if (entry && phase !== 'update') {
      const previous = entry[phase];
      entry[phase] = {
        tensorBytes: Math.max(previous?.tensorBytes ?? 0, reading.tensorBytes),
        rssBytes: Math.max(previous?.rssBytes ?? 0, reading.rssBytes),
      };
    }
    if (this.peak && this.peak.tensorBytes >= reading.tensorBytes) return;
    const fixed = this.weightsBytes + this.historyBytes;
    // The tape's saved tensors may still be blobs in use (forward); they count as kept, not twice.
    const keptForBackward = Math.min(held.savedBytes, Math.max(0, reading.tensorBytes - fixed));
    const gradients = Math.min(
      held.gradientBytes,
      Math.max(0, reading.tensorBytes - fixed - keptForBackward),
    );
    this.peak = {
      ...reading,
      phase,
      layer: entry?.name,
      holders: {
        activations: Math.max(0, reading.tensorBytes - fixed - keptForBackward - gradients),
        keptForBackward,
        gradients,
        weights: this.weightsBytes,
        history: this.historyBytes,
      },
    };
  }
}
