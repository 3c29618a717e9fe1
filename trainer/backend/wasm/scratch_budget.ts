// How a kernel whose result is a sum (Conv2DBackpropFilter sums over images and output pixels) splits
// its work into runs whose scratch memory stays under a budget. wasm32 has a 4 GiB heap and no way
// back from running out: a failed allocation inside XNNPACK leaves the output unwritten (garbage, no
// error), one in the backend aborts the process. Pure decisions; the budget is a setting.

/** Scratch bytes one kernel call may use before it splits its work: room to spare under 4 GiB. */
export const defaultScratchBudget = 512 * 2 ** 20;

let scratchBudget = defaultScratchBudget;

/** The budget in force, in bytes. */
export function getScratchBudget(): number {
  return scratchBudget;
}

/**
 * Sets the budget (bytes) and returns the previous one; no argument restores the default. Only for
 * tests, which lower it to run the split path on small inputs.
 */
export function setScratchBudget(bytes?: number): number {
  if (bytes !== undefined && !(Number.isFinite(bytes) && bytes > 0)) {
    throw new Error(`scratch budget: expected a positive number of bytes, received ${bytes}`);
  }
  const previous = scratchBudget;
  scratchBudget = bytes ?? defaultScratchBudget;
  return previous;
}

/**
 * Splits `total` items (rows, images), each needing `bytesPerItem` of scratch, into as few runs of
 * consecutive items as keep each run within `budget`, sized as evenly as possible (never below one
 * item). Returns [start, count] pairs in order.
 */
export function splitRuns(total: number, bytesPerItem: number, budget: number): [number, number][] {
  const fit = Math.max(1, Math.floor(budget / Math.max(1, bytesPerItem)));
  const pieces = Math.ceil(total / fit);
  const chunks: [number, number][] = [];
  for (let i = 0, start = 0; i < pieces; i++) {
    const count = Math.floor((total * (i + 1)) / pieces) - Math.floor((total * i) / pieces);
    chunks.push([start, count]);
    start += count;
  }
  return chunks;
}
