// `caffe classify --model=deploy.prototxt --weights=W.caffemodel [flags] IMAGE...`: the top 5 classes of
// each image, with the preprocessing of Caffe's Python classifier (resize, centre crop or ten crops, mean)
// and the output of its cpp_classification example, or JSON. Images may be local paths or s3:// URIs.
import * as tf from '@tensorflow/tfjs-core';

import { initBackend } from '../../backend/index.js';
import { type FloatImage, floatImage } from '../../classify/image.js';
import { checkMean, type Mean, meanFromBlob, meanFromValues } from '../../classify/mean.js';
import {
  averageRows,
  type ImagePredictions,
  jsonPredictions,
  parseLabels,
  predictionLines,
  topK,
} from '../../classify/predictions.js';
import {
  type ClassifySettings,
  checkImageDims,
  cropBatch,
  defaultImageDims,
  type InputSize,
  parseImageDims,
} from '../../classify/prepare.js';
import { BadInputError, ExitCode, UsageError } from '../../contract/errors.js';
import { decodeImage } from '../../data/images.js';
import { readBytes, readText } from '../../files.js';
import type { InputLayer } from '../../net/layers/input.js';
import { Net } from '../../net/net.js';
import { buildNetSpec, count, type NetSpec } from '../../net/spec/index.js';
import {
  decodeBlobProto,
  decodeNetParameter,
  type NetParameter,
  Phase,
  parseNetPrototxt,
} from '../../proto/index.js';
import { Rng } from '../../rng.js';
import { formatLogLine } from '../../solver/index.js';
import { registerCommand } from '../command.js';
import { parseFlags } from '../flags.js';

const usage =
  'caffe classify --model=deploy.prototxt --weights=W.caffemodel [--mean=mean.binaryproto | --mean-value=B,G,R] ' +
  '[--labels=synset_words.txt] [--image-dims=H,W] [--oversample] [--json] ' +
  '[--backend=auto|tensorflow|wasm|cpu] IMAGE...';

const TOP_K = 5;
// Fillers of layers the weights file lacks draw from it (Caffe leaves them at their fillers too).
const SEED = 1701;

async function run(argv: string[]): Promise<number> {
  const { values, positionals: images } = parseFlags(
    argv,
    {
      model: { type: 'string' },
      weights: { type: 'string' },
      mean: { type: 'string' },
      'mean-value': { type: 'string' },
      labels: { type: 'string' },
      'image-dims': { type: 'string' },
      oversample: { type: 'boolean' },
      json: { type: 'boolean' },
      backend: { type: 'string' },
    },
    usage,
  );
  if (!values.model) throw new UsageError(`--model is required\nusage: ${usage}`);
  if (!values.weights) throw new UsageError(`--weights is required\nusage: ${usage}`);
  if (images.length === 0) throw new UsageError(`expected at least one IMAGE\nusage: ${usage}`);
  if (values.mean && values['mean-value']) {
    throw new UsageError(`--mean and --mean-value cannot be used together\nusage: ${usage}`);
  }
  const log = (source: string, message: string) =>
    process.stderr.write(`${formatLogLine({ severity: 'I', source, message }, Date.now(), process.pid)}\n`);

  const model = parseNetPrototxt(await readText(values.model), values.model);
  const input = netInput(model, values.model);
  const settings = await classifySettings(input, values);
  const crops = settings.oversample ? 10 : 1;
  const weights = decodeNetParameter(await readBytes(values.weights), values.weights);

  await initBackend(values.backend);
  const spec = buildNetSpec(withBatchSize(model, input.layer, crops), {
    phase: Phase.TEST,
    fileName: values.model,
  });
  const net = Net.fromSpec(spec, { rng: new Rng(SEED) });
  const results: ImagePredictions[] = [];
  let labels: string[] | undefined;
  try {
    for (const name of net.copyTrainedLayersFrom(weights, values.weights).ignored) {
      log('net.cpp:1080', `Ignoring source layer ${name}`);
    }
    // Checked before any image is read: a labels file of the wrong length is known from the net alone.
    const classes = outputClasses(spec, crops, values.model);
    if (values.labels) labels = parseLabels(await readText(values.labels), classes, values.labels);
    const inputLayer = net.layer(input.layer) as InputLayer;
    for (const image of images) {
      const batch = cropBatch(await readImage(image, input.channels), settings, image);
      const shape = [crops, input.channels, input.height, input.width];
      const scores = averageRows(await forward(net, inputLayer, batch.data, shape), crops);
      results.push({ image, top: topK(scores, TOP_K) });
    }
  } finally {
    net.dispose();
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(jsonPredictions(results, labels))}\n`);
  } else {
    for (const result of results) process.stdout.write(`${predictionLines(result, labels).join('\n')}\n`);
  }
  return ExitCode.Ok;
}

interface NetInput extends InputSize {
  /** The name of the Input layer fed with the images. */
  layer: string;
}

/** The net's image input: its first Input layer, whose one top is N x C x H x W with C 1 or 3. */
function netInput(model: NetParameter, fileName: string): NetInput {
  const layer = (model.layer ?? []).find((l) => l.type === 'Input');
  if (!layer) throw new BadInputError('expected an Input layer for the images, found none', fileName);
  const where = `${fileName}: layer "${layer.name}" (Input)`;
  const shapes = layer.inputParam?.shape ?? [];
  if ((layer.top ?? []).length !== 1 || shapes.length !== 1) {
    throw new BadInputError(
      `expected one top and one input_param.shape, received ${(layer.top ?? []).length} and ${shapes.length}`,
      where,
    );
  }
  const dims = shapes[0]!.dim.map(Number);
  const [, channels, height, width] = dims;
  if (dims.length !== 4 || (channels !== 1 && channels !== 3) || !(height! > 0 && width! > 0)) {
    throw new BadInputError(`expected shape N x C x H x W with C 1 or 3, received ${dims.join('x')}`, where);
  }
  return { layer: layer.name ?? '', channels: channels!, height: height!, width: width! };
}

/** The mean, image dims and crops from the flags, checked against the net's input. */
async function classifySettings(
  input: InputSize,
  flags: { mean?: string; 'mean-value'?: string; 'image-dims'?: string; oversample?: boolean },
): Promise<ClassifySettings> {
  const mean = await readMean(flags.mean, flags['mean-value']);
  if (mean) checkMean(mean, input.channels, flags.mean ?? '--mean-value');
  const imageDims = flags['image-dims']
    ? parseImageDims(flags['image-dims'], input)
    : defaultImageDims(mean, input);
  // Default dims come from the mean file, so a mean smaller than the input is the mean file's fault.
  checkImageDims(imageDims, input, flags.mean ?? '--image-dims');
  return { input, imageDims, oversample: flags.oversample ?? false, mean };
}

/** How many classes the net's first output (Caffe's net.outputs[0], e.g. "prob") scores per image. */
function outputClasses(spec: NetSpec, crops: number, fileName: string): number {
  const name = spec.outputs[0];
  const shape = name === undefined ? undefined : spec.blobShapes.get(name);
  if (!shape) throw new BadInputError('expected the net to have an output blob, found none', fileName);
  return count(shape) / crops;
}

/** The net with its image input holding `batch` images (Caffe's classifier reshapes it the same way). */
function withBatchSize(model: NetParameter, inputLayer: string, batch: number): NetParameter {
  const layer = (model.layer ?? []).map((l) => {
    if (l.name !== inputLayer || l.type !== 'Input') return l;
    const [shape] = l.inputParam!.shape!;
    return { ...l, inputParam: { shape: [{ dim: [batch, ...shape!.dim.slice(1)] }] } };
  });
  return { ...model, layer };
}

async function readMean(
  meanFile: string | undefined,
  meanValue: string | undefined,
): Promise<Mean | undefined> {
  if (meanValue !== undefined) return meanFromValues(meanValue);
  if (meanFile === undefined) return undefined;
  return meanFromBlob(decodeBlobProto(await readBytes(meanFile), meanFile), meanFile);
}

/** Decodes an image to float BGR (or gray) 0-255; a file no decoder can read is bad input naming it. */
async function readImage(uri: string, channels: number): Promise<FloatImage> {
  const bytes = await readBytes(uri);
  try {
    const decoded = await decodeImage(bytes, { color: channels === 3 });
    return floatImage(decoded.pixels, decoded.channels, decoded.height, decoded.width);
  } catch (error) {
    throw new BadInputError(`cannot decode the image: ${(error as Error).message}`, uri);
  }
}

/** One forward pass on `values`: the net's first output (Caffe's net.outputs[0], e.g. "prob"). */
async function forward(net: Net, input: InputLayer, values: Float32Array, shape: number[]) {
  const fed = tf.tensor(values, shape, 'float32');
  try {
    input.feed([fed]);
    const [first] = (await net.forward()).outputs;
    return first!.values;
  } finally {
    fed.dispose();
  }
}

registerCommand({ name: 'classify', summary: 'the top 5 classes of images, with a deploy net', usage, run });
