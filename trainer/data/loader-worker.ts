// A loader thread: decodes one batch of records or image files and transforms it into a float32
// NCHW batch. Runs under node:worker_threads; the main thread sends the bytes and the random draws,
// so a batch's content depends only on them, never on which thread made it.
import { parentPort } from 'node:worker_threads';

import sharp from 'sharp';

import { decodeImage, describeSource } from './images.js';
import { readDatum } from './records.js';
import { checkMean, DRAWS_PER_IMAGE, placement, type TransformSettings, transformInto } from './transform.js';

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
}

export type WorkerReply =
  | { id: number; data: Float32Array; labels: Float32Array; shape: [number, number, number, number] }
  | { id: number; error: string; badInput: boolean };

interface Pixels {
  pixels: ArrayLike<number>;
  channels: number;
  height: number;
  width: number;
  label: number;
}

let init: WorkerInit | undefined;
let queue: Promise<unknown> = Promise.resolve();
sharp.cache(false);
sharp.concurrency(1); // one libvips thread per decode: the loader's threads are the parallelism

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
      out = new Float32Array(n * image.channels * p.outHeight * p.outWidth);
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
    transformInto(
      image.pixels,
      image.channels,
      image.height,
      image.width,
      settings,
      p,
      out,
      i * shape[1] * shape[2] * shape[3],
    );
    labels[i] = image.label;
  }
  return { id: job.id, data: out ?? new Float32Array(0), labels, shape };
}

async function pixelsOf(job: WorkerJob, i: number, options: WorkerInit): Promise<Pixels> {
  const bytes = job.items[i]!;
  if (job.kind === 'image') {
    const resize = options.newHeight > 0 && options.newWidth > 0;
    const image = await decodeImage(bytes, {
      color: options.isColor,
      ...(resize ? { width: options.newWidth, height: options.newHeight } : {}),
    });
    return { ...image, label: job.labels[i]! };
  }
  const datum = readDatum(bytes, job.names[i]);
  const data = datum.data ?? new Uint8Array(0);
  if (datum.encoded) {
    const color = options.forceColor
      ? true
      : options.forceGray
        ? false
        : describeSource(data) !== 'grayscale JPEG';
    return { ...(await decodeImage(data, { color })), label: datum.label };
  }
  const pixels = data.length > 0 ? data : Float32Array.from(datum.floatData ?? []);
  return { pixels, channels: datum.channels, height: datum.height, width: datum.width, label: datum.label };
}
