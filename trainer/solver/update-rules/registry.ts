// Solver types as update rules, one file each, found by the name `type:` takes (Caffe's SolverRegistry).
import * as tf from '@tensorflow/tfjs-core';

import type { SolverSettings, SolverTypeName } from '../config.js';

/** The settings an update rule reads. */
export type UpdateSettings = Pick<SolverSettings, 'momentum' | 'momentum2' | 'delta' | 'rmsDecay'>;

/** One learnable parameter's update, as Caffe's ComputeUpdateValue sees it. */
export interface UpdateInput {
  /** The parameter's current value W. */
  value: tf.Tensor;
  /** Its gradient, already clipped, normalised over iter_size and regularised. */
  diff: tf.Tensor;
  /** The parameter's history blobs, `historySlots` of them, each shaped like `value`. */
  history: readonly tf.Tensor[];
  /** rate × lr_mult. */
  localRate: number;
  /** Updates done so far (Adam's bias correction uses iter + 1). */
  iter: number;
  settings: UpdateSettings;
}

export interface UpdateStep {
  /** What Caffe leaves in the diff: the amount subtracted from W. */
  step: tf.Tensor;
  /** The new history blobs, same order as the input's. */
  history: tf.Tensor[];
}

export interface UpdateOutput {
  /** W − step. */
  value: tf.Tensor;
  history: tf.Tensor[];
}

export interface UpdateRule {
  type: SolverTypeName;
  /** History blobs per parameter; a .solverstate holds slot 0 of every parameter, then slot 1, ... */
  historySlots: number;
  /** Computes the step with tfjs ops; runs inside a tf.tidy. */
  computeStep(input: UpdateInput): UpdateStep;
}

const rules = new Map<SolverTypeName, UpdateRule>();

export function registerUpdateRule(rule: UpdateRule): void {
  if (rules.has(rule.type)) throw new Error(`update rule ${rule.type} is registered twice`);
  rules.set(rule.type, rule);
}

export function updateRule(type: string): UpdateRule {
  const rule = rules.get(type as SolverTypeName);
  if (rule === undefined) {
    throw new Error(`unknown solver type "${type}"; known types: ${[...rules.keys()].join(', ')}`);
  }
  return rule;
}

/**
 * Applies one solver type's update to one parameter: returns the new value and history, and frees every
 * intermediate tensor. The inputs stay owned by the caller.
 */
export function applyUpdate(type: string, input: UpdateInput): UpdateOutput {
  const rule = updateRule(type);
  if (input.history.length !== rule.historySlots) {
    throw new Error(
      `${type} keeps ${rule.historySlots} history blobs per parameter, received ${input.history.length}`,
    );
  }
  return tf.tidy(() => {
    const { step, history } = rule.computeStep(input);
    return { value: tf.sub(input.value, step), history };
  });
}

/** A float32 scalar, as Caffe's Dtype constants are. */
export function scalar(value: number): tf.Scalar {
  return tf.scalar(value, 'float32');
}

/** Caffe's axpby: a·x + b·y, each product rounded to float32 before the sum. */
export function axpby(a: number, x: tf.Tensor, b: number, y: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(scalar(a), x), tf.mul(scalar(b), y));
}
