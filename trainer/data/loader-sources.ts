// Where the loader's records come from: the shards of an LMDB dataset (Data layer), or the lines of
// a list file of image files (ImageData layer). A source is a list of parts read by record index;
// S3 shards are read from local copies in a ShardCache, which the loader fills ahead and empties.
import { BadInputError } from '../contract/errors.js';
import { readBytes, readText } from '../files.js';
import { isS3Uri, joinUri, localPath, storageFor } from '../storage/index.js';
import { parseListFile } from './convert-imageset.js';
import { LmdbReader, recordKeyText } from './lmdb-reader.js';
import { ShardCache } from './shard-cache.js';
import { ShardIndex } from './shard-index.js';

export interface SourceItem {
  bytes: Uint8Array;
  name: string;
  label: number;
}

export interface SourcePart {
  size: number;
  /** Bytes the part's record index holds (LMDB shards). */
  indexBytes?: number;
  read(index: number): Promise<SourceItem>;
  /** Closes the part (its local copy stays in the source's cache until evicted). */
  release(): Promise<void>;
}

export interface RecordSource {
  kind: 'datum' | 'image';
  /** Part names (shard URIs, or the list file), in their natural order. */
  parts: string[];
  /** Opens the part, waiting for its local copy where it has one to download. */
  open(part: number): Promise<SourcePart>;
  /** Local copies of S3 shards (undefined when the parts are local already). */
  cache: ShardCache | undefined;
  /** Removes the cache's folder; the source is not opened again. */
  close(): Promise<void>;
}

/**
 * An LMDB folder, or a folder of LMDB shards (`<dataset>/train`), local or on S3. S3 shards are
 * downloaded into a folder of their own under `cacheDir` (default: the OS temp folder).
 */
export async function lmdbSource(uri: string, cacheDir?: string): Promise<RecordSource> {
  const storage = storageFor(uri);
  const single = await storage.stat(joinUri(uri, 'data.mdb'));
  const files = single ? [single] : (await storage.list(uri)).filter((o) => o.uri.endsWith('/data.mdb'));
  const parts = files.map((o) => o.uri.slice(0, -'/data.mdb'.length));
  if (parts.length === 0) {
    throw new BadInputError('expected an LMDB folder (holding data.mdb) or a folder of LMDB shards', uri);
  }
  const cache = isS3Uri(uri) ? await ShardCache.create(files, cacheDir) : undefined;
  return {
    kind: 'datum',
    parts,
    cache,
    async open(part) {
      const file = cache ? await cache.fetch(part) : localPath(parts[part]!);
      // The shard's index (where each value lies) is compact; the values stay on disk until read.
      let index: ShardIndex;
      let reader: LmdbReader | undefined;
      try {
        reader = await LmdbReader.open(file, joinUri(parts[part]!, 'data.mdb'));
        index = await ShardIndex.of(reader);
      } catch (error) {
        await reader?.close();
        throw error;
      }
      const opened = reader;
      return {
        size: index.length,
        indexBytes: index.byteLength,
        async read(record) {
          const entry = index.entry(record);
          const name = `${parts[part]} record ${recordKeyText(entry.key)}`;
          return { bytes: await opened.read(entry), name, label: 0 };
        },
        release: () => opened.close(),
      };
    },
    close: async () => cache?.close(),
  };
}

/** ImageData's source: `path label` lines, each path prefixed by root_folder. */
export async function listSource(listFile: string, rootFolder: string): Promise<RecordSource> {
  const lines = parseListFile(await readText(listFile), listFile);
  if (lines.length === 0) throw new BadInputError('the list file has no images', listFile);
  return {
    kind: 'image',
    parts: [listFile],
    async open() {
      return {
        size: lines.length,
        async read(index) {
          const { path, label } = lines[index]!;
          const file = `${rootFolder}${path}`;
          return { bytes: await readBytes(file), name: file, label };
        },
        async release() {},
      };
    },
    cache: undefined,
    async close() {},
  };
}
