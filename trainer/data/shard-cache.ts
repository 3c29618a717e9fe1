// Local copies of a dataset's S3 shards, in a folder of their own (`<cache_dir>/brewery-shards-*`): a
// download goes to a temporary name and becomes `shard-<part>.mdb` only once complete and of the
// listed size, so a partial download is never opened. Which parts to hold is decided elsewhere
// (shard-prefetch.ts); this module only downloads, deletes and counts.
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { storageFor } from '../storage/index.js';

export interface RemoteShard {
  /** The shard's data file (`.../data.mdb`). */
  uri: string;
  /** Its size as listed; a download of another size is refused. */
  size: number;
}

export class ShardCache {
  /** Part → its local file once downloaded, oldest download first (Map keeps insertion order). */
  private readonly files = new Map<number, Promise<string>>();
  private most = 0;

  private constructor(
    readonly dir: string,
    private readonly shards: readonly RemoteShard[],
  ) {}

  /** A new, empty cache folder under `parent` (default: the OS temp folder). */
  static async create(shards: readonly RemoteShard[], parent?: string): Promise<ShardCache> {
    const base = parent ?? tmpdir();
    await mkdir(base, { recursive: true });
    return new ShardCache(await mkdtemp(join(base, 'brewery-shards-')), shards);
  }

  /** Parts on disk or downloading, oldest download first. */
  held(): number[] {
    return [...this.files.keys()];
  }

  /** The most parts held at once since the cache was made. */
  highWater(): number {
    return this.most;
  }

  /** Starts downloading the part (unless held already); resolves with its local file when complete. */
  fetch(part: number): Promise<string> {
    let file = this.files.get(part);
    if (!file) {
      file = this.download(part);
      // A prefetch's failure is reported where the part is opened, not as an unhandled rejection.
      file.catch(() => undefined);
      this.files.set(part, file);
      this.most = Math.max(this.most, this.files.size);
    }
    return file;
  }

  /** Deletes the part's file (waiting for a download under way to end first). */
  async evict(part: number): Promise<void> {
    const file = this.files.get(part);
    if (!file) return;
    await file.catch(() => undefined);
    await rm(this.finalName(part), { force: true });
    this.files.delete(part);
  }

  /** Files in the cache folder now, partial downloads included: what the disk holds, counted. */
  async filesOnDisk(): Promise<number> {
    return (await readdir(this.dir)).length;
  }

  /** Waits for downloads under way, then removes the folder. */
  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.catch(() => undefined)));
    this.files.clear();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async download(part: number): Promise<string> {
    const shard = this.shards[part]!;
    const final = this.finalName(part);
    const partial = `${final}.partial`;
    try {
      await storageFor(shard.uri).getFile(shard.uri, partial);
      const size = (await stat(partial)).size;
      if (size !== shard.size) {
        throw new Error(
          `${shard.uri}: expected a download of ${shard.size} bytes as listed, received ${size}`,
        );
      }
      await rename(partial, final);
      return final;
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  private finalName(part: number): string {
    return join(this.dir, `shard-${part}.mdb`);
  }
}
