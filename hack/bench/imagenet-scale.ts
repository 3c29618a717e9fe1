// Benchmark of the data pipeline at ILSVRC2012's counts: an ILSVRC-shaped tree of tiny images (1,000
// classes, 1,281,167 train and 50,000 val files, hard-linked from a small pool; hack/sample-ilsvrc.ts)
// prepared by N `caffe imagenet prep` workers at once (child processes, as an Indexed Job runs them),
// then `caffe imagenet finalize`, then one pass of the training loader over the train shards. Per step:
// wall and CPU time and peak RSS (GNU time, per child), and the sizes of what it wrote. The result is
// checked against the tree: per-class counts of manifest.json and train.txt, every train.txt label,
// val.txt against the tree's labels, and the mean against the pool images weighted by their links.
//
//   node dist/hack/bench/imagenet-scale.js [--tree=DIR] [--total=1281167] [--workers=16,2,1] [--size=32]
//        [--work=DIR] [--out=.brewery/bench/imagenet-scale.json]
//
// Targets (issue 18): every prep worker at most 512 MiB peak RSS, finalize below 1 GiB.
import { spawn } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { addInterleavedInto, decodeInterleaved, resizeToJpeg } from '../../trainer/data/images.js';
import { DataLoader } from '../../trainer/data/loader.js';
import { lmdbSource } from '../../trainer/data/loader-sources.js';
import { readMeanBlob } from '../../trainer/data/records.js';
import { generateIlsvrcTree, ILSVRC2012 } from '../sample-ilsvrc.js';

const CAFFE = resolve(fileURLToPath(import.meta.url), '../../../trainer/cli/main.js');
const SELF = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;
const LOADER_BATCH = 256;

interface Measured {
  wall: number;
  cpu: number;
  rssMiB: number;
  stdout: string;
}

interface Row {
  workers: number;
  step: string;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  /** Peak RSS of each worker (prep). */
  workerRssMiB?: number[];
  outputs?: Record<string, number>;
  note?: string;
}

/** Runs a command under GNU time: wall, user+system CPU and peak RSS. */
function timed(args: string[]): Promise<Measured> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d).slice(-20_000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const match = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      if (code !== 0 || !match) {
        reject(new Error(`node ${args.join(' ')} failed (${code}):\n${stderr}`));
        return;
      }
      resolveRun({
        wall: Number(match[1]),
        cpu: Number(match[2]) + Number(match[3]),
        rssMiB: Number(match[4]) / 1024,
        stdout,
      });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tree: { type: 'string' },
      total: { type: 'string', default: String(ILSVRC2012.train) },
      workers: { type: 'string', default: '16,2,1' },
      size: { type: 'string', default: '32' },
      work: { type: 'string', default: '.brewery/bench/imagenet-scale' },
      out: { type: 'string', default: '.brewery/bench/imagenet-scale.json' },
      'loader-pass': { type: 'string' },
    },
  });
  if (values['loader-pass']) return loaderPass(values['loader-pass']);
  const work = resolve(values.work);
  const size = Number(values.size);
  const total = Number(values.total);
  const tree = resolve(values.tree ?? join(work, `tree-${total}`));
  const started = performance.now();
  if (!existsSync(join(tree, 'train'))) {
    console.log(`generating an ILSVRC-shaped tree of ${total} train images in ${tree}`);
    await generateIlsvrcTree({ out: tree, total });
    console.log(`  took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const expected = await expectedFromTree(tree, size);
  const rows: Row[] = [];
  const checks: Record<string, string> = {};
  const load: number[][] = [loadavg()];
  for (const workers of values.workers.split(',').map(Number)) {
    const out = join(work, `prep-${workers}`);
    rmSync(out, { recursive: true, force: true });
    const t0 = performance.now();
    const runs = await Promise.all(
      Array.from({ length: workers }, (_, i) =>
        timed([
          CAFFE,
          'imagenet',
          'prep',
          `--train=${join(tree, 'train')}`,
          `--val=${join(tree, 'val')}`,
          `--val-labels=${join(tree, 'val.txt')}`,
          `--words=${join(tree, 'words.txt')}`,
          `--out=${out}`,
          `--size=${size}`,
          `--shard-count=${workers}`,
          `--shard-index=${i}`,
          '--threads=2',
          '--progress-interval=60',
        ]),
      ),
    );
    load.push(loadavg());
    rows.push({
      workers,
      step: 'prep',
      wallSeconds: (performance.now() - t0) / 1000,
      cpuSeconds: runs.reduce((s, r) => s + r.cpu, 0),
      peakRssMiB: Math.max(...runs.map((r) => r.rssMiB)),
      workerRssMiB: runs.map((r) => Math.round(r.rssMiB)),
      outputs: {
        trainShardBytes: folderBytes(join(out, 'train')),
        valShardBytes: folderBytes(join(out, 'val')),
        markerAndListBytes: folderBytes(join(out, 'shards')),
      },
    });
    const fin = await timed([CAFFE, 'imagenet', 'finalize', `--out=${out}`]);
    load.push(loadavg());
    rows.push({
      workers,
      step: 'finalize',
      wallSeconds: fin.wall,
      cpuSeconds: fin.cpu,
      peakRssMiB: fin.rssMiB,
      outputs: Object.fromEntries(
        ['manifest.json', 'train.txt', 'val.txt', 'mean.binaryproto'].map((f) => [
          f,
          statSync(join(out, f)).size,
        ]),
      ),
    });
    checks[`workers=${workers}`] = await verify(out, tree, expected);
    console.log(`${workers} workers: ${checks[`workers=${workers}`]}`);
    printTable(rows.filter((r) => r.workers === workers));
    if (workers === Number(values.workers.split(',')[0])) {
      const pass = await timed([SELF, `--loader-pass=${join(out, 'train')}`]);
      const result = JSON.parse(pass.stdout) as { records: number; indexBytes: number; batches: number };
      rows.push({
        workers,
        step: 'loader pass',
        wallSeconds: pass.wall,
        cpuSeconds: pass.cpu,
        peakRssMiB: pass.rssMiB,
        outputs: { records: result.records, indexBytes: result.indexBytes },
        note: `${(result.indexBytes / result.records).toFixed(1)} index bytes per record, ${result.batches} batches of ${LOADER_BATCH}`,
      });
    }
  }
  printTable(rows);
  const report = {
    date: new Date().toISOString(),
    // Everything here shares two cores with whatever else runs: the 1, 5, 15 minute load averages,
    // at the start and after each step.
    loadAverage: load,
    cores: availableParallelism(),
    memoryGiB: totalmem() / 1024 ** 3,
    tree: { train: expected.train, val: expected.val, classes: expected.perClass.length },
    size,
    rows,
    checks,
    targets: {
      prepWorkerPeakRssMiB: 512,
      finalizePeakRssMiB: 1024,
      prepMet: rows.filter((r) => r.step === 'prep').every((r) => r.peakRssMiB <= 512),
      finalizeMet: rows.filter((r) => r.step === 'finalize').every((r) => r.peakRssMiB < 1024),
    },
  };
  console.log(
    `prep workers <= 512 MiB: ${report.targets.prepMet ? 'met' : 'NOT met'}; finalize < 1 GiB: ${report.targets.finalizeMet ? 'met' : 'NOT met'}`,
  );
  console.log(
    `load average (start, after each step): ${load.map((l) => l.map((v) => v.toFixed(1)).join('/')).join(', ')}`,
  );
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`saved ${values.out}`);
}

interface Expected {
  synsets: string[];
  perClass: number[];
  train: number;
  val: number;
  valLabels: Map<string, number>;
  /** The mean a correct prep computes: the pool images, resized as prep does, weighted by their links. */
  mean: Float64Array;
}

/** What the tree holds, read from the tree itself (folders, files, hard links), not from prep's code paths. */
async function expectedFromTree(tree: string, size: number): Promise<Expected> {
  const synsets = readdirSync(join(tree, 'train')).sort();
  const perClass: number[] = [];
  const linksOf = new Map<number, number>(); // inode of a pool image -> train files linked to it
  for (const wnid of synsets) {
    const files = readdirSync(join(tree, 'train', wnid));
    perClass.push(files.length);
    for (const f of files) {
      const ino = statSync(join(tree, 'train', wnid, f)).ino;
      linksOf.set(ino, (linksOf.get(ino) ?? 0) + 1);
    }
  }
  const sums = new Float64Array(3 * size * size);
  const pool = join(tree, '.pool');
  for (const name of readdirSync(pool)) {
    const weight = linksOf.get(statSync(join(pool, name)).ino) ?? 0;
    if (weight === 0) continue;
    const jpeg = await resizeToJpeg(readFileSync(join(pool, name)), size, 'squash', 95);
    const one = new Float64Array(sums.length);
    addInterleavedInto(one, await decodeInterleaved(jpeg));
    for (let i = 0; i < sums.length; i++) sums[i]! += weight * one[i]!;
  }
  const train = perClass.reduce((a, b) => a + b, 0);
  for (let i = 0; i < sums.length; i++) sums[i]! /= train;
  const valLabels = new Map<string, number>();
  for (const line of readFileSync(join(tree, 'val.txt'), 'utf8').split('\n')) {
    const [name, label] = line.split(' ');
    if (name) valLabels.set(name, Number(label));
  }
  return { synsets, perClass, train, val: valLabels.size, valLabels, mean: sums };
}

/** Checks a finalized dataset against the tree; throws on the first difference. */
async function verify(out: string, tree: string, expected: Expected): Promise<string> {
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
    synsets: number;
    splits: Record<string, { records: number; perClass: Record<string, number> }>;
    skipped: unknown[];
  };
  const fail = (what: string) => {
    throw new Error(`${out}: ${what}`);
  };
  if (manifest.synsets !== expected.synsets.length) fail(`manifest has ${manifest.synsets} synsets`);
  if (manifest.skipped.length !== 0) fail(`manifest skipped ${manifest.skipped.length} files`);
  expected.synsets.forEach((wnid, k) => {
    if (manifest.splits.train!.perClass[wnid] !== expected.perClass[k])
      fail(
        `manifest: ${wnid} has ${manifest.splits.train!.perClass[wnid]} train records, the tree ${expected.perClass[k]}`,
      );
  });
  if (manifest.splits.train!.records !== expected.train)
    fail(`manifest: ${manifest.splits.train!.records} train records`);
  // train.txt: sorted, every line `wnid/file label` with the label of its folder, counts per class.
  const counted = new Array<number>(expected.synsets.length).fill(0);
  const labelOf = new Map(expected.synsets.map((s, i) => [s, i]));
  let previous = '';
  let lines = 0;
  for await (const line of createInterface({ input: createReadStream(join(out, 'train.txt')) })) {
    const [rel, label] = line.split(' ');
    const wnid = rel!.split('/')[0]!;
    if (labelOf.get(wnid) !== Number(label))
      fail(`train.txt: '${line}' is not labelled ${labelOf.get(wnid)}`);
    if (line <= previous) fail(`train.txt: '${line}' does not sort after '${previous}'`);
    if (!existsSync(join(tree, 'train', rel!))) fail(`train.txt: ${rel} is not in the tree`);
    counted[Number(label)]!++;
    previous = line;
    lines++;
  }
  if (lines !== expected.train) fail(`train.txt has ${lines} lines, the tree ${expected.train} images`);
  counted.forEach((n, k) => {
    if (n !== expected.perClass[k])
      fail(`train.txt: class ${k} has ${n} lines, the tree ${expected.perClass[k]}`);
  });
  let valLines = 0;
  for await (const line of createInterface({ input: createReadStream(join(out, 'val.txt')) })) {
    const [name, label] = line.split(' ');
    if (expected.valLabels.get(name!) !== Number(label))
      fail(`val.txt: '${line}' differs from the tree's val.txt`);
    valLines++;
  }
  if (valLines !== expected.val) fail(`val.txt has ${valLines} lines, the tree ${expected.val}`);
  const mean = readMeanBlob(readFileSync(join(out, 'mean.binaryproto')), 'mean.binaryproto');
  let worst = 0;
  for (let i = 0; i < expected.mean.length; i++)
    worst = Math.max(worst, Math.abs(mean.data[i]! - expected.mean[i]!));
  if (worst > 1e-3) fail(`mean differs from the tree's by up to ${worst}`);
  return `manifest, train.txt (${lines} lines), val.txt (${valLines}) and mean (max difference ${worst.toExponential(1)}) match the tree`;
}

/** One pass of the loader over every record of the shards; prints its counts as JSON. */
async function loaderPass(shards: string): Promise<void> {
  const source = await lmdbSource(shards);
  let records = 0;
  let indexBytes = 0;
  for (let p = 0; p < source.parts.length; p++) {
    const part = await source.open(p);
    records += part.size;
    indexBytes += part.indexBytes ?? 0;
    await part.release();
    await source.cache?.evict(p);
  }
  await source.close();
  const loader = await DataLoader.open({
    source: { type: 'Data', uri: shards },
    batchSize: LOADER_BATCH,
    phase: 'TRAIN',
    transform: { mirror: true },
    shuffle: true,
    seed: 1,
    threads: 2,
  });
  const batches = Math.ceil(records / LOADER_BATCH);
  for (let i = 0; i < batches; i++) loader.recycle((await loader.next()).data);
  await loader.close();
  process.stdout.write(`${JSON.stringify({ records, indexBytes, batches })}\n`);
}

function folderBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

function printTable(rows: Row[]): void {
  const header = `${'workers'.padEnd(8)}${'step'.padEnd(13)}${'wall s'.padStart(9)}${'cpu s'.padStart(9)}${'peak RSS MiB'.padStart(14)}  outputs`;
  console.log(header);
  for (const r of rows) {
    const outputs = Object.entries(r.outputs ?? {})
      .map(([k, v]) => `${k} ${k.endsWith('Bytes') || k.includes('.') ? `${(v / MiB).toFixed(1)} MiB` : v}`)
      .join(', ');
    console.log(
      `${String(r.workers).padEnd(8)}${r.step.padEnd(13)}${r.wallSeconds.toFixed(1).padStart(9)}${r.cpuSeconds.toFixed(1).padStart(9)}${r.peakRssMiB.toFixed(0).padStart(14)}  ${outputs}${r.note ? `; ${r.note}` : ''}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
