// A loader thread: decodes one batch of records or image files and transforms it into a float32
// NCHW batch. Runs under node:worker_threads; the main thread sends the bytes and the random draws,
// so a batch's content depends only on them, never on which thread made it.
import { parentPort } from 'node:worker_threads';

import sharp from 'sharp';

import {
  decodeImage,
  decodeJpegsRgb,
  describeSource,
  isPlainColourJpeg,
  jpegFrame,
  sameSize,
} from './images.js';
import { readDatum } from './records.js';
import {
  checkMean,
  DRAWS_PER_IMAGE,
  placement,
  type TransformSettings,
  transformInto,
  transformRgbInto,
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
}

export type WorkerReply =
  | { id: number; data: Float32Array; labels: Float32Array; shape: [number, number, number, number] }
  | { id: number; error: string; badInput: boolean };

interface Pixels {
  /** Planar C x H x W, or interleaved RGB (H x W x 3) when `interleaved`. */
  pixels: ArrayLike<number>;
  interleaved?: boolean;
  channels: number;
  height: number;
  width: number;
  label: number;
}

/** Records decoded per sharp call: enough to make its fixed cost small, few enough to stay in cache. */
const DECODE_CHUNK = 32;

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
  let i = 0;
  for await (const image of imagesOf(job, init)) {
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
    const at = i * shape[1] * shape[2] * shape[3];
    if (image.interleaved) {
      transformRgbInto(image.pixels as Uint8Array, image.height, image.width, settings, p, out, at);
    } else {
      transformInto(image.pixels, image.channels, image.height, image.width, settings, p, out, at);
    }
    labels[i] = image.label;
    i++;
  }
  return { id: job.id, data: out ?? new Float32Array(0), labels, shape };
}

/** The job's images in order: plain colour JPEG records many per sharp call, the rest one by one. */
async function* imagesOf(job: WorkerJob, options: WorkerInit): AsyncGenerator<Pixels> {
  const batch = job.kind === 'datum' ? plainJpegRecords(job, options) : undefined;
  if (!batch) {
    for (let i = 0; i < job.items.length; i++) yield await pixelsOf(job, i, options);
    return;
  }
  const { jpegs, labels, width, height } = batch;
  const size = width * height * 3;
  for (let start = 0; start < jpegs.length; start += DECODE_CHUNK) {
    const chunk = jpegs.slice(start, start + DECODE_CHUNK);
    const rgb = await decodeJpegsRgb(chunk, width, height).catch(() => undefined);
    for (let k = 0; k < chunk.length; k++) {
      // A chunk that fails to decode is decoded again one by one, for the failing record's own error.
      if (!rgb) yield await pixelsOf(job, start + k, options);
      else {
        const pixels = rgb.subarray(k * size, (k + 1) * size);
        yield { pixels, interleaved: true, channels: 3, height, width, label: labels[start + k]! };
      }
    }
  }
}

/** The JPEGs and labels of a job whose records are all plain colour JPEGs of one size, decoded as colour. */
function plainJpegRecords(job: WorkerJob, options: WorkerInit) {
  if (options.forceGray || job.items.length === 0) return undefined;
  const jpegs: Uint8Array[] = [];
  const labels: number[] = [];
  for (const [i, bytes] of job.items.entries()) {
    const datum = readDatum(bytes, job.names[i]);
    if (!datum.encoded || !datum.data || !isPlainColourJpeg(datum.data)) return undefined;
    jpegs.push(datum.data);
    labels.push(datum.label);
  }
  const frame = jpegFrame(jpegs[0]!)!;
  if (!jpegs.every((jpeg) => sameSize(jpegFrame(jpeg), frame))) return undefined;
  return { jpegs, labels, width: frame.width, height: frame.height };
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
