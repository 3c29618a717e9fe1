// The on-disk layout of an LMDB 0.9 environment (data format version 1), the one Caffe, python-lmdb
// and the `lmdb` C library in every distribution read and write.
//
// Why our own: the `lmdb` npm package writes LMDB's newer data format 2, which LMDB 0.9 (and so Caffe)
// rejects with MDB_INVALID. A write-once database built from sorted keys is a small bulk load, and a
// reader that walks the tree in key order is smaller still, so both live here.

/** Page size written and expected; LMDB uses the OS page size, 4 KiB on the platforms we run on. */
export const PAGE_SIZE = 4096;
/** Page header: pgno (8), pad (2), flags (2), lower/upper or overflow page count (4). */
export const PAGE_HEADER_SIZE = 16;
/** Leaf and branch node header: lo (2), hi (2), flags (2), key size (2). */
export const NODE_HEADER_SIZE = 8;

export const PageFlag = { Branch: 0x01, Leaf: 0x02, Overflow: 0x04, Meta: 0x08 } as const;
/** Leaf node flag: the value lives on overflow pages; the node holds their first page number. */
export const NODE_BIGDATA = 0x01;

export const MAGIC = 0xbeefc0de;
export const DATA_VERSION = 1;
/** The root of an empty tree. */
export const INVALID_PAGE = 0xffffffffffffffffn;
/** Longest key LMDB 0.9 accepts. */
export const MAX_KEY_SIZE = 511;
/** Largest leaf node kept on its page; bigger values go to overflow pages (LMDB's me_nodemax). */
export const MAX_NODE_SIZE = (((PAGE_SIZE - PAGE_HEADER_SIZE) / 2) & -2) - 2;

/** Byte offsets inside a meta page (after the page header). */
export const Meta = {
  magic: PAGE_HEADER_SIZE,
  version: PAGE_HEADER_SIZE + 4,
  address: PAGE_HEADER_SIZE + 8,
  mapSize: PAGE_HEADER_SIZE + 16,
  freeDb: PAGE_HEADER_SIZE + 24,
  mainDb: PAGE_HEADER_SIZE + 24 + 48,
  lastPage: PAGE_HEADER_SIZE + 24 + 96,
  txnId: PAGE_HEADER_SIZE + 24 + 96 + 8,
} as const;

/** Byte offsets inside one MDB_db record (48 bytes). */
export const DbRecord = {
  pad: 0,
  flags: 4,
  depth: 6,
  branchPages: 8,
  leafPages: 16,
  overflowPages: 24,
  entries: 32,
  root: 40,
} as const;

/** Pages an overflow value of `size` bytes takes, header included. */
export function overflowPages(size: number): number {
  return Math.floor((PAGE_HEADER_SIZE - 1 + size) / PAGE_SIZE) + 1;
}

/** Nodes are 2-byte aligned. */
export function even(n: number): number {
  return (n + 1) & ~1;
}
