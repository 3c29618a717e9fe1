// `caffe plot LOG_OR_PROGRESS... [--out=curves.png|curves.svg] [--width=W] [--height=H] [--title=T]`:
// training and test curves as a picture, as Caffe's tools/extra/plot_training_log.py draws them. Inputs
// are training logs, status files, progress records, or folders and snapshot prefixes of progress
// records, local or s3://; the picture is written to --out (local or s3://).
import { BadInputError, ExitCode, UsageError } from '../../contract/errors.js';
import { chartSpec } from '../../plot/chart.js';
import { mergeCurves, series } from '../../plot/curves.js';
import { readCurves } from '../../plot/sources.js';
import { storageFor } from '../../storage/index.js';
import { registerCommand } from '../command.js';
import { numberFlag, parseFlags } from '../flags.js';

const usage =
  'caffe plot LOG_OR_PROGRESS... [--out=curves.png|curves.svg] [--width=W (default 800)] ' +
  '[--height=H (default 600)] [--title=T]';

const MIN_SIZE = 200;
const MAX_SIZE = 10_000;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      out: { type: 'string', default: 'curves.png' },
      width: { type: 'string' },
      height: { type: 'string' },
      title: { type: 'string', default: 'Training curves' },
    },
    usage,
  );
  if (positionals.length === 0)
    throw new UsageError(`give at least one log or progress input\nusage: ${usage}`);
  const out = String(values.out);
  const width = sizeFlag('width', values.width, 800);
  const height = sizeFlag('height', values.height, 600);
  // Loaded when the command runs rather than at start-up (Vega and sharp): `caffe help` imports this file too.
  const { formatFor, renderImage } = await import('../../plot/render.js');
  const format = formatFor(out);
  if (!format) throw new UsageError(`--out: expected a file name ending in .png or .svg, received '${out}'`);

  const curves = mergeCurves(await Promise.all(positionals.map(readCurves)));
  const points = series(curves);
  if (points.length === 0) {
    throw new BadInputError('expected finite loss or test output values, found none', positionals.join(', '));
  }
  const spec = chartSpec(points, {
    width,
    height,
    title: String(values.title),
    subtitle: positionals.join(', '),
  });
  await storageFor(out).write(out, await renderImage(spec, format, { width, height }));
  const names = [...new Set(points.map((p) => p.series))].join(', ');
  console.error(`caffe plot: wrote ${out} (${width}x${height}, ${format}): ${names}`);
  return ExitCode.Ok;
}

function sizeFlag(name: string, value: string | undefined, fallback: number): number {
  const size = numberFlag(name, value, fallback);
  if (!Number.isInteger(size) || size < MIN_SIZE || size > MAX_SIZE) {
    throw new UsageError(
      `--${name}: expected a whole number of pixels from ${MIN_SIZE} to ${MAX_SIZE}, received '${value}'`,
    );
  }
  return size;
}

registerCommand({
  name: 'plot',
  summary: 'Draw training and test curves from logs or snapshots',
  usage,
  run,
});
