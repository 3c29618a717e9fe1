// The tests' way to real BVLC Caffe: the finder lives in hack/lib/ because hack/bench/trainer.ts uses it too.
export {
  type CaffeReference,
  caffeReference,
  caffeReferenceMissing,
} from '../../hack/lib/caffe-reference.js';
