// The loader bench's shard-boundary part: a dataset of 256x256 shards on the object server (raw
// datums, then JPEG-encoded ones) read through an epoch and a half, with and without prefetch. At each shard open the loader reports how
// long its record stream waited for the shard (download and index) since the previous one ended; the
// consumer's wall time and longest wait for a batch show what of that reached training.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';

import { objectStore } from '../../test/support/object-store.js';
import { LmdbWriter } from '../../trainer/data/lmdb-writer.js';
import { DataLoader, type ShardOpenEvent } from '../../trainer/data/loader.js';
import { encodedDatumBytes, rawDatumBytes } from '../../trainer/data/records.js';
import { s3ConfigFromEnv } from '../../trainer/storage/index.js';
import { S3Storage } from '../../trainer/storage/s3.js';

const SIDE = 256;
const BATCH = 32;

export interface ShardBoundaryRow {
  records: 'raw' | 'encoded';
  prefetch: boolean;
  shards: number;
  shardMiB: number;
  batches: number;
  /** Shard opens after the first (the first is start-up, not a boundary). */
  boundaries: number;
  /** Milliseconds the loader's record stream waited at each boundary. */
  waitsMs: number[];
  meanWaitMs: number;
  maxWaitMs: number;
  /** Boundaries whose shard was downloading or on disk before it was needed. */
  prefetched: number;
  /** The consumer's time for the whole pass, and its longest wait for one batch. */
  wallSeconds: number;
  longestBatchWaitMs: number;
  /** Most shards the loader held at once. */
  highWater: number;
  /** This process's peak RSS so far (cumulative over the bench's runs). */
  peakRssMiB: number;
}

export async function shardBoundaryBench(
  shards: number,
  perShard: number,
  meanFile: string,
): Promise<ShardBoundaryRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'brewery-bench-shards-'));
  const store = await objectStore();
  const savedEnv = { ...process.env };
  try {
    Object.assign(process.env, store.env);
    const bucket = await store.bucket('bench-loader-shards');
    const rows: ShardBoundaryRow[] = [];
    for (const records of ['raw', 'encoded'] as const) {
      const dataset = { bucket, env: store.env, work, meanFile };
      rows.push(...(await passes(records, shards, perShard, dataset)));
    }
    return rows;
  } finally {
    process.env = savedEnv;
    await store.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** One dataset of the kind on the object server, read without prefetch, then with. */
async function passes(
  records: 'raw' | 'encoded',
  shards: number,
  perShard: number,
  {
    bucket,
    env,
    work,
    meanFile,
  }: { bucket: string; env: Record<string, string>; work: string; meanFile: string },
): Promise<ShardBoundaryRow[]> {
  const uri = `${bucket}/${records}-${Date.now()}`;
  const s3 = new S3Storage(new S3Client(s3ConfigFromEnv(env)));
  const local = join(work, `shards-${records}`);
  await writeShards(local, records, shards, perShard);
  let bytes = 0;
  for (const shard of readdirSync(local)) {
    const file = join(local, shard, 'data.mdb');
    await s3.putFile(file, `${uri}/${shard}/data.mdb`);
    bytes += (await s3.stat(`${uri}/${shard}/data.mdb`))!.size;
  }
  rmSync(local, { recursive: true, force: true });
  const batches = Math.ceil((shards * perShard * 3) / 2 / BATCH);
  const rows: ShardBoundaryRow[] = [];
  for (const prefetch of [false, true]) {
    const opens: ShardOpenEvent[] = [];
    const loader = await DataLoader.open({
      source: { type: 'Data', uri },
      batchSize: BATCH,
      phase: 'TRAIN',
      transform: { cropSize: 227, mirror: true, meanFile },
      shuffle: false,
      seed: 1,
      threads: 1,
      cacheDir: join(work, 'cache'),
      shardPrefetch: prefetch,
      onShardOpen: (event) => opens.push(event),
    });
    let longest = 0;
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) {
      const asked = performance.now();
      const batch = await loader.next();
      if (i > 0) longest = Math.max(longest, performance.now() - asked);
      loader.recycle(batch.data);
    }
    const wall = (performance.now() - t0) / 1000;
    await loader.close();
    const boundaries = opens.slice(1);
    const waits = boundaries.map((e) => e.waitedMs);
    rows.push({
      records,
      prefetch,
      shards,
      shardMiB: bytes / shards / 2 ** 20,
      batches,
      boundaries: boundaries.length,
      waitsMs: waits,
      meanWaitMs: waits.reduce((a, b) => a + b, 0) / Math.max(1, waits.length),
      maxWaitMs: Math.max(0, ...waits),
      prefetched: boundaries.filter((e) => e.prefetched).length,
      wallSeconds: wall,
      longestBatchWaitMs: longest,
      highWater: loader.shardCache()?.highWater ?? 0,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    });
  }
  return rows;
}

export function printShardBoundaryRows(rows: ShardBoundaryRow[]): void {
  console.log(
    `${'records'.padEnd(8)} ${'prefetch'.padEnd(9)} ${'shards'.padStart(6)} ${'MiB/shard'.padStart(9)} ${'boundaries'.padStart(10)} ${'prefetched'.padStart(10)} ${'mean wait ms'.padStart(12)} ${'max wait ms'.padStart(11)} ${'wall s'.padStart(7)} ${'longest batch ms'.padStart(16)} ${'held max'.padStart(8)} ${'peak RSS MiB'.padStart(12)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.records.padEnd(8)} ${String(r.prefetch).padEnd(9)} ${String(r.shards).padStart(6)} ${r.shardMiB.toFixed(1).padStart(9)} ${String(r.boundaries).padStart(10)} ${String(r.prefetched).padStart(10)} ${r.meanWaitMs.toFixed(1).padStart(12)} ${r.maxWaitMs.toFixed(1).padStart(11)} ${r.wallSeconds.toFixed(2).padStart(7)} ${r.longestBatchWaitMs.toFixed(0).padStart(16)} ${String(r.highWater).padStart(8)} ${r.peakRssMiB.toFixed(0).padStart(12)}`,
    );
  }
}

/** 3x256x256 datums, raw as `caffe imagenet prep --encoded=false` writes them, or JPEG-encoded. */
async function writeShards(dir: string, records: 'raw' | 'encoded', shards: number, perShard: number) {
  const pixels = new Uint8Array(3 * SIDE * SIDE);
  let r = 0;
  for (let s = 0; s < shards; s++) {
    const name = `shard-${String(s).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}`;
    const writer = new LmdbWriter(join(dir, name));
    for (let i = 0; i < perShard; i++, r++) {
      for (let p = 0; p < pixels.length; p++) pixels[p] = (p * 7 + r * 13) & 255;
      const key = Buffer.from(`${String(r).padStart(8, '0')}_r${r}`);
      if (records === 'raw') writer.put(key, rawDatumBytes(pixels, 3, SIDE, SIDE, r % 4));
      else {
        // sharp takes interleaved pixels; these are planar, which only changes the pattern encoded.
        const raw = { raw: { width: SIDE, height: SIDE, channels: 3 as const } };
        const jpeg = await sharp(pixels, raw).jpeg({ quality: 90 }).toBuffer();
        writer.put(key, encodedDatumBytes(jpeg, r % 4));
      }
    }
    writer.finish();
  }
}
