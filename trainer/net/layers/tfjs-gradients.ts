// Makes tf.grads and tf.variableGrads work for every tfjs op the layers use.
//
// In Node, @tensorflow/tfjs-core registers no gradient functions by itself; the union package registers all
// of them when it loads (and, in Node, registers only the cpu backend, never selecting one). The layers
// import this module so that gradients exist whichever backend the trainer later picks.
import '@tensorflow/tfjs';
