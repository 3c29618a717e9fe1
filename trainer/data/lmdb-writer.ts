// Writes a new LMDB 0.9 environment (a folder holding data.mdb) from records given in ascending key
// order, as a bulk load: leaf and overflow pages are written as they fill, branch pages as each level
// fills, the two meta pages last. Memory holds one page per tree level, whatever the record count.
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

import {
  DATA_VERSION,
  DbRecord,
  even,
  INVALID_PAGE,
  MAGIC,
  MAX_KEY_SIZE,
  MAX_NODE_SIZE,
  Meta,
  NODE_BIGDATA,
  NODE_HEADER_SIZE,
  overflowPages,
  PAGE_HEADER_SIZE,
  PAGE_SIZE,
  PageFlag,
} from './lmdb-format.js';

interface LeafEntry {
  key: Uint8Array;
  /** Inline value, or undefined when it lives on overflow pages. */
  value?: Uint8Array;
  valueSize: number;
  overflowPage: number;
}

interface BranchLevel {
  /** The smallest key below this level's open page: the separator its parent stores. */
  firstKey: Uint8Array;
  children: { key: Uint8Array; page: number }[];
  used: number;
}

interface TreeCounts {
  entries: number;
  depth: number;
  leafPages: number;
  branchPages: number;
  overflowPages: number;
}

export interface LmdbStats extends TreeCounts {
  fileSize: number;
}

export class LmdbWriter {
  private readonly fd: number;
  private nextPage = 2; // pages 0 and 1 are the meta pages
  private leaf: LeafEntry[] = [];
  private leafUsed = PAGE_HEADER_SIZE;
  private readonly levels: (BranchLevel | undefined)[] = [];
  private lastKey: Uint8Array | undefined;
  private readonly stats: TreeCounts = {
    entries: 0,
    depth: 0,
    leafPages: 0,
    branchPages: 0,
    overflowPages: 0,
  };

  /** Creates `dir` (it must not exist, as in Caffe's convert_imageset; its parents may not) and `dir/data.mdb`. */
  constructor(readonly dir: string) {
    mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir, { mode: 0o755 });
    this.fd = openSync(join(dir, 'data.mdb'), 'wx', 0o644);
    writeSync(this.fd, new Uint8Array(2 * PAGE_SIZE), 0, 2 * PAGE_SIZE, 0);
  }

  get count(): number {
    return this.stats.entries;
  }

  /** Adds one record; keys must arrive in strictly ascending byte order. */
  put(key: Uint8Array, value: Uint8Array): void {
    if (key.length === 0 || key.length > MAX_KEY_SIZE) {
      throw new Error(`LMDB key: expected 1 to ${MAX_KEY_SIZE} bytes, received ${key.length}`);
    }
    if (this.lastKey && Buffer.compare(this.lastKey, key) >= 0) {
      throw new Error(
        `LMDB key order: '${Buffer.from(key).toString()}' does not sort after '${Buffer.from(this.lastKey).toString()}'`,
      );
    }
    this.lastKey = key;
    const big = NODE_HEADER_SIZE + key.length + value.length > MAX_NODE_SIZE;
    const entry: LeafEntry = big
      ? { key, valueSize: value.length, overflowPage: this.writeOverflow(value) }
      : { key, value, valueSize: value.length, overflowPage: 0 };
    const size = leafNodeSize(entry) + 2;
    if (this.leafUsed + size > PAGE_SIZE) this.flushLeaf();
    this.leaf.push(entry);
    this.leafUsed += size;
    this.stats.entries++;
  }

  /** Writes the branch pages and meta pages, syncs and closes the file. */
  finish(): LmdbStats {
    if (this.leaf.length > 0) this.flushLeaf();
    let root = INVALID_PAGE;
    for (let height = 0; height < this.levels.length; height++) {
      const level = this.levels[height]!;
      if (height === this.levels.length - 1 && level.children.length === 1) {
        root = BigInt(level.children[0]!.page);
        this.stats.depth = height + 1;
        break;
      }
      this.flushBranch(height);
    }
    const lastPage = this.nextPage - 1;
    const meta = metaPage(root, lastPage, this.stats);
    writeSync(this.fd, meta, 0, PAGE_SIZE, 0);
    meta.writeBigUInt64LE(1n, 0);
    writeSync(this.fd, meta, 0, PAGE_SIZE, PAGE_SIZE);
    fsyncSync(this.fd);
    closeSync(this.fd);
    return { ...this.stats, fileSize: this.nextPage * PAGE_SIZE };
  }

  private writeOverflow(value: Uint8Array): number {
    const pages = overflowPages(value.length);
    const buffer = Buffer.alloc(pages * PAGE_SIZE);
    const page = this.nextPage;
    buffer.writeBigUInt64LE(BigInt(page), 0);
    buffer.writeUInt16LE(PageFlag.Overflow, 10);
    buffer.writeUInt32LE(pages, 12);
    buffer.set(value, PAGE_HEADER_SIZE);
    this.writePages(buffer, pages);
    this.stats.overflowPages += pages;
    return page;
  }

  private flushLeaf(): void {
    const page = this.nextPage;
    const buffer = pageBuffer(page, PageFlag.Leaf, this.leaf.length);
    let upper = PAGE_SIZE;
    this.leaf.forEach((entry, i) => {
      upper -= leafNodeSize(entry);
      buffer.writeUInt16LE(upper, PAGE_HEADER_SIZE + 2 * i);
      buffer.writeUInt16LE(entry.valueSize & 0xffff, upper);
      buffer.writeUInt16LE(entry.valueSize >>> 16, upper + 2);
      buffer.writeUInt16LE(entry.value ? 0 : NODE_BIGDATA, upper + 4);
      buffer.writeUInt16LE(entry.key.length, upper + 6);
      buffer.set(entry.key, upper + NODE_HEADER_SIZE);
      const at = upper + NODE_HEADER_SIZE + entry.key.length;
      if (entry.value) buffer.set(entry.value, at);
      else buffer.writeBigUInt64LE(BigInt(entry.overflowPage), at);
    });
    buffer.writeUInt16LE(upper, 14);
    this.writePages(buffer, 1);
    this.stats.leafPages++;
    this.addChild(0, this.leaf[0]!.key, page);
    this.leaf = [];
    this.leafUsed = PAGE_HEADER_SIZE;
  }

  private addChild(height: number, key: Uint8Array, page: number): void {
    let level = this.levels[height];
    // The first node of a branch page carries no key (LMDB never compares it).
    const sizeOf = (first: boolean) => even(NODE_HEADER_SIZE + (first ? 0 : key.length)) + 2;
    if (level && level.used + sizeOf(false) > PAGE_SIZE) {
      this.flushBranch(height);
      level = undefined;
    }
    if (!level) {
      level = { firstKey: key, children: [], used: PAGE_HEADER_SIZE + sizeOf(true) };
      this.levels[height] = level;
    } else {
      level.used += sizeOf(false);
    }
    level.children.push({ key, page });
  }

  private flushBranch(height: number): void {
    const level = this.levels[height]!;
    const page = this.nextPage;
    const buffer = pageBuffer(page, PageFlag.Branch, level.children.length);
    let upper = PAGE_SIZE;
    level.children.forEach((child, i) => {
      const key = i === 0 ? new Uint8Array(0) : child.key;
      upper -= even(NODE_HEADER_SIZE + key.length);
      buffer.writeUInt16LE(upper, PAGE_HEADER_SIZE + 2 * i);
      // A branch node keeps its child's 48-bit page number in lo, hi and flags.
      buffer.writeUInt16LE(child.page & 0xffff, upper);
      buffer.writeUInt16LE((child.page >>> 16) & 0xffff, upper + 2);
      buffer.writeUInt16LE(Math.floor(child.page / 2 ** 32) & 0xffff, upper + 4);
      buffer.writeUInt16LE(key.length, upper + 6);
      buffer.set(key, upper + NODE_HEADER_SIZE);
    });
    buffer.writeUInt16LE(upper, 14);
    this.writePages(buffer, 1);
    this.stats.branchPages++;
    this.levels[height] = undefined;
    this.addChild(height + 1, level.firstKey, page);
  }

  private writePages(buffer: Uint8Array, pages: number): void {
    writeSync(this.fd, buffer, 0, pages * PAGE_SIZE, this.nextPage * PAGE_SIZE);
    this.nextPage += pages;
  }
}

function leafNodeSize(entry: LeafEntry): number {
  return even(NODE_HEADER_SIZE + entry.key.length + (entry.value ? entry.value.length : 8));
}

function pageBuffer(page: number, flags: number, nodes: number): Buffer {
  const buffer = Buffer.alloc(PAGE_SIZE);
  buffer.writeBigUInt64LE(BigInt(page), 0);
  buffer.writeUInt16LE(flags, 10);
  buffer.writeUInt16LE(PAGE_HEADER_SIZE + 2 * nodes, 12);
  return buffer;
}

function metaPage(root: bigint, lastPage: number, stats: TreeCounts): Buffer {
  const buffer = Buffer.alloc(PAGE_SIZE);
  buffer.writeUInt16LE(PageFlag.Meta, 10);
  buffer.writeUInt32LE(MAGIC, Meta.magic);
  buffer.writeUInt32LE(DATA_VERSION, Meta.version);
  buffer.writeBigUInt64LE(BigInt((lastPage + 1) * PAGE_SIZE), Meta.mapSize);
  // The free-page database is empty; its pad field holds the page size.
  buffer.writeUInt32LE(PAGE_SIZE, Meta.freeDb + DbRecord.pad);
  buffer.writeBigUInt64LE(INVALID_PAGE, Meta.freeDb + DbRecord.root);
  const main = Meta.mainDb;
  buffer.writeUInt16LE(stats.depth, main + DbRecord.depth);
  buffer.writeBigUInt64LE(BigInt(stats.branchPages), main + DbRecord.branchPages);
  buffer.writeBigUInt64LE(BigInt(stats.leafPages), main + DbRecord.leafPages);
  buffer.writeBigUInt64LE(BigInt(stats.overflowPages), main + DbRecord.overflowPages);
  buffer.writeBigUInt64LE(BigInt(stats.entries), main + DbRecord.entries);
  buffer.writeBigUInt64LE(root, main + DbRecord.root);
  buffer.writeBigUInt64LE(BigInt(lastPage), Meta.lastPage);
  buffer.writeBigUInt64LE(1n, Meta.txnId);
  return buffer;
}
