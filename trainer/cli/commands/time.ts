// `caffe time --model=M [--iterations=N] [--phase=TRAIN|TEST] [--backend=B] [--level=N] [--stage=S]...`:
// Caffe's benchmark. Times each layer's forward and backward over N iterations and prints Caffe's lines
// (time() in BVLC/caffe tools/caffe.cpp) to stderr, as glog does. Data layers get random batches of their
// shape instead of reading their databases. --memory first profiles one training iteration's memory
// (time-memory.ts).
import { performance } from 'node:perf_hooks';

import { initBackend } from '../../backend/index.js';
import { ExitCode, UsageError } from '../../contract/errors.js';
import { type DataSource, RandomDataSource } from '../../net/data-source.js';
import { externalDataLayers, netSpecFromFile } from '../../net/from-file.js';
import { timeLayers, timingPlan } from '../../net/layer-timing.js';
import { Net } from '../../net/net.js';
import { Rng } from '../../rng.js';
import { formatDefaultStream, formatFloat, formatLogLine } from '../../solver/index.js';
import { registerCommand } from '../command.js';
import { dataShapeFlag, numberFlag, parseFlags, phaseFlag } from '../flags.js';
import { profileMemory } from './time-memory.js';

const usage =
  'caffe time --model=M [--iterations=N (default 50)] [--phase=TRAIN|TEST (default TRAIN)] ' +
  '[--backend=auto|tensorflow|wasm|cpu] [--level=N] [--stage=S]... [--data-shape=C,H,W (default: from the first record)] [--memory]';

// Seed for fillers and random data: a benchmark needs values, not particular ones.
const SEED = 1701;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      model: { type: 'string' },
      iterations: { type: 'string' },
      phase: { type: 'string' },
      backend: { type: 'string' },
      level: { type: 'string' },
      stage: { type: 'string', multiple: true },
      'data-shape': { type: 'string' },
      memory: { type: 'boolean' },
    },
    usage,
  );
  if (positionals.length > 0)
    throw new UsageError(`unexpected arguments: ${positionals.join(' ')}\nusage: ${usage}`);
  if (!values.model) throw new UsageError(`--model is required\nusage: ${usage}`);
  const iterations = numberFlag('iterations', values.iterations, 50);
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new UsageError(`--iterations: expected a positive integer, received '${values.iterations}'`);
  }
  const phase = phaseFlag(values.phase);
  const log = (source: string, message: string) =>
    process.stderr.write(`${formatLogLine({ severity: 'I', source, message }, Date.now(), process.pid)}\n`);
  const warn = (message: string) =>
    process.stderr.write(
      `${formatLogLine({ severity: 'W', source: 'data_layer.cpp:45', message }, Date.now(), process.pid)}\n`,
    );

  await initBackend(values.backend);
  const spec = await netSpecFromFile(values.model, {
    phase,
    level: numberFlag('level', values.level, 0),
    stages: values.stage ?? [],
    dataShape: dataShapeFlag(values['data-shape']),
    onUnreadable: (layer, error) =>
      warn(
        `Layer ${layer}: cannot read its first record (${error.message}); timing it as 3x256x256 (--data-shape sets it)`,
      ),
  });
  const rng = new Rng(SEED);
  const dataSources: Record<string, DataSource> = {};
  for (const layer of externalDataLayers(spec)) {
    dataSources[layer.name] = new RandomDataSource(layer.topShapes, rng);
    const shapes = layer.topShapes.map((s) => s.join('x')).join(', ');
    log('caffe.cpp:340', `Layer ${layer.name} (${layer.type}): timing with random data of shape ${shapes}`);
  }
  const net = Net.fromSpec(spec, { rng, dataSources });
  try {
    log('caffe.cpp:352', 'Performing Forward');
    log('caffe.cpp:354', `Initial loss: ${formatFloat((await net.forward()).loss)}`);
    log('caffe.cpp:355', 'Performing Backward');
    for (const gradient of (await net.forwardBackward()).gradients) gradient.dispose();
    if (values.memory) await profileMemory(net, log);
    await benchmark(net, iterations, log);
  } finally {
    net.dispose();
  }
  return ExitCode.Ok;
}

/**
 * Caffe's benchmark loop and summary: per-iteration, per-layer and total times. Every layer's backward runs,
 * a deploy net's too (see layer-timing.ts). An iteration's forward-backward time is its forward pass plus
 * its backward pass, as Caffe's forward_timer and backward_timer cover them: our per-layer backward
 * re-runs the layer's forward to build its tape, and that set-up is left out of every figure, so "Average
 * Forward-Backward" is "Average Forward pass" + "Average Backward pass", as in Caffe.
 */
async function benchmark(net: Net, iterations: number, log: (source: string, message: string) => void) {
  const now = () => performance.now();
  const plan = timingPlan(net);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const forward: number[] = new Array(net.layers.length).fill(0);
  const backward: number[] = new Array(net.layers.length).fill(0);
  let totalMs = 0;
  log('caffe.cpp:358', '*** Benchmark begins ***');
  log('caffe.cpp:359', `Testing for ${iterations} iterations.`);
  for (let j = 1; j <= iterations; j++) {
    await net.loadBatches(); // the next batch is ready before the timer starts, as with Caffe's prefetch
    const times = timeLayers(net, plan, now);
    const iterationMs = sum(times.forward) + sum(times.backward);
    totalMs += iterationMs;
    for (const [l, ms] of times.forward.entries()) forward[l]! += ms;
    for (const [l, ms] of times.backward.entries()) backward[l]! += ms;
    log('caffe.cpp:384', `Iteration: ${j} forward-backward time: ${formatDefaultStream(iterationMs)} ms.`);
  }
  log('caffe.cpp:387', 'Average time per layer:');
  net.layers.forEach((layer, l) => {
    const name = layer.name.padStart(10);
    log('caffe.cpp:390', `${name}\tforward: ${formatDefaultStream(forward[l]! / iterations)} ms.`);
    log('caffe.cpp:393', `${name}\tbackward: ${formatDefaultStream(backward[l]! / iterations)} ms.`);
  });
  log('caffe.cpp:398', `Average Forward pass: ${formatDefaultStream(sum(forward) / iterations)} ms.`);
  log('caffe.cpp:400', `Average Backward pass: ${formatDefaultStream(sum(backward) / iterations)} ms.`);
  log('caffe.cpp:402', `Average Forward-Backward: ${formatDefaultStream(totalMs / iterations)} ms.`);
  log('caffe.cpp:403', `Total Time: ${formatDefaultStream(totalMs)} ms.`);
  log('caffe.cpp:404', '*** Benchmark ends ***');
}

registerCommand({
  name: 'time',
  summary: "benchmark a net's forward and backward passes, per layer",
  usage,
  run,
});
