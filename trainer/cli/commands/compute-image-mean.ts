// `caffe compute_image_mean [--backend=lmdb] INPUT_DB [OUTPUT_FILE]`.

import { ExitCode, UsageError } from '../../contract/errors.js';
import { computeImageMean } from '../../data/image-mean.js';
import { registerCommand } from '../command.js';
import { parseFlags } from '../flags.js';

const usage = 'caffe compute_image_mean [--backend=lmdb] INPUT_DB [OUTPUT_FILE]';

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { backend: { type: 'string' } }, usage);
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError(
      `expected INPUT_DB [OUTPUT_FILE], received ${positionals.length} arguments\nusage: ${usage}`,
    );
  }
  const backend = values.backend ?? 'lmdb';
  if (backend !== 'lmdb') throw new UsageError(`--backend: only lmdb is supported, received '${backend}'`);
  await computeImageMean(positionals[0]!, positionals[1]);
  return ExitCode.Ok;
}

registerCommand({
  name: 'compute_image_mean',
  summary: 'compute the mean image of an LMDB into a binaryproto',
  usage,
  run,
});
