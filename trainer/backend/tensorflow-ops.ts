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
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
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
