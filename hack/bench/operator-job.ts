// The CaffeTrainingJob the operator benchmark creates: a net small enough that a trainer starts in
// seconds, with a max_iter so far off that the benchmark always ends the job first.
import type { KubeObject } from '../../operator/runtime/kube-client.js';

/** TRAIN phase only, so the job needs no validation data. */
const TINY_NET = `name: "TinyNet"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { crop_size: 28 mirror: true scale: 0.00390625 mean_file: "mean.binaryproto" }
  data_param { source: "train_lmdb" batch_size: 4 backend: LMDB } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 5 stride: 2 weight_filler { type: "gaussian" std: 0.05 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "fc" type: "InnerProduct" bottom: "pool1" top: "fc"
  inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.05 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }
`;

const SOLVER = `base_lr: 0.01
momentum: 0.9
lr_policy: "fixed"
display: 20
max_iter: 100000000
snapshot: 1000
snapshot_prefix: "replaced/by/the/operator"
random_seed: 1701
solver_mode: CPU
`;

/** The job with the tiny net and solver; `spec` adds data, snapshotURI, resources and the rest. */
export function tinyTrainingJob(name: string, namespace: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'caffe.brewery.dev/v1alpha1',
    kind: 'CaffeTrainingJob',
    metadata: { name, namespace },
    spec: {
      net: { inline: TINY_NET },
      solver: { inline: SOLVER },
      credentials: { secretName: 'object-store' },
      ...spec,
    },
  };
}
