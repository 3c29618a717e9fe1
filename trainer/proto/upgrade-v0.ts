// The V0 → V1 step of Caffe's net upgrade (BVLC/caffe src/caffe/util/upgrade_proto.cpp, UpgradeV0Net):
// a 2013-14 net's `layers { layer { type: "conv" ... } bottom: ... }` becomes V1's
// `layers { type: CONVOLUTION convolution_param { ... } }`, which upgrade.ts then takes to today's form.
// Two steps, as in Caffe: "padding" layers fold into the conv or pool layer they feed, then each
// V0LayerParameter's flat fields move into the parameter message of its type.
//
// Where Caffe logs an error ("Unknown parameter num_output for layer type relu") and carries on with a
// net it calls not fully compatible, we stop with a BadInputError naming the layer and the field: such
// a net silently loses a setting in Caffe.
import { BadInputError } from '../contract/errors.js';
import type { NetParameter, V0LayerParameter, V1LayerParameter } from './messages.js';

/** V0's type strings → V1LayerParameter.LayerType numbers (caffe.proto). */
const V0_TYPES: Record<string, number> = {
  accuracy: 1,
  bnll: 2,
  concat: 3,
  conv: 4,
  data: 5,
  dropout: 6,
  euclidean_loss: 7,
  flatten: 8,
  hdf5_data: 9,
  hdf5_output: 10,
  im2col: 11,
  images: 12,
  infogain_loss: 13,
  innerproduct: 14,
  lrn: 15,
  multinomial_logistic_loss: 16,
  pool: 17,
  relu: 18,
  sigmoid: 19,
  softmax: 20,
  softmax_loss: 21,
  split: 22,
  tanh: 23,
  window_data: 24,
};

/** True when any of the net's `layers` still holds a V0 `layer`. */
export function netNeedsV0Upgrade(net: NetParameter): boolean {
  return net.layers?.some((l) => l.layer !== undefined) ?? false;
}

/** The net with its V0 layers as V1 layers (and padding layers folded in); other fields as they were. */
export function upgradeV0Net(net: NetParameter, fileName: string): NetParameter {
  const folded = foldPaddingLayers(net, fileName);
  return {
    ...net,
    layers: folded.map(({ layer, index }) => upgradeV0Layer(layer, layerWhere(fileName, index, layer))),
  };
}

/**
 * Drops each "padding" layer and gives its pad to the conv or pool layer that reads its top, which then
 * reads the padding layer's bottom instead (Caffe's UpgradeV0PaddingLayers). Each kept layer comes with its
 * index in the file, for errors.
 */
function foldPaddingLayers(
  net: NetParameter,
  fileName: string,
): { layer: V1LayerParameter; index: number }[] {
  const layers = net.layers ?? [];
  const lastWriter = new Map<string, number>((net.input ?? []).map((name) => [name, -1]));
  const out: { layer: V1LayerParameter; index: number }[] = [];
  layers.forEach((connection, i) => {
    const v0 = connection.layer ?? {};
    const where = layerWhere(fileName, i, connection);
    const kept: V1LayerParameter | undefined =
      v0.type === 'padding'
        ? undefined
        : { ...connection, layer: { ...v0 }, bottom: [...(connection.bottom ?? [])] };
    if (kept) out.push({ layer: kept, index: i });
    (connection.bottom ?? []).forEach((blob, j) => {
      const writer = lastWriter.get(blob);
      if (writer === undefined)
        throw new BadInputError(`bottom "${blob}" is not produced by an earlier layer`, where);
      if (writer === -1) return;
      const source = layers[writer]!;
      if (source.layer?.type !== 'padding') return;
      if (v0.type !== 'conv' && v0.type !== 'pool') {
        throw new BadInputError(
          `a padding layer feeds a layer of type "${v0.type}"; only conv and pool take one`,
          where,
        );
      }
      if ((connection.bottom ?? []).length !== 1 || source.bottom?.length !== 1 || source.top?.length !== 1) {
        throw new BadInputError(
          'a padding layer and the layer it feeds must each have one bottom and one top',
          where,
        );
      }
      kept!.layer!.pad = source.layer.pad ?? 0;
      kept!.bottom![j] = source.bottom[0]!;
    });
    for (const blob of connection.top ?? []) lastWriter.set(blob, i);
  });
  return out;
}

/** One V0 layer as a V1 layer (Caffe's UpgradeV0LayerParameter). */
function upgradeV0Layer(connection: V1LayerParameter, where: string): V1LayerParameter {
  const out: V1LayerParameter = {};
  if (connection.bottom?.length) out.bottom = [...connection.bottom];
  if (connection.top?.length) out.top = [...connection.top];
  const v0 = connection.layer;
  if (!v0) return out;
  const type = v0.type ?? '';
  if (v0.name !== undefined) out.name = v0.name;
  if (v0.type !== undefined) {
    const v1Type = V0_TYPES[type];
    if (v1Type === undefined) throw new BadInputError(`unknown V0 layer type "${type}"`, where);
    out.type = v1Type;
  }
  if (v0.blobs?.length) out.blobs = v0.blobs;
  if (v0.blobsLr?.length) out.blobsLr = [...v0.blobsLr];
  if (v0.weightDecay?.length) out.weightDecay = [...v0.weightDecay];

  const notFor = (field: keyof V0LayerParameter) =>
    new BadInputError(`V0 parameter ${snake(field)} does not apply to layer type "${type}"`, where);
  // Each V0 field goes into the parameter message of the layer types that have it.
  const param = (name: keyof V1LayerParameter) => {
    const existing = out[name] as Record<string, unknown> | undefined;
    if (existing) return existing;
    const created: Record<string, unknown> = {};
    (out as Record<string, unknown>)[name] = created;
    return created;
  };
  const move = (
    field: keyof V0LayerParameter,
    targets: Record<string, [keyof V1LayerParameter, string, 'repeated'?]>,
  ) => {
    const value = v0[field];
    if (value === undefined) return;
    const target = targets[type];
    if (!target) throw notFor(field);
    const [message, key, repeated] = target;
    const p = param(message);
    p[key] = repeated ? [...((p[key] as unknown[]) ?? []), value] : value;
  };
  const convOrIp = (key: string) => ({
    conv: ['convolutionParam', key] as [keyof V1LayerParameter, string],
    innerproduct: ['innerProductParam', key] as [keyof V1LayerParameter, string],
  });
  move('numOutput', convOrIp('numOutput'));
  move('biasterm', convOrIp('biasTerm'));
  move('weightFiller', convOrIp('weightFiller'));
  move('biasFiller', convOrIp('biasFiller'));
  move('pad', { conv: ['convolutionParam', 'pad', 'repeated'], pool: ['poolingParam', 'pad'] });
  move('kernelsize', {
    conv: ['convolutionParam', 'kernelSize', 'repeated'],
    pool: ['poolingParam', 'kernelSize'],
  });
  move('group', { conv: ['convolutionParam', 'group'] });
  move('stride', { conv: ['convolutionParam', 'stride', 'repeated'], pool: ['poolingParam', 'stride'] });
  move('pool', { pool: ['poolingParam', 'pool'] }); // MAX, AVE, STOCHASTIC: the same numbers in both enums
  move('dropoutRatio', { dropout: ['dropoutParam', 'dropoutRatio'] });
  move('localSize', { lrn: ['lrnParam', 'localSize'] });
  move('alpha', { lrn: ['lrnParam', 'alpha'] });
  move('beta', { lrn: ['lrnParam', 'beta'] });
  move('k', { lrn: ['lrnParam', 'k'] });
  move('source', {
    data: ['dataParam', 'source'],
    hdf5_data: ['hdf5DataParam', 'source'],
    images: ['imageDataParam', 'source'],
    window_data: ['windowDataParam', 'source'],
    infogain_loss: ['infogainLossParam', 'source'],
  });
  if (v0.scale !== undefined) param('transformParam').scale = v0.scale;
  if (v0.meanfile !== undefined) param('transformParam').meanFile = v0.meanfile;
  move('batchsize', {
    data: ['dataParam', 'batchSize'],
    hdf5_data: ['hdf5DataParam', 'batchSize'],
    images: ['imageDataParam', 'batchSize'],
    window_data: ['windowDataParam', 'batchSize'],
  });
  if (v0.cropsize !== undefined) param('transformParam').cropSize = v0.cropsize;
  if (v0.mirror !== undefined) param('transformParam').mirror = v0.mirror;
  move('randSkip', { data: ['dataParam', 'randSkip'], images: ['imageDataParam', 'randSkip'] });
  move('shuffleImages', { images: ['imageDataParam', 'shuffle'] });
  move('newHeight', { images: ['imageDataParam', 'newHeight'] });
  move('newWidth', { images: ['imageDataParam', 'newWidth'] });
  move('concatDim', { concat: ['concatParam', 'concatDim'] });
  move('detFgThreshold', { window_data: ['windowDataParam', 'fgThreshold'] });
  move('detBgThreshold', { window_data: ['windowDataParam', 'bgThreshold'] });
  move('detFgFraction', { window_data: ['windowDataParam', 'fgFraction'] });
  move('detContextPad', { window_data: ['windowDataParam', 'contextPad'] });
  move('detCropMode', { window_data: ['windowDataParam', 'cropMode'] });
  if (v0.hdf5OutputParam !== undefined) {
    if (type !== 'hdf5_output') throw notFor('hdf5OutputParam');
    out.hdf5OutputParam = v0.hdf5OutputParam;
  }
  return out;
}

/** Where a layer is, for errors: `file: layers[i] ("name")`. */
function layerWhere(fileName: string, index: number, connection: V1LayerParameter): string {
  const name = connection.layer?.name;
  return `${fileName}: layers[${index}]${name ? ` ("${name}")` : ''}`;
}

/** camelCase → Caffe's snake_case field name, for messages. */
function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
