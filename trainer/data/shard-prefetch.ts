// Which S3 shards the loader keeps on local disk: the one it reads and the one it reads next, never
// more. A pure decision (no files, no clock), so the loader's effects (downloads, deletions) follow
// from it and it is table-tested on its own.

/** Shards on local disk at most: the one being read and the one after it, downloading meanwhile. */
export const SHARDS_ON_DISK = 2;

export interface ShardPlanInput {
  /** The part the loader has just opened and reads now; undefined when it has just finished one. */
  reading: number | undefined;
  /** The part it reads after that one (see `followingPart`); undefined when unknown or not prefetched. */
  following: number | undefined;
  /** Parts whose files are on disk or downloading, oldest download first. */
  held: readonly number[];
}

export interface ShardPlan {
  /** Parts whose files to delete, before any download starts. */
  evict: number[];
  /** Parts to download, in this order (the one being read first). */
  fetch: number[];
}

/** Keeps the part being read and the following one; deletes every other file; downloads what is missing. */
export function planShards(input: ShardPlanInput): ShardPlan {
  const keep: number[] = [];
  for (const part of [input.reading, input.following]) {
    if (part !== undefined && !keep.includes(part)) keep.push(part);
  }
  return {
    evict: input.held.filter((part) => !keep.includes(part)),
    fetch: keep.filter((part) => !input.held.includes(part)),
  };
}

/**
 * The part read after position `at` of this epoch's order: the next one, or after the last, the first
 * of the next epoch's order (undefined when that order is not known).
 */
export function followingPart(
  order: readonly number[],
  at: number,
  nextEpochOrder: readonly number[] | undefined,
): number | undefined {
  return at + 1 < order.length ? order[at + 1] : nextEpochOrder?.[0];
}
