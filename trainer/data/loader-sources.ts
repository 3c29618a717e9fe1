// Where the loader's records come from: the shards of an LMDB dataset (Data layer), or the lines of
// a list file of image files (ImageData layer). A source is a list of parts read by record index;
// an S3 shard is downloaded when opened, and removed again when released.
import { BadInputError } from '../contract/errors.js';
import { readBytes, readText } from '../files.js';
import { joinUri, storageFor } from '../storage/index.js';
import { parseListFile } from './convert-imageset.js';
import { localDb } from './db-files.js';
import { LmdbReader, recordKeyText } from './lmdb-reader.js';
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
  release(): Promise<void>;
}

export interface RecordSource {
  kind: 'datum' | 'image';
  /** Part names (shard URIs, or the list file), in their natural order. */
  parts: string[];
  open(part: number): Promise<SourcePart>;
}

/** An LMDB folder, or a folder of LMDB shards (`<dataset>/train`), local or on S3. */
export async function lmdbSource(uri: string, cacheDir?: string): Promise<RecordSource> {
  const storage = storageFor(uri);
  let parts: string[];
  if (await storage.stat(joinUri(uri, 'data.mdb'))) parts = [uri];
  else {
    parts = (await storage.list(uri))
      .map((o) => o.uri)
      .filter((u) => u.endsWith('/data.mdb'))
      .map((u) => u.slice(0, -'/data.mdb'.length));
  }
  if (parts.length === 0) {
    throw new BadInputError('expected an LMDB folder (holding data.mdb) or a folder of LMDB shards', uri);
  }
  return {
    kind: 'datum',
    parts,
    async open(part) {
      const db = await localDb(parts[part]!, cacheDir);
      // The shard's index (where each value lies) is compact; the values stay on disk until read.
      let index: ShardIndex;
      let reader: LmdbReader | undefined;
      try {
        reader = await LmdbReader.open(db.path, joinUri(parts[part]!, 'data.mdb'));
        index = await ShardIndex.of(reader);
      } catch (error) {
        await reader?.close();
        await db.release();
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
        async release() {
          await opened.close();
          await db.release();
        },
      };
    },
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
  };
}
