// A loader thread: decodes one batch of records or image files and transforms it into a float32
// NCHW batch. Runs under node:worker_threads; the main thread sends the bytes and the random draws,
// so a batch's content depends only on them, never on which thread made it.
//
// A record that does not parse or decode is bad input naming it. When the run skips damaged records,
// its slot takes a copy of the batch's nearest good image instead (the batch keeps its size, and its
// content still depends only on the bytes and draws), and the reply names it.
import { parentPort } from 'node:worker_threads';

import { BadInputError } from '../contract/errors.js';
import { decodeInterleaved, encodedDatumIsColor, jpegFrame } from './images.js';
import { rawDatumValues, readDatum } from './records.js';
import { resizeImage } from './resize.js';
import {
  checkMean,
  DRAWS_PER_IMAGE,
  placement,
  type TransformSettings,
  transformInterleavedInto,
  transformInto,
} from './transform.js';

export interface WorkerInit {
  type: 'init';
  settings: TransformSettings;
  /** Encoded datums only: decode as colour / as gray; neither: as the image is. */
  forceColor: boolean;
  forceGray: boolean;
  /** Image files (ImageData): colour or gray, and the size to resize to (0: keep). */
  isColor: boolean;
  newHeight: number;
  newWidth: number;
  /** Skip records that do not parse or decode (filling their slots as above) instead of failing. */
  skipDamaged: boolean;
}

export interface WorkerJob {
  type: 'job';
  id: number;
  kind: 'datum' | 'image';
  items: Uint8Array[];
  /** Labels of image files (datums carry their own). */
  labels: number[];
  /** Where each item came from, for error messages. */
  names: string[];
  draws: Uint32Array;
  /** A used batch buffer to fill when it is the batch's size (the loader recycles them). */
  out?: ArrayBuffer;
}

export type WorkerReply =
  | {
      id: number;
      data: Float32Array;
      labels: Float32Array;
      shape: [number, number, number, number];
      /** Why each skipped record was skipped, naming it. */
      damaged: string[];
    }
  | { id: number; error: string; badInput: boolean };

interface Pixels {
  /** Planar C x H x W, or interleaved (H x W x C, BGR as decoded) when `interleaved`. */
  pixels: ArrayLike<number>;
  interleaved?: boolean;
  channels: number;
  height: number;
  width: number;
  label: number;
}

/** The decode buffer, reused image after image: a new one per image costs its page faults. */
let scratch = new Uint8Array(0);

let init: WorkerInit | undefined;
let queue: Promise<unknown> = Promise.resolve();

parentPort?.on('message', (message: WorkerInit | WorkerJob) => {
  if (message.type === 'init') {
    init = message;
    return;
  }
  // One batch at a time per thread, so the thread count is the parallelism.
  queue = queue
    .then(() => runJob(message))
    .then(
      (reply) => {
        const transfer = 'data' in reply ? [reply.data.buffer, reply.labels.buffer] : [];
        parentPort!.postMessage(reply, transfer as ArrayBuffer[]);
      },
      (error: Error) => {
        parentPort!.postMessage({
          id: message.id,
          error: error.message,
          badInput: error.name === 'BadInputError',
        });
      },
    );
});

async function runJob(job: WorkerJob): Promise<WorkerReply> {
  if (!init) throw new Error('loader worker: a job came before init');
  const settings = init.settings;
  const n = job.items.length;
  let out: Float32Array | undefined;
  let shape: [number, number, number, number] = [n, 0, 0, 0];
  let first: Pixels | undefined;
  const labels = new Float32Array(n);
  const damaged: { slot: number; reason: string }[] = [];
  for (let i = 0; i < n; i++) {
    let image: Pixels;
    try {
      image = await pixelsOf(job, i, init, first);
    } catch (error) {
      if (!(init.skipDamaged && error instanceof BadInputError)) throw error;
      damaged.push({ slot: i, reason: error.message });
      continue;
    }
    const p = placement(image.height, image.width, settings, job.draws, i * DRAWS_PER_IMAGE);
    if (!out) {
      checkMean(settings, image.channels, image.height, image.width);
      shape = [n, image.channels, p.outHeight, p.outWidth];
      const size = n * image.channels * p.outHeight * p.outWidth;
      // Every value of the batch is written below, so a recycled buffer needs no clearing.
      out = job.out?.byteLength === size * 4 ? new Float32Array(job.out) : new Float32Array(size);
      first = image;
    } else {
      checkSameShape(first!, image, job.names[i]!);
    }
    const at = i * shape[1] * shape[2] * shape[3];
    if (image.interleaved) {
      const hwc = image.pixels as Uint8Array;
      transformInterleavedInto(hwc, image.channels, image.height, image.width, settings, p, out, at);
    } else {
      transformInto(image.pixels, image.channels, image.height, image.width, settings, p, out, at);
    }
    labels[i] = image.label;
  }
  if (damaged.length > 0) {
    if (!out) {
      throw new BadInputError(
        `every record of a batch of ${n} is damaged, so there is none to take their place; the first: ${damaged[0]!.reason}`,
      );
    }
    fillDamagedSlots(out, labels, shape, new Set(damaged.map((d) => d.slot)));
  }
  return {
    id: job.id,
    data: out ?? new Float32Array(0),
    labels,
    shape,
    damaged: damaged.map((d) => d.reason),
  };
}

/** Each damaged slot takes the transformed image and label of the nearest good slot before it (or after). */
function fillDamagedSlots(
  out: Float32Array,
  labels: Float32Array,
  shape: [number, number, number, number],
  slots: Set<number>,
): void {
  const size = shape[1] * shape[2] * shape[3];
  const n = shape[0];
  for (const slot of slots) {
    let from = slot - 1;
    while (from >= 0 && slots.has(from)) from--;
    if (from < 0) {
      from = slot + 1;
      while (slots.has(from)) from++;
    }
    if (from >= n) continue; // unreachable: the caller has at least one good slot
    out.copyWithin(slot * size, from * size, (from + 1) * size);
    labels[slot] = labels[from]!;
  }
}

function checkSameShape(first: Pixels, image: Pixels, name: string): void {
  const expected = `${first.channels}x${first.height}x${first.width}`;
  const received = `${image.channels}x${image.height}x${image.width}`;
  if (received !== expected) {
    throw new BadInputError(
      `expected a ${expected} image like the first of its batch, received ${received}`,
      name,
    );
  }
}

async function pixelsOf(job: WorkerJob, i: number, options: WorkerInit, first?: Pixels): Promise<Pixels> {
  const bytes = job.items[i]!;
  const where = job.names[i]!;
  if (job.kind === 'image') {
    let image = await decodeInterleaved(bytes, { color: options.isColor, where });
    if (options.newHeight > 0 && options.newWidth > 0)
      image = resizeImage(image, options.newWidth, options.newHeight);
    return { ...image, interleaved: true, label: job.labels[i]! };
  }
  const datum = readDatum(bytes, where);
  if (!datum.encoded) {
    const { data, ...size } = rawDatumValues(datum, where);
    return { ...size, pixels: data, label: datum.label };
  }
  const data = datum.data ?? new Uint8Array(0);
  const color = encodedDatumIsColor(data, options);
  // After the batch's first image, a JPEG header of another size is refused before it sizes a buffer.
  const frame = jpegFrame(data);
  if (first && frame && (frame.width !== first.width || frame.height !== first.height)) {
    throw new BadInputError(
      `expected a ${first.width}x${first.height} image like the first of its batch, its JPEG header says ${frame.width}x${frame.height}`,
      where,
    );
  }
  const image = await decodeInterleaved(data, { color, into: scratch, where });
  // Later records decode into a buffer of this size (a dataset's records share theirs); each image
  // is transformed before the next one is decoded.
  if (scratch.length < image.pixels.length) scratch = new Uint8Array(image.pixels.length);
  return { ...image, interleaved: true, label: datum.label };
}
