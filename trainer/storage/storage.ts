// One interface over local paths and s3://bucket/key URIs. Every write is atomic: a reader sees the
// whole object or nothing (local files are written under a temporary name and renamed; S3 objects
// appear only when their upload completes).
import type { Readable } from 'node:stream';

/** One stored object. */
export interface ObjectInfo {
  /** Full URI (or local path) of the object. */
  uri: string;
  size: number;
}

export type Body = Uint8Array | string | Readable;

export interface Storage {
  /** A stream of the object's bytes. */
  readStream(uri: string): Promise<Readable>;
  /** The whole object in memory; for small objects only. */
  read(uri: string): Promise<Buffer>;
  /** Writes the object atomically, replacing any previous one. */
  write(uri: string, body: Body): Promise<void>;
  /** Stores a local file at `uri` atomically; with `move`, the local file is gone afterwards. */
  putFile(localPath: string, uri: string, options?: { move?: boolean }): Promise<void>;
  /** Copies the object into a local file (written atomically too). */
  getFile(uri: string, localPath: string): Promise<void>;
  /** Every object below the folder `prefixUri`, at any depth, sorted by URI. */
  list(prefixUri: string): Promise<ObjectInfo[]>;
  /**
   * The URIs of every object below the folder, at any depth, in URI order, a page at a time: for
   * listings too large to hold as objects (a million images).
   */
  walk(prefixUri: string): AsyncIterable<string>;
  /** Names of the objects directly in the folder (not below it); an absent folder has none. */
  names(folderUri: string): Promise<string[]>;
  /** The object's size, or undefined when there is no such object. */
  stat(uri: string): Promise<ObjectInfo | undefined>;
  /** Deletes the object; deleting a missing object is not an error. */
  delete(uri: string): Promise<void>;
}

export function isS3Uri(uri: string): boolean {
  return uri.startsWith('s3://');
}

/** Joins URI or path segments with single slashes: joinUri('s3://b/x/', 'train', 'a') = 's3://b/x/train/a'. */
export function joinUri(base: string, ...parts: string[]): string {
  let out = base.replace(/\/+$/, '');
  for (const part of parts) {
    const clean = part.replace(/^\/+|\/+$/g, '');
    if (clean.length > 0) out = `${out}/${clean}`;
  }
  return out;
}

/** The last path segment of a URI or path. */
export function baseName(uri: string): string {
  const trimmed = uri.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
