// The storage room: pick the implementation a URI needs. The AWS SDK is loaded only when an s3://
// URI is first used, so commands that never touch S3 do not pay for it at start-up.
import { LocalStorage } from './local.js';
import { isS3Uri, type Storage } from './storage.js';

export { LocalStorage, localPath } from './local.js';
export { parseS3Uri, type S3Location, s3ConfigFromEnv } from './s3-config.js';
export { type Body, baseName, isS3Uri, joinUri, type ObjectInfo, type Storage } from './storage.js';

let local: LocalStorage | undefined;
let s3: Promise<Storage> | undefined;

/** The storage for `uri`: S3 for s3:// URIs (one shared client), the local file system otherwise. */
export function storageFor(uri: string): Storage {
  if (!isS3Uri(uri)) {
    local ??= new LocalStorage();
    return local;
  }
  return lazyS3;
}

function s3Storage(): Promise<Storage> {
  s3 ??= import('./s3.js').then((m) => new m.S3Storage());
  return s3;
}

const lazyS3: Storage = {
  readStream: async (uri) => (await s3Storage()).readStream(uri),
  read: async (uri) => (await s3Storage()).read(uri),
  write: async (uri, body) => (await s3Storage()).write(uri, body),
  putFile: async (path, uri, options) => (await s3Storage()).putFile(path, uri, options),
  getFile: async (uri, path) => (await s3Storage()).getFile(uri, path),
  list: async (uri) => (await s3Storage()).list(uri),
  walk: async function* (uri) {
    yield* (await s3Storage()).walk(uri);
  },
  names: async (uri) => (await s3Storage()).names(uri),
  stat: async (uri) => (await s3Storage()).stat(uri),
  delete: async (uri) => (await s3Storage()).delete(uri),
};
