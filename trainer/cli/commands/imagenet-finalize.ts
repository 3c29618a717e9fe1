// `caffe imagenet finalize --out=URI [--progress-url=https://... --progress-token=FILE --progress-ca=FILE]`:
// after all prep workers, the mean, list files and manifest; then, given an operator's endpoint, the
// counts reported to it (records per split, skipped files, shards), so the operator reads no manifest.
import { setTimeout as sleep } from 'node:timers/promises';

import type { DatasetCounts } from '../../contract/dataset-counts.js';
import { ExitCode, UsageError } from '../../contract/errors.js';
import { countsOf, runFinalize } from '../../data/finalize.js';
import { type ProgressEndpoint, postProgress } from '../../train/progress-report.js';
import { registerCommand } from '../command.js';
import { parseFlags } from '../flags.js';
import { progressEndpointFlags } from '../progress-flags.js';

const usage =
  'caffe imagenet finalize --out=URI [--progress-url=https://... --progress-token=FILE --progress-ca=FILE]';
/** Waits between report attempts: an operator restarting (a rollout) is back within these. */
const REPORT_RETRY_MS = [1_000, 2_000, 4_000, 8_000, 16_000];

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(
    argv,
    {
      out: { type: 'string' },
      'progress-url': { type: 'string' },
      'progress-token': { type: 'string' },
      'progress-ca': { type: 'string' },
    },
    usage,
  );
  if (!values.out) throw new UsageError(`--out is required\nusage: ${usage}`);
  const endpoint = progressEndpointFlags(
    values['progress-url'],
    values['progress-token'],
    values['progress-ca'],
    usage,
  );
  const manifest = await runFinalize(values.out);
  if (endpoint) await report(endpoint, countsOf(manifest));
  return ExitCode.Ok;
}

/**
 * POSTs the counts, trying again a few times. A report that never arrives leaves the data as it is
 * (complete): the dataset becomes Ready with its counts unknown and a Warning, so this only warns.
 */
async function report(endpoint: ProgressEndpoint, counts: DatasetCounts): Promise<void> {
  const post = postProgress(endpoint);
  for (let attempt = 0; ; attempt++) {
    try {
      await post(endpoint.url, JSON.stringify(counts));
      console.log(
        `reported ${counts.train} train, ${counts.val} val, ${counts.skipped} skipped to the operator`,
      );
      return;
    } catch (error) {
      const wait = REPORT_RETRY_MS[attempt];
      if (wait === undefined) {
        console.warn(`could not report the counts to the operator: ${(error as Error).message}`);
        return;
      }
      await sleep(wait);
    }
  }
}

registerCommand({
  name: 'imagenet finalize',
  summary: 'check every shard, merge the mean, write list files and manifest.json',
  usage,
  run,
});
