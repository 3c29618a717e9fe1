// Where `caffe plot` reads its curves from, local or s3:// alike: a training log, a status file, one
// progress record (`<prefix>_iter_N.progress.json`, trainer/train/snapshots.ts), or a folder or snapshot
// prefix holding progress records. Reading is here; what the bytes mean is decided by the pure
// functions below it.
import path from 'node:path';

import { z } from 'zod';

import { BadInputError } from '../contract/errors.js';
import { baseName, isS3Uri, storageFor } from '../storage/index.js';
import { emptyCurves, mergeCurves, type TestPass, type TrainingCurves } from './curves.js';
import { parseTrainingLog } from './parse-log.js';

const PROGRESS_FILE = /_iter_\d+\.progress\.json$/;
const SNAPSHOT_FILE = /_iter_\d+\.(solverstate|caffemodel)(\.h5)?$/;

// JSON writes a diverged run's NaN or infinite values as null: read null back as NaN (left off the plot).
const jsonNumber = z.union([z.number(), z.null().transform(() => Number.NaN)]);

const testPassSchema = z.object({
  netIndex: z.number().int().nonnegative(),
  iteration: z.number().int().nonnegative(),
  loss: jsonNumber.optional(),
  outputs: z.array(z.object({ name: z.string(), value: jsonNumber, lossWeight: z.number().optional() })),
});

/** The fields of a progress record (trainer/train/snapshots.ts ProgressRecord) that hold curves. */
const progressSchema = z.object({
  version: z.literal(1),
  iteration: z.number().int().nonnegative(),
  lastLoss: jsonNumber.optional(),
  tests: z.array(testPassSchema),
});

/** The fields of the live status file (`caffe train --status-file`, trainer/train/live-status.ts) that
 * hold curves; read leniently, as a plot needs only these. */
const statusSchema = z.object({
  version: z.literal(1),
  iteration: z.number().int().nonnegative(),
  trainLoss: jsonNumber.optional(),
  tests: z.array(testPassSchema).default([]),
});

/** The curves at one input: a file, or a folder or snapshot prefix of progress records. */
export async function readCurves(input: string): Promise<TrainingCurves> {
  const storage = storageFor(input);
  // A snapshot's .solverstate or .caffemodel stands for the progress record written beside it.
  const target = SNAPSHOT_FILE.test(input)
    ? input.replace(/\.(solverstate|caffemodel)(\.h5)?$/, '.progress.json')
    : input;
  if (await storage.stat(target)) {
    return curvesFromText((await storage.read(target)).toString('utf8'), target);
  }
  const records = await progressFilesAt(input);
  if (records.length === 0) {
    throw new BadInputError(
      'expected a training log, a status or progress JSON file, or a folder or snapshot prefix with ' +
        '<prefix>_iter_N.progress.json files; found none of these',
      input,
    );
  }
  const parts: TrainingCurves[] = [];
  for (const uri of records) parts.push(curvesFromText((await storage.read(uri)).toString('utf8'), uri));
  return mergeCurves(parts);
}

/** What a file's text holds: JSON (a progress record or a status file) or a training log. */
export function curvesFromText(text: string, where: string): TrainingCurves {
  if (text.trimStart().startsWith('{')) return curvesFromJson(parseJson(text, where), where);
  const curves = parseTrainingLog(text);
  if (curves.train.length === 0 && curves.tests.length === 0) {
    throw new BadInputError(
      'expected a Caffe training log with `Iteration N (…), loss = L` or `Test net output #K: …` ' +
        'lines, found neither',
      where,
    );
  }
  return curves;
}

/** A progress record (it names its solverstate) or a status file, as curves with their points. */
export function curvesFromJson(value: unknown, where: string): TrainingCurves {
  const isProgress = typeof value === 'object' && value !== null && 'solverState' in value;
  if (isProgress) {
    const record = check(progressSchema, value, 'a progress record', where);
    return {
      ...emptyCurves(),
      train: record.lastLoss === undefined ? [] : [{ iteration: record.iteration, loss: record.lastLoss }],
      tests: record.tests.map(toTestPass),
    };
  }
  const status = check(statusSchema, value, 'a status file', where);
  return {
    ...emptyCurves(),
    train: status.trainLoss === undefined ? [] : [{ iteration: status.iteration, loss: status.trainLoss }],
    tests: status.tests.map(toTestPass),
  };
}

/** Progress records below a folder, or beside a snapshot prefix (`s3://b/job/caffenet` names
 * `s3://b/job/caffenet_iter_N.progress.json`), sorted by URI. */
async function progressFilesAt(location: string): Promise<string[]> {
  const storage = storageFor(location);
  const below = (await storage.list(location)).map((o) => o.uri).filter((uri) => PROGRESS_FILE.test(uri));
  if (below.length > 0) return below;
  const folder = parentOf(location);
  const name = baseName(location);
  return (await storage.list(folder))
    .map((o) => o.uri)
    .filter((uri) => {
      const file = baseName(uri);
      return (
        file.startsWith(`${name}_iter_`) &&
        /^\d+\.progress\.json$/.test(file.slice(name.length + '_iter_'.length)) &&
        sameFolder(parentOf(uri), folder)
      );
    });
}

function parentOf(location: string): string {
  const cut = location.replace(/\/+$/, '').lastIndexOf('/');
  if (cut >= 0) return location.slice(0, cut + 1);
  return isS3Uri(location) ? location : '.';
}

function sameFolder(a: string, b: string): boolean {
  if (isS3Uri(a) || isS3Uri(b)) return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
  return path.resolve(a) === path.resolve(b);
}

function toTestPass(pass: z.infer<typeof testPassSchema>): TestPass {
  return {
    netIndex: pass.netIndex,
    iteration: pass.iteration,
    ...(pass.loss === undefined ? {} : { loss: pass.loss }),
    outputs: pass.outputs.map((o) => ({
      name: o.name,
      value: o.value,
      ...(o.lossWeight === undefined ? {} : { lossWeight: o.lossWeight }),
    })),
  };
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadInputError(`expected JSON, ${(error as Error).message}`, where);
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || '(top level)';
  throw new BadInputError(`expected ${what}; ${field}: ${issue?.message ?? 'invalid'}`, where);
}
