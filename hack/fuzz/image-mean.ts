// Fuzzes `caffe compute_image_mean` with damaged copies of an LMDB shard written by
// `caffe imagenet prep`, as a user would meet them: each copy truncated at a random byte, or with
// random bytes changed anywhere, in the tree's pages (meta, branch, leaf), or at the start of a
// record's value (the Datum's fields and the JPEG header). Every run must exit 0 or 65 with no stack
// trace, within 30 s and 1 GiB. Runs on demand, like the benches:
//
//   node dist/hack/fuzz/image-mean.js [--shards=1000] [--records=1000] [--size=256] [--seed=1]
//       [--out=.brewery/fuzz/image-mean.json]
//
// A failing copy is kept under the output's folder, with the command that reproduces it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { PAGE_HEADER_SIZE, PAGE_SIZE, PageFlag } from '../../trainer/data/lmdb-format.js';
import { Rng } from '../../trainer/rng.js';
import { generateSampleImagenet } from '../sample-imagenet.js';

const CAFFE = resolve(fileURLToPath(import.meta.url), '../../../trainer/cli/main.js');
const TIME_LIMIT_SECONDS = 30;
const MEMORY_LIMIT_KIB = 1024 * 1024;
const MUTATIONS = ['truncate', 'bytes anywhere', 'bytes in tree pages', 'bytes at a record start'] as const;
type Mutation = (typeof MUTATIONS)[number];

interface Run {
  index: number;
  mutation: Mutation;
  detail: string;
  exitCode: number | null;
  signal: string | null;
  seconds: number;
  peakRssMiB: number;
  firstLine: string;
  problems: string[];
}

/** Where a pristine shard's pages of each kind start: tree pages, and the first page of each value. */
function pagesOf(file: Buffer): { tree: number[]; values: number[] } {
  const tree = [0, 1];
  const values: number[] = [];
  for (let page = 2; page * PAGE_SIZE < file.length; ) {
    const flags = file.readUInt16LE(page * PAGE_SIZE + 10);
    if (flags & PageFlag.Overflow) {
      values.push(page);
      page += file.readUInt32LE(page * PAGE_SIZE + 12);
    } else {
      tree.push(page);
      page++;
    }
  }
  return { tree, values };
}

/** A damaged copy of `pristine`, and what was done to it. */
function damage(
  pristine: Buffer,
  pages: { tree: number[]; values: number[] },
  rng: Rng,
): { bytes: Buffer; mutation: Mutation; detail: string } {
  const mutation = MUTATIONS[rng.nextInt(MUTATIONS.length)]!;
  if (mutation === 'truncate') {
    const at = rng.nextInt(pristine.length);
    return { bytes: Buffer.from(pristine.subarray(0, at)), mutation, detail: `at byte ${at}` };
  }
  const bytes = Buffer.from(pristine);
  const count = 1 + rng.nextInt(mutation === 'bytes anywhere' ? 64 : 8);
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    let at: number;
    if (mutation === 'bytes anywhere') at = rng.nextInt(bytes.length);
    else if (mutation === 'bytes in tree pages') {
      at = pages.tree[rng.nextInt(pages.tree.length)]! * PAGE_SIZE + rng.nextInt(PAGE_SIZE);
    } else {
      // The Datum's key bytes, the JPEG's markers and frame header lie in a value's first bytes.
      at = pages.values[rng.nextInt(pages.values.length)]! * PAGE_SIZE + PAGE_HEADER_SIZE + rng.nextInt(640);
    }
    bytes[at] = rng.nextInt(256);
    offsets.push(at);
  }
  return { bytes, mutation, detail: `${count} bytes at ${offsets.sort((a, b) => a - b).join(',')}` };
}

function runMean(dbDir: string) {
  const result = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'FUZZ-TIME %e %M',
      'timeout',
      '--signal=KILL',
      `${TIME_LIMIT_SECONDS}`,
      process.execPath,
      CAFFE,
      'compute_image_mean',
      dbDir,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  const lines = result.stderr.split('\n');
  const timeLine = lines.findIndex((l) => l.startsWith('FUZZ-TIME '));
  const [, seconds, kib] = /FUZZ-TIME ([\d.]+) (\d+)/.exec(lines[timeLine] ?? '') ?? [];
  // GNU time reports a child killed by a signal on a line of its own, and exits with its status.
  const killed = /Command terminated by signal (\d+)/.exec(result.stderr)?.[1];
  const stderr = lines.filter((l, i) => i !== timeLine && !l.startsWith('Command ')).join('\n');
  return {
    exitCode: killed ? null : result.status,
    signal: killed ? `signal ${killed}` : null,
    seconds: Number(seconds ?? Number.NaN),
    kib: Number(kib ?? Number.NaN),
    stderr,
  };
}

function problemsOf(run: ReturnType<typeof runMean>): string[] {
  const problems: string[] = [];
  if (run.exitCode !== 0 && run.exitCode !== 65) {
    problems.push(run.signal ? `killed by ${run.signal}` : `exit ${run.exitCode}`);
  }
  if (/^\s+at .+:\d+:\d+\)?$/m.test(run.stderr)) problems.push('stack trace');
  if (run.exitCode === 65 && run.stderr.trim().split('\n').length !== 1) problems.push('not one line');
  if (!(run.seconds <= TIME_LIMIT_SECONDS)) problems.push(`took ${run.seconds} s`);
  if (!(run.kib <= MEMORY_LIMIT_KIB)) problems.push(`peak RSS ${(run.kib / 1024).toFixed(0)} MiB`);
  return problems;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      shards: { type: 'string', default: '1000' },
      records: { type: 'string', default: '1000' },
      size: { type: 'string', default: '256' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: '.brewery/fuzz/image-mean.json' },
    },
  });
  const shards = Number(values.shards);
  const records = Number(values.records);
  const work = mkdtempSync(join(tmpdir(), 'brewery-fuzz-mean-'));
  const failures = join(dirname(values.out), 'image-mean-failures');
  try {
    const classes = 10;
    const tree = await generateSampleImagenet({
      out: join(work, 'tree'),
      classes,
      perClass: Math.ceil(records / classes),
      valPerClass: 0,
      seed: Number(values.seed),
      width: 320,
      height: 240,
      brokenPerKind: 0,
    });
    const prep = spawnSync(
      process.execPath,
      [
        CAFFE,
        'imagenet',
        'prep',
        `--train=${tree.train}`,
        `--out=${join(work, 'dataset')}`,
        `--size=${values.size}`,
      ],
      { encoding: 'utf8' },
    );
    if (prep.status !== 0) throw new Error(`caffe imagenet prep failed:\n${prep.stderr}`);
    const pristine = readFileSync(join(work, 'dataset/train/shard-00000-of-00001/data.mdb'));
    const pages = pagesOf(pristine);
    const db = join(work, 'damaged');
    mkdirSync(db);
    writeFileSync(join(db, 'data.mdb'), pristine);
    const baseline = runMean(db);
    if (baseline.exitCode !== 0) throw new Error(`the pristine shard fails:\n${baseline.stderr}`);
    console.log(
      `pristine shard: ${pristine.length} bytes, ${pages.values.length} values, ${pages.tree.length} tree pages; ` +
        `compute_image_mean ${baseline.seconds} s, ${(baseline.kib / 1024).toFixed(0)} MiB`,
    );

    const rng = new Rng(Number(values.seed));
    const runs: Run[] = [];
    for (let index = 0; index < shards; index++) {
      const { bytes, mutation, detail } = damage(pristine, pages, rng);
      writeFileSync(join(db, 'data.mdb'), bytes);
      const run = runMean(db);
      const problems = problemsOf(run);
      runs.push({
        index,
        mutation,
        detail,
        exitCode: run.exitCode,
        signal: run.signal,
        seconds: run.seconds,
        peakRssMiB: run.kib / 1024,
        firstLine: run.stderr.trim().split('\n')[0] ?? '',
        problems,
      });
      if (problems.length > 0) {
        mkdirSync(failures, { recursive: true });
        copyFileSync(join(db, 'data.mdb'), join(failures, `case-${index}.mdb`));
        console.log(
          `#${index} ${mutation} (${detail}): ${problems.join(', ')}\n${run.stderr.slice(0, 2000)}`,
        );
      }
      if ((index + 1) % 50 === 0) console.log(`${index + 1}/${shards} runs`);
    }

    const table = MUTATIONS.map((mutation) => {
      const of = runs.filter((r) => r.mutation === mutation);
      return {
        mutation,
        runs: of.length,
        exit0: of.filter((r) => r.exitCode === 0).length,
        exit65: of.filter((r) => r.exitCode === 65).length,
        other: of.filter((r) => r.exitCode !== 0 && r.exitCode !== 65).length,
        withProblems: of.filter((r) => r.problems.length > 0).length,
        maxSeconds: Math.max(...of.map((r) => r.seconds)),
        maxPeakRssMiB: Math.round(Math.max(...of.map((r) => r.peakRssMiB))),
      };
    });
    console.table(table);
    const failed = runs.filter((r) => r.problems.length > 0);
    const report = {
      date: new Date().toISOString(),
      loadAverage: loadavg(),
      seed: Number(values.seed),
      records,
      size: Number(values.size),
      limits: { seconds: TIME_LIMIT_SECONDS, peakRssMiB: MEMORY_LIMIT_KIB / 1024 },
      table,
      failed,
      // What the operator would read: the distinct first words of each bad-input message.
      messages: [
        ...new Set(runs.filter((r) => r.exitCode === 65).map((r) => messageKind(r.firstLine))),
      ].sort(),
    };
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`${failed.length} of ${runs.length} runs broke a rule; saved ${values.out}`);
    if (failed.length > 0) {
      console.log(
        `failing copies are in ${failures}: node ${CAFFE} compute_image_mean <a folder holding one as data.mdb>`,
      );
      process.exitCode = 1;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A message with its numbers and names blanked, so alike messages count once. */
function messageKind(line: string): string {
  return line
    .replace(/'[^']*'/g, "'…'")
    .replace(/\/\S+/g, '…')
    .replace(/\d+/g, 'N');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
