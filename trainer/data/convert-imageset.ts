// Caffe's convert_imageset: a list file of `path label` lines into an LMDB of Datum records.
import { extname } from 'node:path';

import { BadInputError } from '../contract/errors.js';
import { readText } from '../files.js';
import { type ToolLog, toolLog } from '../glog.js';
import { Rng } from '../rng.js';
import { storageFor } from '../storage/index.js';
import { createDb } from './db-files.js';
import { decodeImage, decodeResized, encodeJpeg, encodePng } from './images.js';
import { recordKey } from './layout.js';
import { encodedDatumBytes, rawDatumBytes } from './records.js';

export interface ConvertOptions {
  /** Prefixed to every listed path as a string, as Caffe does (keep the trailing slash). */
  root: string;
  listFile: string;
  db: string;
  gray: boolean;
  shuffle: boolean;
  resizeWidth: number;
  resizeHeight: number;
  checkSize: boolean;
  encoded: boolean;
  encodeType: string;
  /** Seed of the shuffle (Caffe seeds from entropy; a fixed seed makes runs repeatable). */
  seed: number;
}

export interface ListLine {
  path: string;
  label: number;
}

/** Parses list-file lines, split at the last space, the label read as C's atoi would. */
export function parseListFile(text: string, where: string): ListLine[] {
  const out: ListLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const space = line.lastIndexOf(' ');
    if (space <= 0) throw new BadInputError(`expected 'PATH LABEL', received '${line}'`, `${where}:${i + 1}`);
    const label = Number.parseInt(line.slice(space + 1), 10);
    out.push({ path: line.slice(0, space), label: Number.isNaN(label) ? 0 : label });
  });
  return out;
}

/** Caffe's convert_imageset; `log` gets its lines with the line of tools/convert_imageset.cpp that logs each. */
export async function convertImageset(
  options: ConvertOptions,
  log: ToolLog = toolLog('convert_imageset.cpp'),
) {
  const lines = parseListFile(await readText(options.listFile), options.listFile);
  if (options.shuffle) {
    log('Shuffling data', 86);
    new Rng(options.seed).shuffle(lines);
  }
  log(`A total of ${lines.length} images.`, 89);
  const resize = options.resizeWidth > 0 && options.resizeHeight > 0;
  const { writer, finish } = await createDb(options.db);
  let expectedSize: number | undefined;
  for (let index = 0; index < lines.length; index++) {
    const { path, label } = lines[index]!;
    const file = `${options.root}${path}`;
    const encoding = options.encoded ? encodingFor(file, options.encodeType) : undefined;
    if (options.encoded && resize && !encoding) {
      throw new BadInputError(
        `its resized record would be encoded as '${extname(file).slice(1)}' (its extension), and Brewery encodes only jpg and png: give --encode_type=jpg or png`,
        file,
      );
    }
    const datum = await datumFor(file, label, options, resize, encoding).catch(() => undefined);
    if (!datum) {
      log(`Could not open or find file ${file}`, 'io.cpp:80', 'E'); // ReadImageToDatum logs it
      continue;
    }
    if (options.checkSize && !options.encoded) {
      expectedSize ??= datum.size;
      if (datum.size !== expectedSize) {
        throw new BadInputError(
          `expected ${expectedSize} bytes of pixels (--check_size), received ${datum.size}`,
          file,
        );
      }
    }
    writer.put(Buffer.from(recordKey(index, path)), datum.bytes);
    if (writer.count % 1000 === 0) log(`Processed ${writer.count} files.`, 147);
  }
  const count = await finish();
  if (count % 1000 !== 0) log(`Processed ${count} files.`, 153);
  return count;
}

/**
 * The encoding of a file's re-encoded record: --encode_type, else the file's extension, as Caffe
 * guesses it. Brewery encodes JPEG and PNG (undefined for any other).
 */
function encodingFor(file: string, encodeType: string): 'jpg' | 'png' | undefined {
  const type = (encodeType || extname(file).slice(1)).toLowerCase();
  if (type === 'jpg' || type === 'jpeg') return 'jpg';
  if (type === 'png') return 'png';
  return undefined;
}

async function datumFor(
  file: string,
  label: number,
  options: ConvertOptions,
  resize: boolean,
  encoding: 'jpg' | 'png' | undefined,
) {
  const bytes = await storageFor(file).read(file);
  const color = !options.gray;
  if (options.encoded) {
    const ext = extname(file).slice(1).toLowerCase().replace('jpeg', 'jpg');
    // As Caffe: the file's own bytes when no resize is asked for and the extension names the
    // encoding (Caffe's colour check always passes, its decoder having made the channels match).
    if (!resize && (options.encodeType || ext).toLowerCase().replace('jpeg', 'jpg') === ext) {
      await decodeImage(bytes, { color }); // still refuse files no decoder can read
      return { bytes: encodedDatumBytes(bytes, label), size: bytes.length };
    }
    // As Caffe's cv::imencode: JPEG at OpenCV's default quality, 95; PNG (same pixels, other bytes).
    const image = await decodeResized(bytes, resizeOptions(options, color, resize));
    const encoded = encoding === 'png' ? await encodePng(image) : await encodeJpeg(image, 95);
    return { bytes: encodedDatumBytes(encoded, label), size: encoded.length };
  }
  const image = await decodeImage(bytes, resizeOptions(options, color, resize));
  return {
    bytes: rawDatumBytes(image.pixels, image.channels, image.height, image.width, label),
    size: image.pixels.length,
  };
}

function resizeOptions(options: ConvertOptions, color: boolean, resize: boolean) {
  return resize ? { color, width: options.resizeWidth, height: options.resizeHeight } : { color };
}
