// `caffe imagenet finalize`: after all prep workers, the mean, list files and manifest.

import { ExitCode, UsageError } from '../../contract/errors.js';
import { runFinalize } from '../../data/finalize.js';
import { registerCommand } from '../command.js';
import { parseFlags } from '../flags.js';

const usage = 'caffe imagenet finalize --out=URI';

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { out: { type: 'string' } }, usage);
  if (!values.out) throw new UsageError(`--out is required\nusage: ${usage}`);
  await runFinalize(values.out);
  return ExitCode.Ok;
}

registerCommand({
  name: 'imagenet finalize',
  summary: 'check every shard, merge the mean, write list files and manifest.json',
  usage,
  run,
});
