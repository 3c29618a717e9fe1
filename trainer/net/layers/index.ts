// Every layer type; importing this module registers them all. The data helper's layers (Data, ImageData,
// MemoryData) register themselves from trainer/data with the same registerLayer.
import './accuracy.js';
import './batch-norm.js';
import './concat.js';
import './convolution.js';
import './dropout.js';
import './dummy-data.js';
import './eltwise.js';
import './flatten.js';
import './inner-product.js';
import './input.js';
import './lrn.js';
import './pooling.js';
import './relu.js';
import './scale.js';
import './sigmoid.js';
import './sigmoid-cross-entropy-loss.js';
import './slice.js';
import './silence.js';
import './softmax.js';
import './softmax-with-loss.js';
import './split.js';
import './tanh.js';

export type { LayerContext } from './layer.js';
export { Layer } from './layer.js';
export type { LayerFactory } from './registry.js';
export { createLayer, registeredLayerTypes, registerLayer } from './registry.js';
