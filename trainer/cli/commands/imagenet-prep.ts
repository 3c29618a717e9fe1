// `caffe imagenet prep`: one worker's share of turning an ImageNet-layout tree into LMDB shards.

import { readCgroupLimits } from '../../cgroup-limits.js';
import { ExitCode, UsageError } from '../../contract/errors.js';
import { runPrep } from '../../data/prep.js';
import { glogSink } from '../../solver/log-lines.js';
import { registerCommand } from '../command.js';
import { numberFlag, parseFlags } from '../flags.js';
import { runSize } from '../resource-flags.js';

const usage =
  'caffe imagenet prep --train=ROOT [--val=ROOT] [--val-labels=FILE] [--words=FILE] --out=URI ' +
  '[--size=256] [--resize=squash|crop] [--encoded=true|false] [--quality=95] [--shuffle-seed=1] ' +
  '[--shard-count=1 --shard-index=0] [--threads=N (default: the CPU limit)] [--progress-interval=5]';

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(
    argv,
    {
      train: { type: 'string' },
      val: { type: 'string' },
      'val-labels': { type: 'string' },
      words: { type: 'string' },
      out: { type: 'string' },
      size: { type: 'string' },
      resize: { type: 'string' },
      encoded: { type: 'string' },
      quality: { type: 'string' },
      'shuffle-seed': { type: 'string' },
      'shard-count': { type: 'string' },
      'shard-index': { type: 'string' },
      threads: { type: 'string' },
      'progress-interval': { type: 'string' },
    },
    usage,
  );
  if (!values.train || !values.out) throw new UsageError(`--train and --out are required\nusage: ${usage}`);
  const resize = values.resize ?? 'squash';
  if (resize !== 'squash' && resize !== 'crop') {
    throw new UsageError(`--resize: expected squash or crop, received '${resize}'`);
  }
  const encoded = values.encoded ?? 'true';
  if (encoded !== 'true' && encoded !== 'false') {
    throw new UsageError(`--encoded: expected true or false, received '${encoded}'`);
  }
  const shardCount = positiveInteger('shard-count', numberFlag('shard-count', values['shard-count'], 1));
  const shardIndex = numberFlag('shard-index', values['shard-index'], 0);
  if (!Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex >= shardCount) {
    throw new UsageError(
      `--shard-index: expected an integer from 0 to ${shardCount - 1}, received ${shardIndex}`,
    );
  }
  const quality = numberFlag('quality', values.quality, 95);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new UsageError(`--quality: expected an integer from 1 to 100, received ${quality}`);
  }
  // Images in flight: the --threads flag, else the pod's CPU limit (its cgroup's quota), else the cores.
  const size = runSize({ threads: values.threads }, readCgroupLimits());
  const log = glogSink({
    clock: Date,
    threadId: process.pid,
    write: (text) => process.stderr.write(`${text}\n`),
  });
  log({
    severity: 'I',
    source: 'imagenet-prep.ts:1',
    message: `Decoding ${size.threads} images at once: ${size.description}`,
  });
  await runPrep({
    train: values.train,
    val: values.val,
    valLabels: values['val-labels'],
    words: values.words,
    out: values.out,
    size: positiveInteger('size', numberFlag('size', values.size, 256)),
    resize,
    encoded: encoded === 'true',
    quality,
    shuffleSeed: numberFlag('shuffle-seed', values['shuffle-seed'], 1),
    shardCount,
    shardIndex,
    threads: size.threads,
    progressIntervalSeconds: numberFlag('progress-interval', values['progress-interval'], 5),
  });
  return ExitCode.Ok;
}

function positiveInteger(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name}: expected a positive integer, received ${n}`);
  return n;
}

registerCommand({
  name: 'imagenet prep',
  summary: "write one worker's LMDB shards of an ImageNet-layout tree",
  usage,
  run,
});
