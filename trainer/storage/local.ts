// Storage on the local file system. Writes go to a temporary name in the same folder and are renamed
// into place, so a reader never sees a half-written file; listings leave temporary files out.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

import type { Body, ObjectInfo, Storage } from './storage.js';

const TEMP_MARK = '.tmp-brewery-';

export class LocalStorage implements Storage {
  async readStream(uri: string): Promise<Readable> {
    const path = localPath(uri);
    await stat(path); // fail here, with the path, rather than on the first read
    return createReadStream(path);
  }

  read(uri: string): Promise<Buffer> {
    return readFile(localPath(uri));
  }

  async write(uri: string, body: Body): Promise<void> {
    await atomically(localPath(uri), async (temp) => {
      if (body instanceof Readable) await pipeline(body, createWriteStream(temp, { flush: true }));
      else await writeFile(temp, body, { flush: true });
    });
  }

  async putFile(source: string, uri: string, options: { move?: boolean } = {}): Promise<void> {
    const target = localPath(uri);
    if (options.move) {
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(source, target);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      }
    }
    await atomically(target, (temp) => copyFile(source, temp));
    if (options.move) await unlink(source);
  }

  async getFile(uri: string, target: string): Promise<void> {
    await atomically(target, (temp) => copyFile(localPath(uri), temp));
  }

  async names(folderUri: string): Promise<string[]> {
    try {
      const entries = await readdir(localPath(folderUri), { withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile() && !entry.name.includes(TEMP_MARK))
        .map((entry) => entry.name);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  async list(prefixUri: string): Promise<ObjectInfo[]> {
    const root = localPath(prefixUri).replace(/\/+$/, '');
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.name.includes(TEMP_MARK)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) out.push({ uri: path, size: (await stat(path)).size });
      }
    };
    await walk(root);
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async *walk(prefixUri: string): AsyncIterable<string> {
    yield* walkSorted(localPath(prefixUri).replace(/\/+$/, ''));
  }

  async stat(uri: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(localPath(uri));
      return info.isFile() ? { uri, size: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async delete(uri: string): Promise<void> {
    await rm(localPath(uri), { force: true });
  }
}

/** A local path from a plain path or a file:// URL. */
export function localPath(uri: string): string {
  return uri.startsWith('file://') ? fileURLToPath(uri) : uri;
}

/**
 * The files below `dir` in path order, one folder read at a time. A folder sorts as its name and a
 * slash, so visiting each folder's entries in that order gives exactly the order of the full paths.
 */
async function* walkSorted(dir: string): AsyncGenerator<string> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const keyed = entries
    .filter((entry) => !entry.name.includes(TEMP_MARK) && (entry.isDirectory() || entry.isFile()))
    .map((entry) => ({ key: entry.isDirectory() ? `${entry.name}/` : entry.name, entry }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { entry } of keyed) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkSorted(path);
    else yield path;
  }
}

async function atomically(target: string, fill: (temp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fill(temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** ENOENT, or ENOTDIR for a path that runs through a file (`afile/data.mdb`): nothing is there either way. */
function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
