// A JSON record read from storage (a shard marker, the labels file, the finalize manifest, a live status
// or snapshot progress record), checked by its zod schema before any of it is used. A damaged or foreign
// record is bad input whose error names the file and the field, never a TypeError further on.
import type { z } from 'zod';

import { BadInputError } from './errors.js';

/** The record in `text`, read from `uri`, checked by `schema`. */
export function parseRecord<Schema extends z.ZodType>(
  uri: string,
  text: string,
  schema: Schema,
): z.output<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BadInputError(`expected JSON, ${singleLine((error as Error).message)}`, uri);
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new BadInputError(`${fieldPath(issue.path)}: ${singleLine(issue.message)}`, uri);
}

/** `tests[0].outputs[1].value`: the field as a person would point at it; `(record)` for the whole. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(record)';
}

function singleLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}
