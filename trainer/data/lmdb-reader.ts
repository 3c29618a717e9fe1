// Reads an LMDB 0.9 environment (Caffe's, python-lmdb's or ours) in key order without mmap: a walk
// down the B+tree with one page per level in memory, and values read where they lie in the file.
import { type FileHandle, open, stat } from 'node:fs/promises';
import { join } from 'node:path';

import {
  DATA_VERSION,
  DbRecord,
  INVALID_PAGE,
  MAGIC,
  Meta,
  NODE_BIGDATA,
  NODE_HEADER_SIZE,
  PAGE_HEADER_SIZE,
  PageFlag,
} from './lmdb-format.js';

/** Where one record's value lies in data.mdb. */
export interface LmdbEntry {
  key: Buffer;
  offset: number;
  length: number;
}

export class LmdbReader {
  private constructor(
    private readonly file: FileHandle,
    readonly path: string,
    readonly pageSize: number,
    private readonly root: bigint,
    /** Record count from the meta page. */
    readonly entries: number,
  ) {}

  /** Opens `path`: an LMDB folder (holding data.mdb) or the data file itself. */
  static async open(path: string): Promise<LmdbReader> {
    const file = (await stat(path)).isDirectory() ? join(path, 'data.mdb') : path;
    const handle = await open(file, 'r');
    try {
      const metas = [await readMeta(handle, file, 0), undefined as MetaInfo | undefined];
      metas[1] = await readMeta(handle, file, metas[0]!.pageSize);
      const newest = metas[1].txnId > metas[0]!.txnId ? metas[1] : metas[0]!;
      return new LmdbReader(handle, file, newest.pageSize, newest.root, newest.entries);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Every record's key and value location, in key order. */
  async *index(): AsyncGenerator<LmdbEntry> {
    if (this.root === INVALID_PAGE) return;
    const stack: { page: Buffer; pgno: number; next: number }[] = [];
    stack.push({ page: await this.readPage(Number(this.root)), pgno: Number(this.root), next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const flags = top.page.readUInt16LE(10);
      const count = (top.page.readUInt16LE(12) - PAGE_HEADER_SIZE) / 2;
      if (top.next >= count) {
        stack.pop();
        continue;
      }
      const node = top.page.readUInt16LE(PAGE_HEADER_SIZE + 2 * top.next++);
      if (flags & PageFlag.Branch) {
        const child =
          top.page.readUInt16LE(node) +
          top.page.readUInt16LE(node + 2) * 2 ** 16 +
          top.page.readUInt16LE(node + 4) * 2 ** 32;
        stack.push({ page: await this.readPage(child), pgno: child, next: 0 });
      } else if (flags & PageFlag.Leaf) {
        yield this.leafEntry(top.page, top.pgno, node);
      } else {
        throw new Error(
          `${this.path}: page ${top.pgno}: expected a branch or leaf page, received flags ${flags}`,
        );
      }
    }
  }

  /** Every record in key order. */
  async *records(): AsyncGenerator<{ key: Buffer; value: Buffer }> {
    for await (const entry of this.index()) yield { key: entry.key, value: await this.read(entry) };
  }

  async read(entry: LmdbEntry): Promise<Buffer> {
    const value = Buffer.allocUnsafe(entry.length);
    const { bytesRead } = await this.file.read(value, 0, entry.length, entry.offset);
    if (bytesRead !== entry.length) {
      throw new Error(`${this.path}: record '${entry.key}' ends past the end of the file`);
    }
    return value;
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private leafEntry(page: Buffer, pgno: number, node: number): LmdbEntry {
    const length = page.readUInt16LE(node) + page.readUInt16LE(node + 2) * 2 ** 16;
    const flags = page.readUInt16LE(node + 4);
    const keySize = page.readUInt16LE(node + 6);
    const key = Buffer.from(page.subarray(node + NODE_HEADER_SIZE, node + NODE_HEADER_SIZE + keySize));
    const at = node + NODE_HEADER_SIZE + keySize;
    if (flags & ~NODE_BIGDATA) {
      throw new Error(`${this.path}: record '${key}': sub-databases and duplicate keys are not supported`);
    }
    const offset =
      flags & NODE_BIGDATA
        ? Number(page.readBigUInt64LE(at)) * this.pageSize + PAGE_HEADER_SIZE
        : pgno * this.pageSize + at;
    return { key, offset, length };
  }

  private async readPage(pgno: number): Promise<Buffer> {
    const page = Buffer.alloc(this.pageSize);
    const { bytesRead } = await this.file.read(page, 0, this.pageSize, pgno * this.pageSize);
    if (bytesRead !== this.pageSize)
      throw new Error(`${this.path}: page ${pgno} lies past the end of the file`);
    return page;
  }
}

interface MetaInfo {
  pageSize: number;
  root: bigint;
  entries: number;
  txnId: bigint;
}

async function readMeta(handle: FileHandle, file: string, offset: number): Promise<MetaInfo> {
  const page = Buffer.alloc(PAGE_HEADER_SIZE + 24 + 96 + 16);
  await handle.read(page, 0, page.length, offset);
  const magic = page.readUInt32LE(Meta.magic);
  const version = page.readUInt32LE(Meta.version);
  if (magic !== MAGIC || version !== DATA_VERSION) {
    throw new Error(
      `${file}: expected an LMDB 0.9 file (magic 0xbeefc0de, data version ${DATA_VERSION}), ` +
        `received magic 0x${magic.toString(16)}, version ${version}`,
    );
  }
  return {
    pageSize: page.readUInt32LE(Meta.freeDb + DbRecord.pad),
    root: page.readBigUInt64LE(Meta.mainDb + DbRecord.root),
    entries: Number(page.readBigUInt64LE(Meta.mainDb + DbRecord.entries)),
    txnId: page.readBigUInt64LE(Meta.txnId),
  };
}
