// A loader thread: decodes one batch of records or image files and transforms it into a float32
// NCHW batch. Runs under node:worker_threads; the main thread sends the bytes and the random draws,
// so a batch's content depends only on them, never on which thread made it.
import { parentPort } from 'node:worker_threads';

import { decodeInterleaved, describeSource } from './images.js';
import { readDatum } from './records.js';
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
  | { id: number; data: Float32Array; labels: Float32Array; shape: [number, number, number, number] }
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
  let inShape = '';
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const image = await pixelsOf(job, i, init);
    const p = placement(image.height, image.width, settings, job.draws, i * DRAWS_PER_IMAGE);
    const thisShape = `${image.channels}x${image.height}x${image.width}`;
    if (!out) {
      checkMean(settings, image.channels, image.height, image.width);
      shape = [n, image.channels, p.outHeight, p.outWidth];
      const size = n * image.channels * p.outHeight * p.outWidth;
      // Every value of the batch is written below, so a recycled buffer needs no clearing.
      out = job.out?.byteLength === size * 4 ? new Float32Array(job.out) : new Float32Array(size);
      inShape = thisShape;
    } else if (thisShape !== inShape) {
      throw Object.assign(
        new Error(
          `${job.names[i]}: expected a ${inShape} image like the first of its batch, received ${thisShape}`,
        ),
        {
          name: 'BadInputError',
        },
      );
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
  return { id: job.id, data: out ?? new Float32Array(0), labels, shape };
}

async function pixelsOf(job: WorkerJob, i: number, options: WorkerInit): Promise<Pixels> {
  const bytes = job.items[i]!;
  if (job.kind === 'image') {
    let image = await decodeInterleaved(bytes, { color: options.isColor });
    if (options.newHeight > 0 && options.newWidth > 0)
      image = resizeImage(image, options.newWidth, options.newHeight);
    return { ...image, interleaved: true, label: job.labels[i]! };
  }
  const datum = readDatum(bytes, job.names[i]);
  const data = datum.data ?? new Uint8Array(0);
  if (datum.encoded) {
    const color = options.forceColor
      ? true
      : options.forceGray
        ? false
        : describeSource(data) !== 'grayscale JPEG';
    const image = await decodeInterleaved(data, { color, into: scratch });
    // Later records decode into a buffer of this size (a dataset's records share theirs); each image
    // is transformed before the next one is decoded.
    if (scratch.length < image.pixels.length) scratch = new Uint8Array(image.pixels.length);
    return { ...image, interleaved: true, label: datum.label };
  }
  const pixels = data.length > 0 ? data : Float32Array.from(datum.floatData ?? []);
  return { pixels, channels: datum.channels, height: datum.height, width: datum.width, label: datum.label };
}
