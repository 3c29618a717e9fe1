// Reads an LMDB 0.9 environment (Caffe's, python-lmdb's or ours) in key order without mmap: a walk
// down the B+tree with one page per level in memory, and values read where they lie in the file.
//
// Every number taken from the file is checked before it is used (page numbers against the file and
// the meta page's last page, node offsets and sizes against their page, overflow runs, key sizes,
// tree depth, key order, the record count), so a damaged file is a BadInputError naming the file
// and the page or record, never a crash. LMDB 0.9 keeps no checksums: magic, version and these
// structural invariants are all there is to check (LMDB's own mdb_env_read_header, mdb_page_get and
// mdb_page_search_root check a subset of them).
import { type FileHandle, open, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { BadInputError } from '../contract/errors.js';
import { oneLine } from '../one-line.js';
import {
  DATA_VERSION,
  DbRecord,
  INVALID_PAGE,
  MAGIC,
  MAX_KEY_SIZE,
  Meta,
  NODE_BIGDATA,
  NODE_HEADER_SIZE,
  PAGE_HEADER_SIZE,
  PageFlag,
} from './lmdb-format.js';

/** LMDB's page sizes: powers of two up to its MAX_PAGESIZE (64 KiB). */
const MIN_PAGE_SIZE = 512;
const MAX_PAGE_SIZE = 0x10000;
/** LMDB's cursor stack (CURSOR_STACK): no tree it writes is deeper. */
const MAX_DEPTH = 32;
/** Page flags LMDB may leave set in a written page besides its kind (P_DIRTY, P_KEEP). */
const TRANSIENT_PAGE_FLAGS = 0x10 | 0x8000;
/** The longest value read at once: Node's fs.read takes at most 2^31 - 1 bytes, header included. */
const MAX_VALUE_SIZE = 2 ** 31 - 1 - PAGE_HEADER_SIZE;
const META_BYTES = Meta.txnId + 8;

/** Where one record's value lies in data.mdb. */
export interface LmdbEntry {
  key: Buffer;
  offset: number;
  length: number;
  /** The value fills overflow pages starting at this page (its header is checked when read). */
  overflowPage?: number;
}

export class LmdbReader {
  private constructor(
    private readonly file: FileHandle,
    readonly path: string,
    readonly pageSize: number,
    private readonly root: bigint,
    /** Record count from the meta page. */
    readonly entries: number,
    private readonly depth: number,
    /** Pages 0..lastPage exist (the meta page's last page number). */
    private readonly lastPage: number,
  ) {}

  /**
   * Opens `path`: an LMDB folder (holding data.mdb) or the data file itself. Messages name the file
   * as `name` (a shard's s3:// URI when `path` is its downloaded copy).
   */
  static async open(path: string, name?: string): Promise<LmdbReader> {
    const file = await dataFile(path, name);
    const shown = name ?? file;
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const first = await readMeta(handle, shown, 0, size);
      const second = await readMeta(handle, shown, first.pageSize, size);
      const newest = second.txnId > first.txnId ? second : first;
      return new LmdbReader(
        handle,
        shown,
        newest.pageSize,
        newest.root,
        newest.entries,
        newest.depth,
        newest.lastPage,
      );
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Every record's key and value location, in key order. */
  async *index(): AsyncGenerator<LmdbEntry> {
    if (this.root === INVALID_PAGE) {
      if (this.entries !== 0) this.fail(`the meta page counts ${this.entries} records but has no root page`);
      return;
    }
    const root = Number(this.root);
    const visited = new Set<number>();
    const stack: { page: Buffer; pgno: number; count: number; next: number }[] = [];
    stack.push(await this.treePage(root, 1, visited));
    let previous: Buffer | undefined;
    let count = 0;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next >= top.count) {
        stack.pop();
        continue;
      }
      const node = this.nodeAt(top.page, top.pgno, top.next++);
      if (top.page.readUInt16LE(10) & PageFlag.Branch) {
        const child =
          top.page.readUInt16LE(node) +
          top.page.readUInt16LE(node + 2) * 2 ** 16 +
          top.page.readUInt16LE(node + 4) * 2 ** 32;
        stack.push(await this.treePage(child, stack.length + 1, visited, top.pgno));
        continue;
      }
      const entry = this.leafEntry(top.page, top.pgno, node);
      if (previous && Buffer.compare(previous, entry.key) >= 0) {
        this.fail(
          `record ${recordKeyText(entry.key)} does not sort after ${recordKeyText(previous)}: the tree is out of order`,
          top.pgno,
        );
      }
      if (++count > this.entries)
        this.fail(`the tree holds more records than the ${this.entries} its meta page counts`);
      previous = entry.key;
      yield entry;
    }
    if (count !== this.entries) {
      this.fail(`the tree holds ${count} records, but its meta page counts ${this.entries}`);
    }
  }

  /** Every record in key order. */
  async *records(): AsyncGenerator<{ key: Buffer; value: Buffer }> {
    for await (const entry of this.index()) yield { key: entry.key, value: await this.read(entry) };
  }

  /** A record's value; for one on overflow pages, their header is checked first. */
  async read(entry: LmdbEntry): Promise<Buffer> {
    const where = `${this.path}: record ${recordKeyText(entry.key)}`;
    if (entry.overflowPage === undefined) return this.readAt(entry.offset, entry.length, where);
    const bytes = await this.readAt(entry.offset - PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + entry.length, where);
    const pgno = Number(bytes.readBigUInt64LE(0));
    const flags = bytes.readUInt16LE(10);
    const pages = bytes.readUInt32LE(12);
    if (pgno !== entry.overflowPage || (flags & ~TRANSIENT_PAGE_FLAGS) !== PageFlag.Overflow) {
      throw new BadInputError(
        `page ${entry.overflowPage} should start the value's overflow pages, but its header says page ${pgno} with flags 0x${flags.toString(16)}`,
        where,
      );
    }
    if (
      pages * this.pageSize - PAGE_HEADER_SIZE < entry.length ||
      entry.overflowPage + pages - 1 > this.lastPage
    ) {
      throw new BadInputError(
        `the value of ${entry.length} bytes does not fit the ${pages} overflow pages at page ${entry.overflowPage}`,
        where,
      );
    }
    return bytes.subarray(PAGE_HEADER_SIZE);
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  /** A branch or leaf page at `level` (the root is level 1), checked as a tree page. */
  private async treePage(pgno: number, level: number, visited: Set<number>, parent?: number) {
    const from = parent === undefined ? 'the meta page' : `branch page ${parent}`;
    if (pgno < 2 || pgno > this.lastPage) {
      this.fail(`${from} points at page ${pgno}, outside the tree's pages 2 to ${this.lastPage}`);
    }
    if (visited.has(pgno)) this.fail(`${from} points at page ${pgno} a second time: the tree has a cycle`);
    visited.add(pgno);
    const page = await this.readPage(pgno);
    const stored = Number(page.readBigUInt64LE(0));
    if (stored !== pgno) this.fail(`the page's header says it is page ${stored}`, pgno);
    const kind = page.readUInt16LE(10) & ~TRANSIENT_PAGE_FLAGS;
    const leafLevel = level === this.depth;
    if (kind !== PageFlag.Branch && kind !== PageFlag.Leaf) {
      this.fail(`expected a branch or leaf page, received flags 0x${kind.toString(16)}`, pgno);
    }
    if ((kind === PageFlag.Leaf) !== leafLevel) {
      this.fail(
        `a ${kind === PageFlag.Leaf ? 'leaf' : 'branch'} page at level ${level} of a tree of depth ${this.depth}`,
        pgno,
      );
    }
    const lower = page.readUInt16LE(12);
    const upper = page.readUInt16LE(14);
    if (lower < PAGE_HEADER_SIZE + 2 || lower % 2 !== 0 || lower > upper || upper > this.pageSize) {
      this.fail(`free space bounds ${lower}..${upper} do not fit a page of ${this.pageSize} bytes`, pgno);
    }
    return { page, pgno, count: (lower - PAGE_HEADER_SIZE) / 2, next: 0 };
  }

  /** The offset of node `index` of a page, with its header inside the page. */
  private nodeAt(page: Buffer, pgno: number, index: number): number {
    const node = page.readUInt16LE(PAGE_HEADER_SIZE + 2 * index);
    if (node < page.readUInt16LE(14) || node % 2 !== 0 || node + NODE_HEADER_SIZE > this.pageSize) {
      this.fail(`node ${index} lies at offset ${node}, outside the page's nodes`, pgno);
    }
    const keySize = page.readUInt16LE(node + 6);
    const branch = (page.readUInt16LE(10) & PageFlag.Branch) !== 0;
    // A branch page's first node has no key (LMDB never compares it); keys are 1 to 511 bytes.
    const keyOk = branch && index === 0 ? true : keySize >= 1 && keySize <= MAX_KEY_SIZE;
    if (!keyOk || node + NODE_HEADER_SIZE + keySize > this.pageSize) {
      this.fail(`node ${index} has a key of ${keySize} bytes`, pgno);
    }
    return node;
  }

  private leafEntry(page: Buffer, pgno: number, node: number): LmdbEntry {
    const length = page.readUInt16LE(node) + page.readUInt16LE(node + 2) * 2 ** 16;
    const flags = page.readUInt16LE(node + 4);
    const keySize = page.readUInt16LE(node + 6);
    const key = Buffer.from(page.subarray(node + NODE_HEADER_SIZE, node + NODE_HEADER_SIZE + keySize));
    const at = node + NODE_HEADER_SIZE + keySize;
    const where = `${this.path}: page ${pgno}: record ${recordKeyText(key)}`;
    if (flags & ~NODE_BIGDATA) {
      throw new BadInputError(
        `node flags 0x${flags.toString(16)}: sub-databases and duplicate keys are not supported`,
        where,
      );
    }
    if (!(flags & NODE_BIGDATA)) {
      if (at + length > this.pageSize) {
        throw new BadInputError(`a value of ${length} bytes runs past the end of its page`, where);
      }
      return { key, offset: pgno * this.pageSize + at, length };
    }
    if (at + 8 > this.pageSize)
      throw new BadInputError('the overflow page number runs past the end of its page', where);
    const first = page.readBigUInt64LE(at);
    const pages = Math.floor((PAGE_HEADER_SIZE - 1 + length) / this.pageSize) + 1;
    if (first < 2n || first + BigInt(pages - 1) > BigInt(this.lastPage) || length > MAX_VALUE_SIZE) {
      throw new BadInputError(
        `a value of ${length} bytes on overflow pages from page ${first} lies outside the file's pages 2 to ${this.lastPage}`,
        where,
      );
    }
    const overflowPage = Number(first);
    return { key, offset: overflowPage * this.pageSize + PAGE_HEADER_SIZE, length, overflowPage };
  }

  private async readPage(pgno: number): Promise<Buffer> {
    return this.readAt(pgno * this.pageSize, this.pageSize, `${this.path}: page ${pgno}`);
  }

  private async readAt(offset: number, length: number, where: string): Promise<Buffer> {
    const bytes = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.file.read(bytes, 0, length, offset);
    if (bytesRead !== length) throw new BadInputError('lies past the end of the file', where);
    return bytes;
  }

  private fail(message: string, pgno?: number): never {
    throw new BadInputError(message, pgno === undefined ? this.path : `${this.path}: page ${pgno}`);
  }
}

/** A record key for a message: quoted, and one line whatever bytes a damaged file holds. */
export function recordKeyText(key: Uint8Array): string {
  const text = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8');
  return `'${oneLine(text)}'`;
}

interface MetaInfo {
  pageSize: number;
  root: bigint;
  entries: number;
  depth: number;
  lastPage: number;
  txnId: bigint;
}

/** The data file of an LMDB folder, or the file itself; a missing one is bad input. */
async function dataFile(path: string, name = path): Promise<string> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new BadInputError('no such LMDB folder or file', name);
    throw error;
  }
  if (!isFolder) return path;
  const file = join(path, 'data.mdb');
  try {
    await stat(file);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT')
      throw new BadInputError(
        'expected an LMDB folder (holding data.mdb), found a folder without data.mdb',
        name,
      );
    throw error;
  }
  return file;
}

/** One of the two meta pages, checked as LMDB's mdb_env_read_header checks it, and more. */
async function readMeta(
  handle: FileHandle,
  file: string,
  offset: number,
  fileSize: number,
): Promise<MetaInfo> {
  const where = `${file}: meta page ${offset === 0 ? 0 : 1}`;
  const page = Buffer.alloc(META_BYTES);
  const { bytesRead } = await handle.read(page, 0, page.length, offset);
  if (bytesRead !== page.length) throw new BadInputError('lies past the end of the file', where);
  const magic = page.readUInt32LE(Meta.magic);
  const version = page.readUInt32LE(Meta.version);
  if (magic !== MAGIC || version !== DATA_VERSION) {
    throw new BadInputError(
      `expected an LMDB 0.9 file (magic 0xbeefc0de, data version ${DATA_VERSION}), ` +
        `received magic 0x${magic.toString(16)}, version ${version}`,
      where,
    );
  }
  const flags = page.readUInt16LE(10);
  if (!(flags & PageFlag.Meta))
    throw new BadInputError(`expected a meta page, received flags 0x${flags.toString(16)}`, where);
  const pageSize = page.readUInt32LE(Meta.freeDb + DbRecord.pad);
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) {
    throw new BadInputError(
      `expected a page size that is a power of two from 512 to 65536, received ${pageSize}`,
      where,
    );
  }
  const lastPage = page.readBigUInt64LE(Meta.lastPage);
  const pagesInFile = Math.floor(fileSize / pageSize);
  if (lastPage < 1n || lastPage >= BigInt(pagesInFile)) {
    throw new BadInputError(
      `the meta page counts pages 0 to ${lastPage}, but the file holds ${pagesInFile} pages of ${pageSize} bytes (${fileSize} bytes): it is truncated or damaged`,
      where,
    );
  }
  const root = page.readBigUInt64LE(Meta.mainDb + DbRecord.root);
  const depth = page.readUInt16LE(Meta.mainDb + DbRecord.depth);
  const entries = page.readBigUInt64LE(Meta.mainDb + DbRecord.entries);
  const empty = root === INVALID_PAGE;
  if (!empty && (root < 2n || root > lastPage)) {
    throw new BadInputError(`the root page ${root} lies outside the file's pages 2 to ${lastPage}`, where);
  }
  if (empty ? depth !== 0 : depth < 1 || depth > MAX_DEPTH) {
    throw new BadInputError(
      `a tree ${empty ? 'without a root' : `rooted at page ${root}`} cannot have depth ${depth}`,
      where,
    );
  }
  if (entries > BigInt(Number.MAX_SAFE_INTEGER))
    throw new BadInputError(`a record count of ${entries}`, where);
  return {
    pageSize,
    root,
    entries: Number(entries),
    depth,
    lastPage: Number(lastPage),
    txnId: page.readBigUInt64LE(Meta.txnId),
  };
}
