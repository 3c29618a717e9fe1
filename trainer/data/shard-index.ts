// Where each record of an LMDB shard lies, for the loader to read records in any order: typed arrays
// rather than an entry object and a key Buffer per record. Per record it costs 20 bytes plus its key
// (8 for the value's offset, 4 for its length, 4 for its overflow page, 4 for the key's offset); a
// convert_imageset key such as `00000000_n01440764/n01440764_10026.JPEG` is 39, so about 60 bytes.
import type { LmdbEntry, LmdbReader } from './lmdb-reader.js';

export class ShardIndex {
  constructor(
    private readonly keys: Buffer,
    /** Start of key i in `keys`; `keyOffsets[length]` is the end. */
    private readonly keyOffsets: Uint32Array,
    private readonly offsets: Float64Array,
    private readonly lengths: Uint32Array,
    /** First overflow page of the value, or 0 for a value inside its leaf page (page 0 is a meta page). */
    private readonly overflowPages: Uint32Array,
  ) {}

  /** Walks the shard's tree once (LmdbReader.index), keeping each record's place. */
  static async of(reader: LmdbReader): Promise<ShardIndex> {
    const grow = new ShardIndexBuilder();
    for await (const entry of reader.index()) grow.add(entry);
    return grow.build();
  }

  get length(): number {
    return this.lengths.length;
  }

  entry(i: number): LmdbEntry {
    const key = this.keys.subarray(this.keyOffsets[i]!, this.keyOffsets[i + 1]!);
    const overflowPage = this.overflowPages[i]!;
    const entry: LmdbEntry = { key, offset: this.offsets[i]!, length: this.lengths[i]! };
    if (overflowPage !== 0) entry.overflowPage = overflowPage;
    return entry;
  }

  /** Bytes held by the index. */
  get byteLength(): number {
    return (
      this.keys.byteLength +
      this.keyOffsets.byteLength +
      this.offsets.byteLength +
      this.lengths.byteLength +
      this.overflowPages.byteLength
    );
  }
}

/** Collects entries into arrays that double as they fill. */
class ShardIndexBuilder {
  private keys = Buffer.allocUnsafe(1 << 16);
  private keyBytes = 0;
  private keyOffsets = new Uint32Array(1 << 10);
  private offsets = new Float64Array(1 << 10);
  private lengths = new Uint32Array(1 << 10);
  private overflowPages = new Uint32Array(1 << 10);
  private count = 0;

  add(entry: LmdbEntry): void {
    if (this.count + 1 >= this.lengths.length) this.double();
    if (this.keyBytes + entry.key.length > this.keys.length) {
      const keys = Buffer.allocUnsafe(2 * this.keys.length + entry.key.length);
      this.keys.copy(keys, 0, 0, this.keyBytes);
      this.keys = keys;
    }
    this.keyOffsets[this.count] = this.keyBytes;
    this.keys.set(entry.key, this.keyBytes);
    this.keyBytes += entry.key.length;
    this.offsets[this.count] = entry.offset;
    this.lengths[this.count] = entry.length;
    this.overflowPages[this.count] = entry.overflowPage ?? 0;
    this.count++;
  }

  build(): ShardIndex {
    this.keyOffsets[this.count] = this.keyBytes;
    return new ShardIndex(
      Buffer.from(this.keys.subarray(0, this.keyBytes)),
      this.keyOffsets.slice(0, this.count + 1),
      this.offsets.slice(0, this.count),
      this.lengths.slice(0, this.count),
      this.overflowPages.slice(0, this.count),
    );
  }

  private double(): void {
    const grow = <T extends Uint32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(2 * a.length);
      b.set(a);
      return b;
    };
    this.keyOffsets = grow(this.keyOffsets);
    this.offsets = grow(this.offsets);
    this.lengths = grow(this.lengths);
    this.overflowPages = grow(this.overflowPages);
  }
}
