// TensorFlow ops that tfjs has no op for, run directly through the native binding when it is the backend
// that runs (tfjs-node's NodeJSKernelBackend.executeSingleOutput runs any registered TensorFlow op by name
// with its attributes, as tfjs-node's own kernels do). Each function returns undefined on any other
// backend, and the caller computes the same thing with tfjs ops.
import * as tf from '@tensorflow/tfjs-core';

interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

interface NativeBackend {
  binding: {
    TF_ATTR_TYPE: number;
    TF_ATTR_SHAPE: number;
    TF_ATTR_STRING: number;
    TF_ATTR_BOOL: number;
    TF_FLOAT: number;
    executeOp(name: string, attrs: OpAttr[], inputIds: number[], outputs: number): unknown[];
  };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  getInputTensorIds(inputs: tf.Tensor[]): number[];
}

function nativeBackend(): NativeBackend | undefined {
  return tf.getBackend() === 'tensorflow' ? (tf.backend() as unknown as NativeBackend) : undefined;
}

/** True where the native backend runs: layers use it to pick the data layout TensorFlow's CPU kernels want. */
export function onNativeBackend(): boolean {
  return nativeBackend() !== undefined;
}

/**
 * dy where y > 0, else 0, in one pass: TensorFlow's ReluGrad (tensorflow/core/kernels/relu_op.h). tfjs
 * writes the same as step, cast and multiply, three passes over the blob.
 */
export function nativeReluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor | undefined {
  const backend = nativeBackend();
  if (!backend || dy.dtype !== 'float32' || y.dtype !== 'float32') return undefined;
  const { TF_ATTR_TYPE, TF_FLOAT } = backend.binding;
  return backend.executeSingleOutput(
    'ReluGrad',
    [{ name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT }],
    [dy, y],
  );
}

let resourceCount = 0;

/**
 * One parameter blob and its momentum history as TensorFlow resource variables, so that Caffe's SGD
 * update (V ← local_rate·diff + momentum·V; W ← W − V) runs as one in-place pass:
 * ResourceApplyKerasMomentum (tensorflow/core/kernels/training_ops.cc: accum ← accum·momentum −
 * grad·lr; var ← var + accum) with accum = −V, the same products and sums as Caffe's, negated, so the
 * same roundings. Done with tfjs ops (update-rules/sgd.ts) it is four new tensors per step, each a fresh
 * allocation the size of the blob: for CaffeNet's 61M parameters, about four times the memory traffic. TensorFlow copies a variable
 * before updating it while anything else still reads it, so the result is right whoever holds a read;
 * it is in place when nothing does.
 */
export class InPlaceMomentum {
  private constructor(
    private readonly backend: NativeBackend,
    private readonly value: tf.Tensor,
    /** −V: Caffe's history, negated. */
    private readonly negatedHistory: tf.Tensor,
  ) {}

  /** A pair of resource variables of this shape on the native backend; undefined on any other. */
  static create(shape: readonly number[]): InPlaceMomentum | undefined {
    const backend = nativeBackend();
    if (!backend) return undefined;
    const { TF_ATTR_TYPE, TF_ATTR_SHAPE, TF_ATTR_STRING, TF_FLOAT } = backend.binding;
    const handle = () =>
      backend.executeSingleOutput(
        'VarHandleOp',
        [
          { name: 'dtype', type: TF_ATTR_TYPE, value: TF_FLOAT },
          { name: 'shape', type: TF_ATTR_SHAPE, value: [...shape] },
          { name: 'container', type: TF_ATTR_STRING, value: '' },
          { name: 'shared_name', type: TF_ATTR_STRING, value: `brewery_momentum_${resourceCount++}` },
        ],
        [],
      );
    return new InPlaceMomentum(backend, handle(), handle());
  }

  /** Makes the value variable hold this tensor (TensorFlow shares the buffer until one side writes). */
  loadValue(value: tf.Tensor): void {
    this.assign(this.value, value);
  }

  /** Makes the history Caffe's V of this tensor. */
  loadHistory(history: tf.Tensor): void {
    const negated = tf.neg(history);
    this.assign(this.negatedHistory, negated);
    negated.dispose();
  }

  /** V ← rate·gradient + momentum·V; value ← value − V. */
  apply(gradient: tf.Tensor, rate: number, momentum: number): void {
    const b = this.backend.binding;
    const lr = tf.scalar(rate, 'float32');
    const m = tf.scalar(momentum, 'float32');
    this.run(
      'ResourceApplyKerasMomentum',
      [
        { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
        { name: 'use_locking', type: b.TF_ATTR_BOOL, value: false },
        { name: 'use_nesterov', type: b.TF_ATTR_BOOL, value: false },
      ],
      [this.value, this.negatedHistory, lr, gradient, m],
    );
    tf.dispose([lr, m]);
  }

  /** The current value, sharing the variable's buffer. */
  readValue(): tf.Tensor {
    return this.readVariable(this.value);
  }

  /** Caffe's V, as a new tensor. */
  readHistory(): tf.Tensor {
    const negated = this.readVariable(this.negatedHistory);
    const history = tf.neg(negated);
    negated.dispose();
    return history;
  }

  dispose(): void {
    const b = this.backend.binding;
    for (const handle of [this.value, this.negatedHistory]) {
      this.run(
        'DestroyResourceOp',
        [{ name: 'ignore_lookup_error', type: b.TF_ATTR_BOOL, value: true }],
        [handle],
      );
      handle.dispose();
    }
  }

  private assign(handle: tf.Tensor, value: tf.Tensor): void {
    const b = this.backend.binding;
    this.run(
      'AssignVariableOp',
      [
        { name: 'dtype', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
        { name: 'validate_shape', type: b.TF_ATTR_BOOL, value: false },
      ],
      [handle, value],
    );
  }

  private readVariable(handle: tf.Tensor): tf.Tensor {
    const b = this.backend.binding;
    return this.backend.executeSingleOutput(
      'ReadVariableOp',
      [{ name: 'dtype', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }],
      [handle],
    );
  }

  /** An op with no outputs. */
  private run(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): void {
    this.backend.binding.executeOp(name, attrs, this.backend.getInputTensorIds(inputs), 0);
  }
}
