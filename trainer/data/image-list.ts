// A split's images as a few typed arrays rather than an object and strings per image: every prep
// worker holds the whole sorted list (to shuffle it alike), so at ILSVRC2012's 1.28 million images
// this is what a worker's memory grows with. Per image it costs its path's UTF-8 bytes plus 8 bytes
// (a 4-byte offset and a 4-byte label): about 40 bytes for `n01440764/n01440764_10026.JPEG`.
/** One image of the list, made on demand for the few in flight. */
export interface SourceImage {
  /** Path relative to the split's root: `n01440764/n01440764_10026.JPEG`. Also the DB key's tail. */
  rel: string;
  uri: string;
  label: number;
}

export class ImageList {
  constructor(
    /** The split's root: an image's URI is `root/rel`. */
    readonly root: string,
    private readonly paths: Buffer,
    /** Start of path i in `paths`; `offsets[length]` is the end. */
    private readonly offsets: Uint32Array,
    private readonly labels: Int32Array,
  ) {}

  get length(): number {
    return this.labels.length;
  }

  rel(i: number): string {
    return this.paths.toString('utf8', this.offsets[i]!, this.offsets[i + 1]!);
  }

  label(i: number): number {
    return this.labels[i]!;
  }

  item(i: number): SourceImage {
    const rel = this.rel(i);
    return { rel, uri: `${this.root}/${rel}`, label: this.labels[i]! };
  }

  *[Symbol.iterator](): IterableIterator<SourceImage> {
    for (let i = 0; i < this.length; i++) yield this.item(i);
  }

  /** Bytes held, for the benchmark's per-image figure. */
  get byteLength(): number {
    return this.paths.byteLength + this.offsets.byteLength + this.labels.byteLength;
  }
}

/** Collects images one at a time, in any order; `build` sorts them by path when they came unsorted. */
export class ImageListBuilder {
  private paths = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  private offsets = new Uint32Array(1 << 12);
  private labels = new Int32Array(1 << 12);
  private count = 0;
  private sorted = true;
  private last = '';

  add(rel: string, label: number): void {
    if (this.count > 0 && asciiCompare(this.last, rel) > 0) this.sorted = false;
    this.last = rel;
    const bytes = Buffer.byteLength(rel);
    if (this.used + bytes > this.paths.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.paths.length, this.used + bytes));
      this.paths.copy(grown, 0, 0, this.used);
      this.paths = grown;
    }
    if (this.count + 1 >= this.offsets.length) {
      const offsets = new Uint32Array(2 * this.offsets.length);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const labels = new Int32Array(2 * this.labels.length);
      labels.set(this.labels);
      this.labels = labels;
    }
    if (this.used + bytes > 0xffff_ffff) throw new Error('image list: more than 4 GiB of paths');
    this.offsets[this.count] = this.used;
    this.paths.write(rel, this.used);
    this.used += bytes;
    this.labels[this.count] = label;
    this.count++;
  }

  /** Relabels every image: `label = map[label]` (labels given as discovery order, made final). */
  relabel(map: ArrayLike<number>): void {
    for (let i = 0; i < this.count; i++) this.labels[i] = map[this.labels[i]!]!;
  }

  build(root: string): ImageList {
    this.offsets[this.count] = this.used;
    const list = new ImageList(
      root,
      Buffer.from(this.paths.subarray(0, this.used)),
      this.offsets.slice(0, this.count + 1),
      this.labels.slice(0, this.count),
    );
    return this.sorted ? list : sortedCopy(list);
  }
}

function sortedCopy(list: ImageList): ImageList {
  const order = Array.from({ length: list.length }, (_, i) => i);
  const rels = order.map((i) => list.rel(i));
  order.sort((a, b) => asciiCompare(rels[a]!, rels[b]!));
  const builder = new ImageListBuilder();
  for (const i of order) builder.add(rels[i]!, list.label(i));
  return builder.build(list.root);
}

/** Byte-wise comparison, as C's strcmp and Python's sort order of ASCII names. */
export function asciiCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
