// `caffe test --model=M --weights=W [--iterations=N] [--backend=B] [--level=N] [--stage=S]...`: runs the
// TEST net N times with trained weights and prints Caffe's lines (test() in BVLC/caffe tools/caffe.cpp) to
// stderr, as glog does: every output element per batch, the mean loss, then every output element's mean.
import { initBackend } from '../../backend/index.js';
import { ExitCode, UsageError } from '../../contract/errors.js';
import { DataLoader } from '../../data/loader.js';
import { loaderOptionsFromLayer } from '../../data/loader-layer.js';
import { readBytes, refuseHdf5 } from '../../files.js';
import type { DataSource } from '../../net/data-source.js';
import { externalDataLayers, netSpecFromFile } from '../../net/from-file.js';
import { Net } from '../../net/net.js';
import { decodeNetParameter, Phase } from '../../proto/index.js';
import { Rng } from '../../rng.js';
import { formatFloat, formatLogLine } from '../../solver/index.js';
import { LoaderDataSource } from '../../train/loader-source.js';
import { registerCommand } from '../command.js';
import { numberFlag, parseFlags } from '../flags.js';

const usage =
  'caffe test --model=M --weights=W.caffemodel [--iterations=N (default 50)] ' +
  '[--backend=auto|tensorflow|wasm|cpu] [--level=N] [--stage=S]...';

// Seed for fillers of layers the weights file lacks and for random layers (DummyData with a random filler).
const SEED = 1701;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      model: { type: 'string' },
      weights: { type: 'string' },
      iterations: { type: 'string' },
      backend: { type: 'string' },
      level: { type: 'string' },
      stage: { type: 'string', multiple: true },
    },
    usage,
  );
  if (positionals.length > 0)
    throw new UsageError(`unexpected arguments: ${positionals.join(' ')}\nusage: ${usage}`);
  if (!values.model) throw new UsageError(`--model is required\nusage: ${usage}`);
  if (!values.weights) throw new UsageError(`--weights is required\nusage: ${usage}`);
  const iterations = numberFlag('iterations', values.iterations, 50);
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new UsageError(`--iterations: expected a positive integer, received '${values.iterations}'`);
  }
  const log = (source: string, message: string) =>
    process.stderr.write(`${formatLogLine({ severity: 'I', source, message }, Date.now(), process.pid)}\n`);

  refuseHdf5(values.weights, 'weights (--weights)');
  await initBackend(values.backend);
  const spec = await netSpecFromFile(values.model, {
    phase: Phase.TEST,
    level: numberFlag('level', values.level, 0),
    stages: values.stage ?? [],
  });
  const weights = decodeNetParameter(await readBytes(values.weights), values.weights);
  // Data and ImageData layers read through train's loader, in the TEST phase: in order, no mirroring or
  // random crops, and no shuffling of a Data layer's records (Caffe reads them in key order).
  const loaders: LoaderDataSource[] = [];
  const dataSources: Record<string, DataSource> = {};
  let net: Net | undefined;
  try {
    for (const layer of externalDataLayers(spec)) {
      const loader = await DataLoader.open(loaderOptionsFromLayer(layer.param, 'TEST', { seed: SEED }));
      const source = new LoaderDataSource(loader, layer.topShapes);
      loaders.push(source);
      dataSources[layer.name] = source;
    }
    net = Net.fromSpec(spec, { rng: new Rng(SEED), dataSources });
    const match = net.copyTrainedLayersFrom(weights, values.weights);
    for (const name of match.ignored) log('net.cpp:1080', `Ignoring source layer ${name}`);
    log('caffe.cpp:290', `Running for ${iterations} iterations.`);
    const sums: { name: string; lossWeight: number; sum: number }[] = [];
    let lossSum = 0;
    for (let i = 0; i < iterations; i++) {
      const result = await net.forward();
      lossSum += result.loss;
      let index = 0;
      for (const output of result.outputs) {
        for (const value of Array.from(output.values)) {
          const slot = sums[index] ?? { name: output.name, lossWeight: output.lossWeight, sum: 0 };
          slot.sum = Math.fround(slot.sum + value); // Caffe accumulates in float
          sums[index] = slot;
          index++;
          log('caffe.cpp:304', `Batch ${i}, ${output.name} = ${formatFloat(value)}`);
        }
      }
    }
    log('caffe.cpp:309', `Loss: ${formatFloat(lossSum / iterations)}`);
    for (const { name, lossWeight, sum } of sums) {
      const mean = Math.fround(sum / iterations);
      const weighted =
        lossWeight === 0
          ? ''
          : ` (* ${formatFloat(lossWeight)} = ${formatFloat(Math.fround(lossWeight) * mean)} loss)`;
      log('caffe.cpp:321', `${name} = ${formatFloat(mean)}${weighted}`);
    }
  } finally {
    net?.dispose();
    await Promise.all(loaders.map((l) => l.close()));
  }
  return ExitCode.Ok;
}

registerCommand({ name: 'test', summary: 'score a trained net on its TEST phase data', usage, run });
