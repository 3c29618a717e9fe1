// Benchmark of `caffe imagenet prep` on real-sized photos (500x375 JPEGs), side by side with the
// ImageMagick loop of Caffe's tutorial (`convert -resize 256x256!`, one process per image) and with
// decoding alone (the floor). All on one core: --threads=1, sharp.concurrency(1), MAGICK_THREAD_LIMIT=1.
//
//   node dist/hack/bench/prep.js [--images=200] [--out=.brewery/bench/prep.json]
//
// Targets: prep at least 4x the convert loop per core; prep within 2x of decode-only.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import sharp from 'sharp';

import { jpegFrame } from '../../trainer/data/images.js';
import { generateSampleImagenet } from '../sample-imagenet.js';

const CAFFE = resolve(fileURLToPath(import.meta.url), '../../../trainer/cli/main.js');
const CONVERT = '/usr/bin/convert'; // Debian's imagemagick

interface Row {
  method: string;
  images: number;
  wallSeconds: number;
  cpuSeconds: number;
  imagesPerCoreSecond: number;
  peakRssMiB: number;
}

/** Runs a command under GNU time: wall, user+system CPU and peak RSS of it and its children. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', command, ...args], {
    env,
    encoding: 'utf8',
  });
  const match = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(result.stderr);
  if (result.status !== 0 || !match)
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return {
    wall: Number(match[1]),
    cpu: Number(match[2]) + Number(match[3]),
    rssMiB: Number(match[4]) / 1024,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '200' },
      out: { type: 'string', default: '.brewery/bench/prep.json' },
    },
  });
  const count = Number(values.images);
  const work = mkdtempSync(join(tmpdir(), 'brewery-bench-prep-'));
  try {
    const tree = await generateSampleImagenet({
      out: join(work, 'tree'),
      classes: 4,
      perClass: Math.ceil(count / 4),
      valPerClass: 0,
      seed: 1,
      width: 500,
      height: 375,
      brokenPerKind: 0,
    });
    const files = readdirSync(tree.train).flatMap((d) =>
      readdirSync(join(tree.train, d)).map((f) => join(tree.train, d, f)),
    );
    const rows: Row[] = [];
    const row = (method: string, t: { wall: number; cpu: number; rssMiB: number }) =>
      rows.push({
        method,
        images: files.length,
        wallSeconds: t.wall,
        cpuSeconds: t.cpu,
        imagesPerCoreSecond: files.length / t.cpu,
        peakRssMiB: t.rssMiB,
      });

    // The floor: read and decode each file, nothing else, in a process of its own; with sharp (as
    // the issue measured it) and with the native codec prep uses (libjpeg-turbo, as OpenCV).
    const listFile = join(work, 'files.txt');
    writeFileSync(listFile, files.join('\n'));
    const emptyList = join(work, 'none.txt');
    writeFileSync(emptyList, '');
    for (const decoder of ['sharp', 'libjpeg-turbo'] as const) {
      const decode = timed(process.execPath, [
        fileURLToPath(import.meta.url),
        '--decode-only',
        decoder,
        listFile,
      ]);
      row(`decode only (${decoder})`, decode);
      // Both sides less their own process start-up, so the ratio compares per-image work. Start-up
      // (for the CLI, loading its modules) varies by a tenth from run to run on a busy machine: the
      // median of three.
      const decodeStartup = median(
        [1, 2, 3].map(() =>
          timed(process.execPath, [fileURLToPath(import.meta.url), '--decode-only', decoder, emptyList]),
        ),
      );
      row(`decode only (${decoder}), less start-up`, {
        ...decode,
        wall: decode.wall - decodeStartup.wall,
        cpu: decode.cpu - decodeStartup.cpu,
      });
    }
    // Prep's own start-up (loading the CLI, scanning, opening the shard, finishing it): the same
    // command over a one-image tree, so what is left is the per-image work.
    const oneImage = join(work, 'one', 'train', 'n00000001');
    mkdirSync(oneImage, { recursive: true });
    copyFileSync(files[0]!, join(oneImage, 'a.JPEG'));
    const startup = median(
      [1, 2, 3].map((i) =>
        timed(process.execPath, [
          CAFFE,
          'imagenet',
          'prep',
          `--train=${dirname(oneImage)}`,
          `--out=${join(work, `one-out-${i}`)}`,
          '--threads=1',
          '--progress-interval=3600',
        ]),
      ),
    );
    const prep = timed(process.execPath, [
      CAFFE,
      'imagenet',
      'prep',
      `--train=${tree.train}`,
      `--out=${join(work, 'out')}`,
      '--threads=1',
      '--progress-interval=3600',
    ]);
    row('caffe imagenet prep', prep);
    row('caffe imagenet prep, less start-up', {
      ...prep,
      wall: prep.wall - startup.wall,
      cpu: prep.cpu - startup.cpu,
    });
    const raw = timed(process.execPath, [
      CAFFE,
      'imagenet',
      'prep',
      `--train=${tree.train}`,
      `--out=${join(work, 'out-raw')}`,
      '--encoded=false',
      '--threads=1',
      '--progress-interval=3600',
    ]);
    row('prep --encoded=false, less start-up', {
      ...raw,
      wall: raw.wall - startup.wall,
      cpu: raw.cpu - startup.cpu,
    });

    const script =
      'while IFS= read -r f; do "$0" "$f" -resize "256x256!" "$1/out.jpg" || exit 1; done < "$2"';
    mkdirSync(join(work, 'convert'));
    row(
      'convert -resize 256x256! loop',
      timed('/bin/sh', ['-c', script, CONVERT, join(work, 'convert'), listFile], {
        ...process.env,
        MAGICK_THREAD_LIMIT: '1',
      }),
    );

    const by = (m: string) => rows.find((r) => r.method === m)!;
    const pipeline = by('caffe imagenet prep, less start-up');
    const report = {
      date: new Date().toISOString(),
      // Per-core numbers move with what else runs on the machine: the 1, 5, 15 minute load averages.
      loadAverage: loadavg(),
      imageSize: '500x375',
      outputSize: 256,
      convert: execFileSync(CONVERT, ['-version'], { encoding: 'utf8' }).split('\n')[0],
      sharp: sharp.versions,
      rows,
      ratios: {
        prepVsConvertPerCore:
          pipeline.imagesPerCoreSecond / by('convert -resize 256x256! loop').imagesPerCoreSecond,
        // The floor as the issue measured it: decoding with sharp.
        prepTimeVsDecodeOnly: pipeline.cpuSeconds / by('decode only (sharp), less start-up').cpuSeconds,
        // A harder floor: decoding with the native codec prep itself uses.
        prepTimeVsNativeDecodeOnly:
          pipeline.cpuSeconds / by('decode only (libjpeg-turbo), less start-up').cpuSeconds,
      },
    };
    console.log(
      `${'method'.padEnd(36)} ${'images'.padStart(6)} ${'wall s'.padStart(8)} ${'cpu s'.padStart(8)} ${'img/s/core'.padStart(11)} ${'peak RSS MiB'.padStart(13)}`,
    );
    for (const r of rows) {
      console.log(
        `${r.method.padEnd(36)} ${String(r.images).padStart(6)} ${r.wallSeconds.toFixed(2).padStart(8)} ${r.cpuSeconds.toFixed(2).padStart(8)} ${r.imagesPerCoreSecond.toFixed(1).padStart(11)} ${r.peakRssMiB.toFixed(0).padStart(13)}`,
      );
    }
    const { prepVsConvertPerCore: a, prepTimeVsDecodeOnly: b } = report.ratios;
    console.log(
      `prep vs convert loop, per core: ${a.toFixed(2)}x (target >= 4x: ${a >= 4 ? 'met' : 'NOT met'})`,
    );
    console.log(`prep time vs decode-only: ${b.toFixed(2)}x (target <= 2x: ${b <= 2 ? 'met' : 'NOT met'})`);
    const n = report.ratios.prepTimeVsNativeDecodeOnly;
    console.log(
      `  ${n.toFixed(2)}x against decoding with libjpeg-turbo alone (${n <= 2 ? 'within' : 'over'} 2x)`,
    );
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`load average: ${report.loadAverage.map((v) => v.toFixed(2)).join(' ')}`);
    console.log(`saved ${values.out}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function median<T extends { cpu: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.cpu - b.cpu)[Math.floor(runs.length / 2)]!;
}

/** The decode-only child: reads and decodes every listed file on one thread. */
async function decodeOnly(decoder: string, listFile: string): Promise<void> {
  sharp.cache(false);
  sharp.concurrency(1);
  const { nativeCodec } = await import('../../trainer/data/native-codec.js');
  if (decoder !== 'sharp' && !nativeCodec)
    throw new Error('the native image codec is not built: npm run setup');
  let out = new Uint8Array(0);
  for (const file of readFileSync(listFile, 'utf8').split('\n').filter(Boolean)) {
    const bytes = readFileSync(file);
    if (decoder === 'sharp') await sharp(bytes).raw().toBuffer();
    else {
      const frame = jpegFrame(bytes)!;
      if (out.length < frame.width * frame.height * 3) out = new Uint8Array(frame.width * frame.height * 3);
      nativeCodec!.decode(bytes, out, false);
    }
  }
}

if (process.argv[2] === '--decode-only') {
  decodeOnly(process.argv[3]!, process.argv[4]!).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
