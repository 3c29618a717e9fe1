// Shared by the prep tests: run the `caffe` CLI, and check a prepared dataset against the sample tree
// it came from, reading records and the mean file with the independent (Python) reader.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import { BROKEN_KINDS, KEPT_KINDS, type SampleTree } from '../../../hack/sample-imagenet.js';
import { readBlobIndependently, readDatumsIndependently } from './independent-reader.js';

export const CAFFE = resolve(fileURLToPath(import.meta.url), '../../../../trainer/cli/main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `caffe ARGS`; `onStderrLine` may return true to have the process SIGKILLed there and then. */
export function runCaffe(
  args: string[],
  env: Record<string, string> = {},
  onStderrLine?: (line: string) => boolean,
): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CAFFE, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (onStderrLine?.(line)) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
}

export async function runCaffeOk(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCaffe(args, env);
  assert.equal(result.code, 0, `caffe ${args.join(' ')} failed:\n${result.stderr}`);
  return result;
}

/** The parsed progress object of a JSON progress line, or undefined for other lines. */
export function progressOf(line: string): Record<string, number | string> | undefined {
  if (!line.startsWith('{"progress"')) return undefined;
  return (JSON.parse(line) as { progress: Record<string, number | string> }).progress;
}

export interface Expectation {
  size: number;
  encoded: boolean;
  shardCount: number;
}

/**
 * Checks a prepared dataset in the local folder `out` against the sample tree: labels follow the
 * sorted synsets, every good image is in exactly one shard, the broken ones are skipped with reasons,
 * and the mean equals one computed here from the records.
 */
export async function checkPreparedDataset(out: string, tree: SampleTree, expect: Expectation) {
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(
    readFileSync(join(out, 'synsets.txt'), 'utf8').trim().split('\n'),
    [...tree.synsets].sort(),
  );
  const valLabels = new Map(
    readFileSync(tree.valLabels, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' ') as [string, string])
      .map(([name, label]) => [name, Number(label)]),
  );
  const unreadable = new Set(BROKEN_KINDS.filter((k) => !KEPT_KINDS.includes(k)));
  const pad = (n: number) => String(n).padStart(5, '0');
  const sum = new Float64Array(3 * expect.size * expect.size);
  let trainRecords = 0;
  for (const split of ['train', 'val'] as const) {
    const dirs = Array.from({ length: expect.shardCount }, (_, i) =>
      join(out, split, `shard-${pad(i)}-of-${pad(expect.shardCount)}`),
    );
    const records = readDatumsIndependently(dirs);
    const seen = new Map<string, number>();
    for (const r of records) {
      const match = /^(\d{8})_(.+)$/.exec(r.key);
      assert.ok(match, `key '${r.key}' is not convert_imageset's '%08d_path'`);
      const rel = match[2]!;
      seen.set(rel, (seen.get(rel) ?? 0) + 1);
      const wanted = split === 'train' ? tree.synsets.indexOf(rel.split('/')[0]!) : valLabels.get(rel);
      assert.equal(r.label, wanted, `label of ${split}/${rel}`);
      assert.equal(r.encoded, expect.encoded, `encoded flag of ${rel}`);
      const pixels = await recordPixels(r, expect);
      if (split === 'train') {
        for (let i = 0; i < sum.length; i++) sum[i]! += pixels[i]!;
        trainRecords++;
      }
    }
    const files = tree.files.filter((f) => f.split === split);
    const good = files.filter((f) => !f.broken || !unreadable.has(f.broken)).map((f) => f.rel);
    assert.deepEqual(
      [...seen.keys()].sort(),
      good.sort(),
      `${split}: records are not exactly the good images`,
    );
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      `${split}: an image is in more than one shard`,
    );
    const skipped = files.filter((f) => f.broken && unreadable.has(f.broken)).map((f) => f.rel);
    const listed = manifest.skipped.filter((s: { split: string }) => s.split === split);
    assert.deepEqual(
      listed.map((s: { path: string }) => s.path).sort(),
      skipped.sort(),
      `${split}: skipped files`,
    );
    for (const s of listed) assert.match(s.reason, /empty file|no decoder can read it: \S/);
    assert.equal(manifest.splits[split].records, good.length);
    const converted = files.filter((f) => f.broken && !unreadable.has(f.broken)).map((f) => f.rel);
    const listedConverted = manifest.converted.filter((c: { split: string }) => c.split === split);
    assert.deepEqual(listedConverted.map((c: { path: string }) => c.path).sort(), converted.sort());
  }
  const blob = readBlobIndependently(join(out, 'mean.binaryproto'));
  assert.deepEqual([blob.num, blob.channels, blob.height, blob.width], [1, 3, expect.size, expect.size]);
  let worst = 0;
  for (let i = 0; i < sum.length; i++)
    worst = Math.max(worst, Math.abs(sum[i]! / trainRecords - blob.data[i]!));
  assert.ok(worst < 1e-3, `mean differs from the records' mean by up to ${worst}`);
  return manifest;
}

/** A record's pixels as planar BGR, decoded here (sharp for JPEG, with our own channel shuffle). */
async function recordPixels(
  r: { data: Buffer; channels: number; height: number; width: number },
  e: Expectation,
) {
  if (!e.encoded) {
    assert.deepEqual([r.channels, r.height, r.width], [3, e.size, e.size]);
    return r.data;
  }
  assert.deepEqual([r.channels, r.height, r.width], [0, 0, 0], 'an encoded Datum leaves its dims unset');
  const { data, info } = await sharp(r.data).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.channels, info.height, info.width], [3, e.size, e.size]);
  const area = e.size * e.size;
  const planar = new Uint8Array(3 * area);
  for (let i = 0; i < area; i++) {
    planar[i] = data[3 * i + 2]!;
    planar[area + i] = data[3 * i + 1]!;
    planar[2 * area + i] = data[3 * i]!;
  }
  return planar;
}
