// The training loader: streams a dataset's parts (LMDB shards, or a list file of images), orders
// records (sequentially as Caffe's cursor, or shuffled per epoch), and has worker threads decode and
// transform them into float32 NCHW batches, a few batches ahead. S3 shards stream through a local
// cache: the part read next downloads while the current one is read, at most two on disk
// (shard-prefetch.ts decides which). Its position after every batch
// (cursor and RNG state) can be saved, and a loader opened with it yields exactly the next batch.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import { BadInputError } from '../contract/errors.js';
import type { TransformationParameter } from '../proto/index.js';
import { Rng, type RngState } from '../rng.js';
import { storageFor } from '../storage/index.js';
import { listSource, lmdbSource, type RecordSource, type SourcePart } from './loader-sources.js';
import type { WorkerInit, WorkerJob, WorkerReply } from './loader-worker.js';
import { readMeanBlob } from './records.js';
import { followingPart, planShards, type ShardPlan } from './shard-prefetch.js';
import { DRAWS_PER_IMAGE, type Phase, type TransformSettings } from './transform.js';

export type LoaderSourceOptions =
  | { type: 'Data'; uri: string }
  | {
      type: 'ImageData';
      listFile: string;
      rootFolder: string;
      newHeight: number;
      newWidth: number;
      isColor: boolean;
    };

export interface LoaderOptions {
  source: LoaderSourceOptions;
  batchSize: number;
  phase: Phase;
  transform: TransformationParameter;
  /** Shuffle parts and records each epoch (Caffe's Data layer reads in key order: false). */
  shuffle: boolean;
  seed: number;
  /** Decode threads (default: the core count). */
  threads?: number;
  /** Batches prepared ahead (default: Caffe's prefetch of 4, at least 2 per thread); at least 1. */
  prefetch?: number;
  /** Where S3 shards are downloaded, in a folder of the loader's own (default: the OS temp folder). */
  cacheDir?: string;
  /** Download the part read next while one is read (default true; false only to measure without). */
  shardPrefetch?: boolean;
  /** Told each time a part is opened: how long reading waited for it, and what the cache held. */
  onShardOpen?: (event: ShardOpenEvent) => void;
  /** Continue from this position (from `position()` of an earlier loader with the same options). */
  position?: LoaderPosition;
  /**
   * Skip records that do not parse or decode, telling this function why (naming each), instead of
   * failing with a BadInputError. A skipped record's slot takes a copy of another image of its batch.
   */
  onDamagedRecord?: (message: string) => void;
}

export interface ShardOpenEvent {
  part: number;
  /** An LMDB shard ('datum') or an ImageData list file ('image'), and its URI. */
  kind: 'datum' | 'image';
  name: string;
  epoch: number;
  /** Milliseconds the record stream waited, from the previous part's end (or the start) to this part open. */
  waitedMs: number;
  /** S3 shards only: whether the part was on disk or downloading before reading needed it. */
  prefetched?: boolean;
  /** S3 shards only: parts the cache holds (on disk or downloading), and files in its folder, counted. */
  held?: number;
  filesOnDisk?: number;
}

/** Everything needed to continue after a batch; plain JSON. */
export interface LoaderPosition {
  epoch: number;
  epochSeed: number | null;
  part: number;
  partSeed: number | null;
  record: number;
  rng: RngState;
  batches: number;
}

export interface Batch {
  /** N x C x H x W, BGR channel order for colour images, as Caffe. */
  data: Float32Array;
  labels: Float32Array;
  shape: [number, number, number, number];
  /** Why each record skipped for this batch was skipped (only when skipping damaged records). */
  damaged?: string[];
}

/** A batch, and where the loader stands after it. */
interface Prepared {
  batch: Batch;
  position: LoaderPosition;
}

export class DataLoader {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve(b: Batch): void; reject(e: Error): void }>();
  /** Batches being prepared, in the order next() returns them: `prefetch` of them at a time. */
  private readonly queue: Promise<Prepared>[] = [];
  private readonly rng: Rng;
  private cursor: Omit<LoaderPosition, 'rng' | 'batches'>;
  private batches: number;
  private current:
    | { part: SourcePart; index: number; order: Uint32Array | undefined; unreadable: number }
    | undefined;
  /** When the record stream started waiting for the part it opens next. */
  private waitingSince: number | undefined;
  /** Records are gathered for one batch at a time, in order; the decoding runs on the workers in parallel. */
  private readonly gathering = new InOrder();
  private lastPosition: LoaderPosition;
  private nextJob = 0;
  /** Messages of records that could not be read while gathering the batch under way. */
  private unreadRecords: string[] = [];
  private readonly prefetch: number;
  /** Batch buffers handed back by the consumer, for workers to fill again (fresh ones cost page faults). */
  private readonly spare: ArrayBuffer[] = [];

  private constructor(
    private readonly source: RecordSource,
    private readonly options: LoaderOptions,
    init: WorkerInit,
    threads: number,
  ) {
    const start = options.position;
    this.rng = start ? Rng.fromState(start.rng) : new Rng(options.seed);
    this.cursor = start
      ? {
          epoch: start.epoch,
          epochSeed: start.epochSeed,
          part: start.part,
          partSeed: start.partSeed,
          record: start.record,
        }
      : { epoch: 0, epochSeed: null, part: 0, partSeed: null, record: 0 };
    this.batches = start?.batches ?? 0;
    this.lastPosition = this.snapshot();
    this.prefetch = Math.max(1, options.prefetch ?? Math.max(4, 2 * threads));
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL('./loader-worker.js', import.meta.url));
      worker.on('message', (reply: WorkerReply) => this.onReply(reply));
      worker.on('error', (error) => this.failAll(error));
      worker.postMessage(init);
      this.workers.push(worker);
    }
  }

  static async open(options: LoaderOptions): Promise<DataLoader> {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new BadInputError(`expected a positive batch_size, received ${options.batchSize}`, 'batch_size');
    }
    const source =
      options.source.type === 'Data'
        ? await lmdbSource(options.source.uri, options.cacheDir)
        : await listSource(options.source.listFile, options.source.rootFolder);
    const part = options.position?.part;
    if (part !== undefined && part >= source.parts.length) {
      throw new BadInputError(
        `the saved loader position is in part ${part}, but the source has ${source.parts.length} parts`,
        source.parts[0],
      );
    }
    const t = options.transform;
    if (t.forceColor && t.forceGray) {
      throw new BadInputError('force_color and force_gray cannot both be true', 'transform_param');
    }
    const settings: TransformSettings = {
      phase: options.phase,
      scale: t.scale ?? 1,
      mirror: t.mirror ?? false,
      cropSize: t.cropSize ?? 0,
      ...(t.meanValue && t.meanValue.length > 0 ? { meanValues: t.meanValue } : {}),
    };
    if (t.meanFile) {
      if (settings.meanValues) {
        throw new BadInputError(
          'cannot specify mean_file and mean_value at the same time',
          'transform_param',
        );
      }
      settings.meanImage = readMeanBlob(await storageFor(t.meanFile).read(t.meanFile), t.meanFile);
    }
    const image = options.source.type === 'ImageData' ? options.source : undefined;
    const init: WorkerInit = {
      type: 'init',
      settings,
      forceColor: t.forceColor ?? false,
      forceGray: t.forceGray ?? false,
      isColor: image?.isColor ?? true,
      newHeight: image?.newHeight ?? 0,
      newWidth: image?.newWidth ?? 0,
      skipDamaged: options.onDamagedRecord !== undefined,
    };
    return new DataLoader(source, options, init, Math.max(1, options.threads ?? availableParallelism()));
  }

  /** The next batch. */
  async next(): Promise<Batch> {
    while (this.queue.length < this.prefetch) this.queue.push(this.prepare());
    const pending = this.queue.shift()!;
    this.queue.push(this.prepare());
    const { batch, position } = await pending;
    this.lastPosition = position;
    // Told as batches are used, not as they are prefetched, so a run counts the records it skipped.
    for (const message of batch.damaged ?? []) this.options.onDamagedRecord?.(message);
    return batch;
  }

  /**
   * Hands a batch's data buffer back for reuse: the caller must not read or keep it afterwards.
   * Filling a used buffer again saves the page faults of a new one (about half a millisecond per
   * 227x227 image).
   */
  recycle(data: Float32Array): void {
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (whole && data.byteLength > 0 && this.spare.length < this.prefetch)
      this.spare.push(data.buffer as ArrayBuffer);
  }

  /** The most S3 shards the loader held on disk at once (downloads under way included), and where. */
  shardCache(): { dir: string; highWater: number } | undefined {
    const cache = this.source.cache;
    return cache ? { dir: cache.dir, highWater: cache.highWater() } : undefined;
  }

  /** Where the loader stands after the last batch `next()` returned. */
  position(): LoaderPosition {
    return structuredClone(this.lastPosition);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    await this.gathering.idle();
    await this.current?.part.release();
    await this.source.close();
    this.failAll(new Error('the loader was closed'));
  }

  /** Gathers the next batch's records (in order, one batch at a time) and has a worker decode them. */
  private prepare(): Promise<Prepared> {
    const prepared = this.gathering
      .run(() => this.gather())
      .then(async ({ job, position, unread }) => {
        const batch = await this.decode(job);
        const damaged = [...unread, ...(batch.damaged ?? [])];
        return { batch: damaged.length > 0 ? { ...batch, damaged } : batch, position };
      });
    return awaitedLater(prepared);
  }

  /** Hands a batch's records to a worker thread; resolves with the batch it makes of them. */
  private decode(job: WorkerJob): Promise<Batch> {
    return new Promise<Batch>((resolve, reject) => {
      this.waiting.set(job.id, { resolve, reject });
      const out = this.spare.pop();
      if (out) job.out = out;
      const transfer = [...job.items.map((b) => b.buffer as ArrayBuffer), ...(out ? [out] : [])];
      this.workers[job.id % this.workers.length]!.postMessage(job, [...new Set(transfer)]);
    });
  }

  private async gather(): Promise<{ job: WorkerJob; position: LoaderPosition; unread: string[] }> {
    const n = this.options.batchSize;
    const items: Uint8Array[] = [];
    const labels: number[] = [];
    const names: string[] = [];
    const draws = new Uint32Array(n * DRAWS_PER_IMAGE);
    for (let i = 0; i < n; i++) {
      const item = await this.nextItem();
      // A private copy: its buffer is handed over to the worker thread.
      items.push(new Uint8Array(item.bytes));
      labels.push(item.label);
      names.push(item.name);
      for (let d = 0; d < DRAWS_PER_IMAGE; d++) draws[i * DRAWS_PER_IMAGE + d] = this.rng.nextUint32();
    }
    this.batches++;
    const unread = this.unreadRecords.splice(0);
    const job: WorkerJob = {
      type: 'job',
      id: this.nextJob++,
      kind: this.source.kind,
      items,
      labels,
      names,
      draws,
    };
    return { job, position: this.snapshot(), unread };
  }

  private async nextItem() {
    for (;;) {
      if (this.cursor.epochSeed === null) this.cursor.epochSeed = this.rng.nextUint32();
      if (!this.current) await this.openCurrent();
      const current = this.current!;
      if (this.cursor.record < current.part.size) {
        const index = current.order ? current.order[this.cursor.record]! : this.cursor.record;
        this.cursor.record++;
        try {
          return await current.part.read(index);
        } catch (error) {
          // A value that cannot be read where its shard's index puts it is a damaged record too.
          if (!(this.options.onDamagedRecord && error instanceof BadInputError)) throw error;
          if (++current.unreadable === current.part.size) {
            throw new BadInputError(
              'no record of the shard can be read, so none can be skipped to',
              this.source.parts[current.index],
            );
          }
          this.unreadRecords.push(error.message);
          continue;
        }
      }
      // This part is done: on to the next, and past the last part to the next epoch. Its local copy
      // goes unless it is also the part read next.
      this.waitingSince = performance.now();
      await current.part.release();
      // Only deletions here: whatever is missing downloads as the next part is opened, right after.
      const done = planShards({ reading: undefined, following: this.following(current), held: this.held() });
      await this.applyPlan({ evict: done.evict, fetch: [] });
      this.current = undefined;
      this.cursor.part++;
      this.cursor.partSeed = null;
      this.cursor.record = 0;
      if (this.cursor.part >= this.source.parts.length) {
        this.cursor = { epoch: this.cursor.epoch + 1, epochSeed: null, part: 0, partSeed: null, record: 0 };
      }
    }
  }

  private async openCurrent(): Promise<void> {
    const since = this.waitingSince ?? performance.now();
    this.waitingSince = undefined;
    const partOrder = this.partOrder();
    if (this.cursor.partSeed === null) this.cursor.partSeed = this.rng.nextUint32();
    const index = partOrder[this.cursor.part]!;
    const prefetched = this.held().includes(index);
    // Anything held but this part (a wrongly guessed next part) goes before it downloads.
    await this.applyPlan(planShards({ reading: index, following: undefined, held: this.held() }));
    const part = await this.source.open(index);
    const order = this.options.shuffle ? permutation(part.size, new Rng(this.cursor.partSeed)) : undefined;
    this.current = { part, index, order, unreadable: 0 };
    // As soon as it is open, the part read after it starts downloading.
    await this.applyPlan(
      planShards({ reading: index, following: this.following(this.current), held: this.held() }),
    );
    const cache = this.source.cache;
    this.options.onShardOpen?.({
      part: index,
      kind: this.source.kind,
      name: this.source.parts[index]!,
      epoch: this.cursor.epoch,
      waitedMs: performance.now() - since,
      ...(cache ? { prefetched, held: cache.held().length, filesOnDisk: await cache.filesOnDisk() } : {}),
    });
  }

  /** The part read after the current one, where one is downloaded ahead (S3 shards). */
  private following(current: { part: SourcePart }): number | undefined {
    if (!this.source.cache || this.options.shardPrefetch === false) return undefined;
    const order = this.partOrder();
    const last = this.cursor.part === order.length - 1;
    return followingPart(order, this.cursor.part, last ? this.nextEpochOrder(current.part) : undefined);
  }

  /**
   * The next epoch's part order. Shuffled, it comes from the epoch seed drawn after this part's
   * remaining records' draws; a record skipped as damaged shifts that draw, and then the guessed part
   * is deleted and the right one downloaded when it is opened.
   */
  private nextEpochOrder(current: SourcePart): number[] {
    const order = this.source.parts.map((_, i) => i);
    if (!this.options.shuffle) return order;
    const ahead = Rng.fromState(this.rng.saveState());
    const draws = Math.max(0, current.size - this.cursor.record) * DRAWS_PER_IMAGE;
    for (let i = 0; i < draws; i++) ahead.nextUint32();
    return new Rng(ahead.nextUint32()).shuffle(order);
  }

  private held(): number[] {
    return this.source.cache?.held() ?? [];
  }

  /** Deletes what the plan evicts, then starts its downloads (not waited for here). */
  private async applyPlan(plan: ShardPlan): Promise<void> {
    const cache = this.source.cache;
    if (!cache) return;
    for (const part of plan.evict) await cache.evict(part);
    for (const part of plan.fetch) void cache.fetch(part);
  }

  private partOrder(): number[] {
    const order = this.source.parts.map((_, i) => i);
    return this.options.shuffle ? new Rng(this.cursor.epochSeed!).shuffle(order) : order;
  }

  private snapshot(): LoaderPosition {
    return { ...this.cursor, rng: this.rng.saveState(), batches: this.batches };
  }

  private onReply(reply: WorkerReply): void {
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if ('error' in reply)
      waiter.reject(reply.badInput ? new BadInputError(reply.error) : new Error(reply.error));
    else
      waiter.resolve({ data: reply.data, labels: reply.labels, shape: reply.shape, damaged: reply.damaged });
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}

/**
 * Runs tasks one after another, in the order given. After a failure the tasks still to run fail with it
 * without running: a loader whose read failed is broken, and its later batches say so.
 */
class InOrder {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.last.then(task);
    this.last = next;
    return next;
  }

  /** Resolves once the tasks given so far have ended, failed or not. */
  async idle(): Promise<void> {
    await this.last.then(
      () => undefined,
      () => undefined,
    );
  }
}

/**
 * `promise`, marked as one that is awaited later (a batch or part prepared ahead): its failure is
 * reported where it is awaited, not as an unhandled rejection before then.
 */
function awaitedLater<T>(promise: Promise<T>): Promise<T> {
  promise.then(
    () => undefined,
    () => undefined,
  );
  return promise;
}

function permutation(size: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}
