// Benchmark of the training loader: images per second per core from an encoded shard (256x256
// JPEG records) through decode, random crop 227, mirror and mean subtraction into float32 batches,
// with 1 and 2 decode threads. Target: at least 500 images per second per core. Then the wait at each
// shard boundary when the shards stream from the object server, with and without prefetch
// (loader-shards.ts; the cluster's object server when BREWERY_CLUSTER_ENV names one, else one started
// here as the tests do).
//
//   node dist/hack/bench/loader.js [--images=512] [--batches=24] [--shards=4] [--shard-records=160]
//     [--out=.brewery/bench/loader.json]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import sharp from 'sharp';
import { DataLoader } from '../../trainer/data/loader.js';
import { writeJpegLmdb } from './jpeg-lmdb.js';
import { printShardBoundaryRows, shardBoundaryBench } from './loader-shards.js';

const BATCH = 64;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '512' },
      batches: { type: 'string', default: '24' },
      shards: { type: 'string', default: '4' },
      'shard-records': { type: 'string', default: '160' },
      out: { type: 'string', default: '.brewery/bench/loader.json' },
    },
  });
  const work = mkdtempSync(join(tmpdir(), 'brewery-bench-loader-'));
  try {
    const { lmdb: shard, meanFile } = await writeJpegLmdb(work, Number(values.images));

    const rows = [];
    for (const threads of [1, 2]) {
      const loader = await DataLoader.open({
        source: { type: 'Data', uri: shard },
        batchSize: BATCH,
        phase: 'TRAIN',
        transform: { cropSize: 227, mirror: true, meanFile },
        shuffle: true,
        seed: 1,
        threads,
      });
      // Start-up and the first prefetch are not timed. Each batch is handed back once read, as the
      // trainer does once the backend lets go of its tensor.
      loader.recycle((await loader.next()).data);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const batches = Number(values.batches);
      for (let i = 0; i < batches; i++) loader.recycle((await loader.next()).data);
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      await loader.close();
      const images = batches * BATCH;
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      rows.push({
        threads,
        images,
        wallSeconds: wall,
        cpuSeconds,
        imagesPerSecond: images / wall,
        imagesPerCoreSecond: images / cpuSeconds,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
      });
    }
    console.log(
      `${'threads'.padEnd(8)} ${'images'.padStart(7)} ${'wall s'.padStart(8)} ${'cpu s'.padStart(8)} ${'img/s'.padStart(8)} ${'img/s/core'.padStart(11)} ${'peak RSS MiB'.padStart(13)}`,
    );
    for (const r of rows) {
      console.log(
        `${String(r.threads).padEnd(8)} ${String(r.images).padStart(7)} ${r.wallSeconds.toFixed(2).padStart(8)} ${r.cpuSeconds.toFixed(2).padStart(8)} ${r.imagesPerSecond.toFixed(0).padStart(8)} ${r.imagesPerCoreSecond.toFixed(0).padStart(11)} ${r.peakRssMiB.toFixed(0).padStart(13)}`,
      );
    }
    const scaling = rows[1]!.imagesPerSecond / rows[0]!.imagesPerSecond;
    const perCore = rows[0]!.imagesPerCoreSecond;
    console.log(`scaling 1 -> 2 threads: ${scaling.toFixed(2)}x wall throughput`);
    console.log(
      `per core: ${perCore.toFixed(0)} images/s (target >= 500: ${perCore >= 500 ? 'met' : 'NOT met'})`,
    );
    const shardRows = await shardBoundaryBench(
      Number(values.shards),
      Number(values['shard-records']),
      meanFile,
    );
    printShardBoundaryRows(shardRows);
    const report = {
      date: new Date().toISOString(),
      // Per-core numbers move with what else runs on the machine: the 1, 5, 15 minute load averages.
      loadAverage: loadavg(),
      batch: BATCH,
      crop: 227,
      sharp: sharp.versions.sharp,
      rows,
      scaling,
      shardBoundaries: shardRows,
    };
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`load average: ${report.loadAverage.map((v) => v.toFixed(2)).join(' ')}`);
    console.log(`saved ${values.out}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
