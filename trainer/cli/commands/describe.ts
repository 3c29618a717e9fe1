// `caffe describe --model=M [--phase=TRAIN|TEST] [--level=N] [--stage=S]... [--data-shape=C,H,W] [--weights=W]`:
// builds the net spec as Caffe would set the net up, logs Caffe's set-up lines to stderr and prints one
// row per layer (name, type, bottoms, tops, top shapes, learnable parameters) and the totals to stdout.

import { ExitCode, UsageError } from '../../contract/errors.js';
import { readBytes, readText, refuseHdf5 } from '../../files.js';
import { glogLine } from '../../glog.js';
import { dataLayerShapes } from '../../net/from-file.js';
import {
  buildNetSpec,
  checkWeightsMatch,
  count,
  type LayerSpec,
  learnableTotals,
  type NetSpec,
  phaseName,
  setUpLogLines,
} from '../../net/spec/index.js';
import { decodeNetParameter, parseNetPrototxt } from '../../proto/index.js';
import { registerCommand } from '../command.js';
import { dataShapeFlag, numberFlag, parseFlags, phaseFlag } from '../flags.js';

const usage =
  'caffe describe --model=M [--phase=TRAIN|TEST] [--level=N] [--stage=S]... ' +
  '[--data-shape=C,H,W (default: from the first record)] [--weights=W.caffemodel]';

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      model: { type: 'string' },
      phase: { type: 'string' },
      level: { type: 'string' },
      stage: { type: 'string', multiple: true },
      'data-shape': { type: 'string' },
      weights: { type: 'string' },
    },
    usage,
  );
  if (positionals.length > 0)
    throw new UsageError(`unexpected arguments: ${positionals.join(' ')}\nusage: ${usage}`);
  if (!values.model) throw new UsageError(`--model is required\nusage: ${usage}`);
  const phase = phaseFlag(values.phase);
  const level = numberFlag('level', values.level, 0);
  const net = parseNetPrototxt(await readText(values.model), values.model);
  const now = new Date();
  const dataShape = dataShapeFlag(values['data-shape']);
  // Describing needs no data: a layer whose database cannot be read takes the default shape, with a warning.
  const recordShapes = dataShape
    ? new Map()
    : await dataLayerShapes(net, { phase, level, stages: values.stage ?? [] }, values.model, (layer, error) =>
        console.error(
          glogLine(
            'W',
            'data_layer.cpp:45',
            `Layer ${layer}: cannot read its first record (${error.message}); describing it as 3x256x256 (--data-shape sets it)`,
            now,
            process.pid,
          ),
        ),
      );
  const spec = buildNetSpec(net, {
    phase,
    level,
    stages: values.stage ?? [],
    ...(dataShape ? { dataShape } : {}),
    recordShapes,
    fileName: values.model,
  });
  for (const line of setUpLogLines(spec)) console.error(glogLine('I', 'net.cpp:100', line, now, process.pid));
  if (values.weights) {
    refuseHdf5(values.weights, 'weights (--weights)');
    const weights = decodeNetParameter(await readBytes(values.weights), values.weights);
    const match = checkWeightsMatch(spec, weights, values.weights);
    for (const name of match.ignored)
      console.error(glogLine('I', 'net.cpp:800', `Ignoring source layer ${name}`, now, process.pid));
    console.error(
      glogLine(
        'I',
        'net.cpp:800',
        `Weights match ${match.copied.length} layers of the net`,
        now,
        process.pid,
      ),
    );
  }
  console.log(describeTable(spec).join('\n'));
  return ExitCode.Ok;
}

/** The table `caffe describe` prints: one row per layer, then the totals. */
export function describeTable(spec: NetSpec): string[] {
  const header = ['layer', 'type', 'bottoms', 'tops', 'top shapes', 'learnable parameters'];
  const rows = spec.layers.map((layer) => [
    layer.name,
    layer.type,
    layer.bottoms.join(', '),
    layer.tops.map((top, j) => (top === layer.bottoms[j] ? `${top} (in-place)` : top)).join(', '),
    layer.topShapes.map((s) => (s.length === 0 ? '(1)' : s.join(' '))).join('; '),
    describeParams(layer),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  const totals = learnableTotals(spec);
  const stages = spec.stages.length > 0 ? spec.stages.join(', ') : 'none';
  return [
    `Net "${spec.name}": phase ${phaseName(spec.phase)}, level ${spec.level}, stages ${stages}`,
    format(header),
    format(widths.map((w) => '-'.repeat(w))),
    ...rows.map(format),
    '',
    `Total: ${totals.parameters.toLocaleString('en-US')} learnable parameters in ${totals.blobs} blobs; ` +
      `outputs: ${spec.outputs.join(', ')}`,
  ];
}

function describeParams(layer: LayerSpec): string {
  if (layer.paramShapes.length === 0) return '';
  const total = layer.paramShapes.reduce((n, s) => n + count(s), 0);
  return `${layer.paramShapes.map((s) => s.join('x')).join(' + ')} = ${total.toLocaleString('en-US')}`;
}

registerCommand({
  name: 'describe',
  summary: "set a net up as Caffe would and print each layer's shapes and learnable parameters",
  usage,
  run,
});
