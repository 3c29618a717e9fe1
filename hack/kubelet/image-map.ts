// Reading the --image-map file: {"images": {"<exact image or glob with *>": {"entrypoint": [...],
// "binaries": {"<name>": [...]}}}}.

import { readFileSync } from 'node:fs';

import { z } from 'zod';

import type { ImageMap } from './container-command.js';

const argvSchema = z.array(z.string()).min(1);
const imageMapSchema = z.object({
  images: z.record(
    z.string(),
    z.object({ entrypoint: argvSchema.optional(), binaries: z.record(z.string(), argvSchema).optional() }),
  ),
});

/** Parses an image map; errors name the file and the field. */
export function parseImageMap(text: string, where: string): ImageMap {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${where}: expected JSON, received text that does not parse (${(error as Error).message})`,
    );
  }
  const parsed = imageMapSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${where}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as ImageMap;
}

export function loadImageMap(path: string): ImageMap {
  return parseImageMap(readFileSync(path, 'utf8'), path);
}
