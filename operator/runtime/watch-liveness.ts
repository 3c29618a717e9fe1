// When a watch that has gone quiet must be restarted. The apiserver sends a watch that asked for
// allowWatchBookmarks a BOOKMARK about once a minute even when nothing changes (bookmarkFrequency in
// k8s.io/apiserver's storage/cacher; a quiet watch on the local cluster got them at 61, 121 and 180 s),
// so a watch that hears nothing, no event and no bookmark, for much longer than that is stalled: a
// half-open connection, a proxy that stopped forwarding, a server that hung.

/** Quiet longer than this (two missed bookmarks and some) and the watch is restarted. */
export const DEFAULT_WATCH_MAX_QUIET_MS = 150_000;

export type WatchLiveness = { stalled: false; checkAgainInMs: number } | { stalled: true; quietMs: number };

/**
 * Whether a watch last heard from at `lastHeardAtMs` (its start, an event or a bookmark) is stalled at
 * `nowMs`; if not, how long until it would be, which is when to look again.
 */
export function watchLiveness(lastHeardAtMs: number, nowMs: number, maxQuietMs: number): WatchLiveness {
  const quietMs = Math.max(0, nowMs - lastHeardAtMs);
  if (quietMs > maxQuietMs) return { stalled: true, quietMs };
  // One past the limit: checking at exactly maxQuietMs would find it not yet stalled and look again at 0.
  return { stalled: false, checkAgainInMs: maxQuietMs - quietMs + 1 };
}
