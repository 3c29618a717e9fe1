// Names of kernels we add under names of our own (tfjs has no kernel of that name), shared by the layer
// that calls one and the backend that registers it. A layer checks `tf.getKernel(name, tf.getBackend())`
// and keeps its plain tfjs ops where the current backend has no such kernel.

/**
 * Caffe's ACROSS_CHANNELS LRN forward on NCHW `x`: outputs [y, scale]. Attrs `AcrossChannelsAttrs`.
 */
export const LrnAcrossChannels = 'BreweryLrnAcrossChannels';
/** Its gradient: inputs dy, x (the bottom) and scale (the forward's second output); output dx. */
export const LrnAcrossChannelsGrad = 'BreweryLrnAcrossChannelsGrad';

export interface AcrossChannelsAttrs {
  localSize: number;
  alpha: number;
  beta: number;
  k: number;
}
