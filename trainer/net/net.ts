// A Net: the layers a NetSpec describes, built in order, with Caffe's parameter sharing, loss and outputs.
// It is the solver's TrainNet and TestNet. Weights in and out (.caffemodel) are in net-weights.ts.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../contract/errors.js';
import { DimCheckMode, type NetParameter, Phase } from '../proto/index.js';
import type { Rng } from '../rng.js';
import type {
  ForwardResult,
  LearnableParam,
  NetOutput,
  TestNet,
  TrainNet,
  TrainPass,
} from '../solver/index.js';
import { type BackwardPlan, backwardPlan } from './backward-plan.js';
import { type DataSource, SourcedDataLayer } from './data-source.js';
import { createLayer, type Layer } from './layers/index.js';
import { checkFitsWasmHeap } from './memory-estimate.js';
import { copyTrainedLayers, netParameterOf, shareTrainedLayers } from './net-weights.js';
import { count, type NetSpec, type WeightsMatch } from './spec/index.js';
import { activeTapeLength, type TapeHeld, tapedGradients } from './tape-backward.js';

export interface NetOptions {
  /** Fillers at set-up and random layers (Dropout, DummyData) draw from it. */
  rng: Rng;
  /** Data layers fed from outside, by layer name (see data-source.ts). */
  dataSources?: Readonly<Record<string, DataSource>>;
}

/** Every blob of one pass and the loss, as tensors (valid inside the tidy scope that ran the pass). */
export interface GraphResult {
  blobs: Map<string, tf.Tensor>;
  loss: tf.Scalar;
}

/** What `caffe time --memory` hears from a pass: called after each layer's forward and backward steps. */
export interface NetMemoryObserver {
  /** After layer `layer`'s forward, with the blobs no later layer reads freed. */
  forward(layer: number): void;
  /** After one op of layer `layer` was back-propagated (-1: backward is about to start), with what the tape holds. */
  backward(layer: number, held: TapeHeld): void;
}

export class Net implements TrainNet, TestNet {
  readonly name: string;
  readonly spec: NetSpec;
  readonly layers: Layer[];
  /** Variables this net uses but another net owns (shareTrainedLayersWith); dispose() leaves them alone. */
  private readonly foreign = new Set<tf.Variable>();
  /** Set while profiling memory (`caffe time --memory`). */
  memoryObserver: NetMemoryObserver | undefined;
  /** Per layer: the tape's length after its forward (which ops it recorded), for the memory observer. */
  private tapeEnds: number[] = [];

  private constructor(spec: NetSpec, layers: Layer[]) {
    this.name = spec.name;
    this.spec = spec;
    this.layers = layers;
  }

  /** Builds every layer in net order and shares parameters by ParamSpec name, as Caffe's Net::Init. */
  static fromSpec(spec: NetSpec, options: NetOptions): Net {
    // Before anything is allocated: a TRAIN net too big for wasm's heap is refused naming a batch that fits.
    if (spec.phase === Phase.TRAIN && tf.getBackend() === 'wasm') {
      const paramBytes =
        spec.layers.reduce((sum, l) => sum + l.paramShapes.reduce((s, p) => s + count(p), 0), 0) * 4;
      checkFitsWasmHeap(spec, paramBytes);
    }
    const layers: Layer[] = [];
    try {
      for (const layerSpec of spec.layers) {
        const source = options.dataSources?.[layerSpec.name];
        layers.push(
          source ? new SourcedDataLayer(layerSpec, source) : createLayer(layerSpec, { rng: options.rng }),
        );
      }
    } catch (error) {
      for (const layer of layers) layer.dispose();
      throw error;
    }
    const net = new Net(spec, layers);
    net.shareParamsByName();
    return net;
  }

  get phase(): number {
    return this.spec.phase;
  }

  layer(name: string): Layer | undefined {
    return this.layers.find((l) => l.name === name);
  }

  /**
   * The learnable parameters in Caffe's order (layer order, then blob order), a shared blob listed once under
   * its first owner. lr_mult and decay_mult default to 1; a sharer's explicit value applies to the owner.
   * Caffe compat: BatchNorm's statistics are in Caffe's list with lr_mult 0; their variables are not
   * trainable here, and we report lr_mult 0 for them whatever the prototxt says.
   */
  learnableParams(): LearnableParam[] {
    const params: LearnableParam[] = [];
    const byName = new Map<string, { param: LearnableParam; lrSet: boolean; decaySet: boolean }>();
    this.layers.forEach((layer, l) => {
      const specs = this.spec.layers[l]!.param.param ?? [];
      layer.blobs.forEach((variable, i) => {
        const paramSpec = specs[i];
        const shareName = paramSpec?.name;
        const owner = shareName ? byName.get(shareName) : undefined;
        if (owner) {
          const where = `layer "${layer.name}" param ${i} (shared "${shareName}")`;
          if (paramSpec?.lrMult !== undefined) {
            if (owner.lrSet && owner.param.lrMult !== paramSpec.lrMult && variable.trainable) {
              throw new BadInputError(
                `lr_mult: expected ${owner.param.lrMult} as the owner's, received ${paramSpec.lrMult}`,
                where,
              );
            }
            if (variable.trainable) owner.param.lrMult = paramSpec.lrMult;
            owner.lrSet = true;
          }
          if (paramSpec?.decayMult !== undefined) {
            if (owner.decaySet && owner.param.decayMult !== paramSpec.decayMult) {
              throw new BadInputError(
                `decay_mult: expected ${owner.param.decayMult} as the owner's, received ${paramSpec.decayMult}`,
                where,
              );
            }
            owner.param.decayMult = paramSpec.decayMult;
            owner.decaySet = true;
          }
          return;
        }
        const param: LearnableParam = {
          name: `${layer.name}/${i}`,
          variable,
          lrMult: variable.trainable ? (paramSpec?.lrMult ?? 1) : 0,
          decayMult: paramSpec?.decayMult ?? 1,
        };
        params.push(param);
        if (shareName) {
          byName.set(shareName, {
            param,
            lrSet: paramSpec?.lrMult !== undefined,
            decaySet: paramSpec?.decayMult !== undefined,
          });
        }
      });
    });
    return params;
  }

  /** Which layers run backward and which bottoms get gradients (from the current lr_mults). */
  backwardPlan(): BackwardPlan {
    const learnable = new Set(
      this.learnableParams()
        .filter((p) => p.lrMult !== 0 && p.variable.trainable)
        .map((p) => p.variable),
    );
    return backwardPlan(
      this.spec,
      this.layers.map((layer) => layer.blobs.some((b) => learnable.has(b))),
    );
  }

  /**
   * Runs every layer in order on the current batches. Synchronous: call it inside tf.tidy or
   * tapedGradients, after loadBatches(). A top named like its bottom (in place) replaces the blob.
   * Each layer runs in its own tidy scope, and a blob is freed as soon as no later layer reads it, so
   * the pass holds what Caffe's would (a tape still keeps what the backward pass needs). The blobs
   * returned are the net's outputs (blobs no layer reads).
   */
  runGraph(phase = this.phase): GraphResult {
    const blobs = new Map<string, tf.Tensor>();
    let loss: tf.Scalar = tf.scalar(0);
    const reads = this.blobReads();
    this.layers.forEach((layer, l) => {
      const bottoms = layer.spec.bottoms.map((name) => {
        const blob = blobs.get(name);
        if (!blob) throw new Error(`${layer.where}: bottom "${name}" was not produced`);
        return blob;
      });
      const tops = tf.tidy(() => layer.forward(bottoms, phase));
      tops.forEach((top, k) => {
        blobs.set(layer.spec.tops[k]!, top);
        const weight = layer.lossWeights[k] ?? 0;
        if (weight !== 0) {
          const previous = loss;
          loss = tf.tidy(() => tf.add(previous, tf.mul(tf.sum(top), weight)));
          previous.dispose();
        }
      });
      // Free what no later layer reads (a tensor may sit under two names: Split, in-place tops).
      const dead = new Set<tf.Tensor>([...bottoms]);
      for (const [name, tensor] of blobs) {
        if (reads.readAfter(l, name)) continue;
        blobs.delete(name);
        dead.add(tensor);
      }
      const live = new Set(blobs.values());
      for (const tensor of dead) if (!live.has(tensor)) tensor.dispose();
      this.tapeEnds[l] = activeTapeLength();
      this.memoryObserver?.forward(l);
    });
    return { blobs, loss };
  }

  /** Which blob names a later layer reads before a layer overwrites them; the net's outputs always. */
  private blobReads(): { readAfter(layer: number, name: string): boolean } {
    const layers = this.spec.layers;
    const outputs = new Set(this.spec.outputs);
    return {
      readAfter(layer: number, name: string): boolean {
        for (let j = layer + 1; j < layers.length; j++) {
          if (layers[j]!.bottoms.includes(name)) return true;
          if (layers[j]!.tops.includes(name)) return false;
        }
        return outputs.has(name);
      },
    };
  }

  /** Fetches the next batch of every data layer fed by a DataSource. */
  async loadBatches(): Promise<void> {
    for (const layer of this.layers) if (layer instanceof SourcedDataLayer) await layer.load();
  }

  /** One forward pass: the loss and every net output. */
  async forward(): Promise<ForwardResult> {
    await this.loadBatches();
    const kept = { loss: undefined as tf.Scalar | undefined, outputs: [] as tf.Tensor[] };
    tf.tidy(() => {
      const { blobs, loss } = this.runGraph();
      kept.loss = tf.keep(loss);
      kept.outputs = this.keepOutputs(blobs);
    });
    return this.readResult(kept.loss!, kept.outputs);
  }

  /** Forward, then d loss / d param for every learnable parameter (zeros where no gradient flows). */
  async forwardBackward(): Promise<TrainPass> {
    await this.loadBatches();
    const params = this.learnableParams();
    const plan = this.backwardPlan();
    const live = new Set(this.layers.filter((_, i) => plan.layerNeedsBackward[i]).flatMap((l) => l.blobs));
    const varList = params.map((p) => p.variable).filter((v) => v.trainable && live.has(v));
    const forward = () =>
      tf.tidy(() => {
        const { blobs, loss } = this.runGraph();
        return { loss, result: this.spec.outputs.map((name) => blobs.get(name)!) };
      });
    let loss: tf.Scalar;
    let outputs: tf.Tensor[];
    const grads = new Map<tf.Variable, tf.Tensor>();
    if (varList.length > 0) {
      const observer = this.memoryObserver;
      const layerOf = (tapeIndex: number) =>
        tapeIndex < 0 ? -1 : this.tapeEnds.findIndex((end) => end > tapeIndex);
      const pass = tapedGradients(
        forward,
        varList,
        observer && ((tapeIndex, held) => observer.backward(layerOf(tapeIndex), held)),
      );
      loss = pass.loss;
      outputs = pass.result;
      pass.grads.forEach((grad, i) => {
        if (grad) grads.set(varList[i]!, grad);
      });
    } else {
      ({ loss, result: outputs } = forward());
    }
    const gradients = params.map((p) => grads.get(p.variable) ?? tf.zerosLike(p.variable));
    return { ...(await this.readResult(loss, outputs)), gradients };
  }

  /** The net as a .caffemodel NetParameter: each layer's parameters with its current blobs. */
  toNetParameter(): Promise<NetParameter> {
    return netParameterOf(this);
  }

  /** Caffe's CopyTrainedLayersFrom: layers matched by name; a blob count or shape mismatch is BadInputError. */
  copyTrainedLayersFrom(weights: NetParameter, fileName = '<caffemodel>'): WeightsMatch {
    return copyTrainedLayers(this, weights, fileName);
  }

  /** Caffe's ShareTrainedLayersWith: this net uses `other`'s variables for layers of the same name. */
  shareTrainedLayersWith(other: Net): void {
    shareTrainedLayers(this, other);
  }

  /**
   * Puts `variable` in place of blob `index` of `layer` (`foreign`: another net owns it), freeing the
   * variable it replaces once no layer of this net uses it and this net owned it.
   */
  replaceBlob(layer: Layer, index: number, variable: tf.Variable, foreign: boolean): void {
    const old = layer.blobs[index];
    if (old === variable) return;
    layer.blobs[index] = variable;
    if (foreign) this.foreign.add(variable);
    if (old && !this.foreign.has(old) && !this.layers.some((l) => l.blobs.includes(old))) old.dispose();
  }

  dispose(): void {
    const own = new Set(this.layers.flatMap((l) => l.blobs).filter((b) => !this.foreign.has(b)));
    for (const variable of own) variable.dispose();
    for (const layer of this.layers) {
      layer.blobs.splice(0);
      layer.dispose(); // what else the layer holds (DummyData constants, a loaded batch)
    }
  }

  private shareParamsByName(): void {
    const owners = new Map<string, { layer: Layer; index: number }>();
    this.layers.forEach((layer, l) => {
      const specs = this.spec.layers[l]!.param.param ?? [];
      layer.blobs.forEach((variable, i) => {
        const name = specs[i]?.name;
        if (!name) return;
        const owner = owners.get(name);
        if (!owner) {
          owners.set(name, { layer, index: i });
          return;
        }
        const shared = owner.layer.blobs[owner.index]!;
        const strict = (specs[i]?.shareMode ?? DimCheckMode.STRICT) === DimCheckMode.STRICT;
        const same = shared.shape.join('x') === variable.shape.join('x');
        if (!same) {
          const countsMatch = count(shared.shape) === count(variable.shape);
          const problem = strict
            ? 'STRICT sharing needs equal shapes'
            : countsMatch
              ? 'PERMISSIVE sharing of different shapes is not supported here'
              : 'PERMISSIVE sharing needs equal counts';
          throw new BadInputError(
            `shared param "${name}": ${problem}; the owner layer "${owner.layer.name}" has ` +
              `${shared.shape.join('x')}, this layer has ${variable.shape.join('x')}`,
            `layer "${layer.name}" param ${i}`,
          );
        }
        this.replaceBlob(layer, i, shared, false);
      });
    });
  }

  /** Keeps the net output tensors (spec.outputs, alphabetical) past the tidy scope. */
  private keepOutputs(blobs: Map<string, tf.Tensor>): tf.Tensor[] {
    return this.spec.outputs.map((name) => tf.keep(blobs.get(name)!));
  }

  private async readResult(loss: tf.Scalar, outputs: tf.Tensor[]): Promise<ForwardResult> {
    const lossValue = (await loss.data())[0]!;
    loss.dispose();
    const weights = this.outputLossWeights();
    const read: NetOutput[] = [];
    for (const [k, tensor] of outputs.entries()) {
      const name = this.spec.outputs[k]!;
      read.push({ name, values: await tensor.data(), lossWeight: weights.get(name) ?? 0 });
      tensor.dispose();
    }
    return { loss: lossValue, outputs: read };
  }

  /** The loss weight of each blob, from the last top that wrote it. */
  private outputLossWeights(): Map<string, number> {
    const weights = new Map<string, number>();
    for (const layer of this.spec.layers) {
      layer.tops.forEach((top, k) => {
        weights.set(top, layer.lossWeights[k] ?? 0);
      });
    }
    return weights;
  }
}
