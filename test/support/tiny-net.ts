// The smallest net `caffe train` tests run: random images (DummyData, drawn each pass) with constant
// labels, so the loss falls quickly; batch 4, an accuracy output in the TEST phase.
import { fileURLToPath } from 'node:url';

/** The built `caffe` program, for tests that run it as a user does. */
export const CAFFE_MAIN = fileURLToPath(new URL('../../trainer/cli/main.js', import.meta.url));

export const TINY_NET = `
name: "tiny"
layer { name: "data" type: "DummyData" top: "data" top: "label"
  dummy_data_param { shape { dim: 4 dim: 1 dim: 6 dim: 6 } shape { dim: 4 }
    data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy"
  include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`;
