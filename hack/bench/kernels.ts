// Benchmark of the compute backends on a CaffeNet-shaped step (hack/bench/caffenet.ts), per kernel and
// whole step, beside PyTorch on the CPU for the same net. Each backend runs in its own process, so peak
// memory is per backend and backends cannot disturb each other.
//
//   node dist/hack/bench/kernels.js [--batch=16] [--iterations=3] [--cpu-batch=1]
//        [--backends=tensorflow,wasm,wasm-stock,cpu] [--torch=/usr/bin/python3] [--threads=N]
//        [--out=.brewery/bench/kernels.json]
//
// `wasm-stock` is wasm with only the kernels it lacks added, none of our replacements, to show what
// they buy. A backend that cannot start (tensorflow before `npm run setup:native`) is reported and
// skipped. PyTorch needs Debian's python3-torch (`--torch=` empty to skip).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type BenchResult, formatReport } from './kernels_report.js';

const here = dirname(fileURLToPath(import.meta.url));
const flags = parseFlags(process.argv.slice(2));

if (flags.worker) {
  const { runWorker } = await import('./kernels_worker.js');
  const result = await runWorker(flags.worker, Number(flags.batch), Number(flags.iterations));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const batch = Number(flags.batch ?? 16);
  const iterations = Number(flags.iterations ?? 3);
  const cpuBatch = Number(flags['cpu-batch'] ?? 1);
  const threads = Number(flags.threads ?? os.availableParallelism());
  const backends = (flags.backends ?? 'tensorflow,wasm,wasm-stock,cpu').split(',').filter(Boolean);
  const results: BenchResult[] = [];
  const skipped: string[] = [];

  for (const backend of backends) {
    const isCpu = backend === 'cpu';
    const args = [
      fileURLToPath(import.meta.url),
      `--worker=${backend}`,
      `--batch=${isCpu ? cpuBatch : batch}`,
      `--iterations=${isCpu ? 1 : iterations}`,
    ];
    process.stderr.write(`bench: ${backend} at batch ${isCpu ? cpuBatch : batch}...\n`);
    const env = { ...process.env, BREWERY_WASM_THREADS: String(threads) };
    const run = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status === 0 && line.startsWith('{')) results.push(JSON.parse(line) as BenchResult);
    else skipped.push(`${backend}: ${lastLines(run.stderr || run.stdout, 3)}`);
  }

  const python = flags.torch ?? '/usr/bin/python3';
  if (python) {
    process.stderr.write(`bench: pytorch at batch ${batch}...\n`);
    const script = join(here, '..', '..', '..', 'hack', 'bench', 'caffenet_torch.py');
    const run = spawnSync(python, [script, String(batch), String(iterations), String(threads)], {
      encoding: 'utf8',
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status === 0 && line.startsWith('{')) results.push(JSON.parse(line) as BenchResult);
    else skipped.push(`pytorch: ${lastLines(run.stderr || run.stdout, 3)}`);
  }

  const report = {
    date: new Date().toISOString(),
    cores: os.availableParallelism(),
    threads,
    results,
    skipped,
  };
  process.stdout.write(`${formatReport(results, skipped)}\n`);
  const out = flags.out ?? join('.brewery', 'bench', 'kernels.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`saved ${out}\n`);
  if (!existsSync(out)) process.exitCode = 1;
}

function parseFlags(argv: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const arg of argv) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`bench: expected --name=value flags, received "${arg}"`);
    out[match[1]!] = match[2] ?? '';
  }
  return out;
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}
