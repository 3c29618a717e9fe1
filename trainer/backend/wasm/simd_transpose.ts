// A 4x4-block matrix transpose in WebAssembly SIMD, run on the wasm backend's own heap.
//
// tfjs-backend-wasm has no fast transpose, and a JavaScript loop moves one element at a time (~2.5 ns
// each on fc6's weights). This module, a few hundred bytes assembled below, loads four rows of four
// floats as 128-bit vectors, transposes them with eight shuffles and stores four columns: one pass of
// 16-byte loads and stores. It imports the backend's memory, so it reads and writes tensors in place.
// Where no memory can be had, or the module does not build, `simdTranspose` is undefined and callers
// keep their JavaScript loop.
//
// The function: t4(src, dst, rows, cols, srcRowBytes, dstRowBytes), rows and cols multiples of 4,
// src/dst byte addresses: dst[j][i] = src[i][j] for i < rows, j < cols (32-bit elements).
// Binary format: the WebAssembly core specification and its SIMD proposal (opcodes 0xfd ...).

/** Transposes a rows x cols block (both multiples of 4) of 32-bit elements between heap addresses. */
export type BlockTranspose = (
  src: number,
  dst: number,
  rows: number,
  cols: number,
  srcRowBytes: number,
  dstRowBytes: number,
) => void;

/** The part of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Memory: abstract new (...args: never[]) => { buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const moduleCache = new WeakMap<object, BlockTranspose | null>();

/** The SIMD block transpose bound to `memory`, or undefined where it cannot be built. */
export function simdTranspose(memory: unknown): BlockTranspose | undefined {
  if (wasmApi === undefined || !(memory instanceof wasmApi.Memory)) return undefined;
  const cached = moduleCache.get(memory);
  if (cached !== undefined) return cached ?? undefined;
  let fn: BlockTranspose | null = null;
  try {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const instance = new wasmApi.Instance(new wasmApi.Module(moduleBytes(shared)), { env: { memory } });
    fn = instance.exports.t4 as BlockTranspose;
  } catch {
    fn = null; // no SIMD, or limits that do not match: the caller's JS loop is used.
  }
  moduleCache.set(memory, fn);
  return fn ?? undefined;
}

// Local indices: parameters, then i32 i, j, sp, dp, then v128 a0..a3, t0..t3.
const src = 0;
const dst = 1;
const rows = 2;
const cols = 3;
const srcRow = 4;
const dstRow = 5;
const i = 6;
const j = 7;
const sp = 8;
const dp = 9;
const a0 = 10;
const a1 = 11;
const a2 = 12;
const a3 = 13;
const t0 = 14;
const t1 = 15;
const t2 = 16;
const t3 = 17;

const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32const: 0x41,
  geU: 0x4f,
  add: 0x6a,
  mul: 0x6c,
  shl: 0x74,
  void: 0x40,
  i32: 0x7f,
  v128: 0x7b,
  simd: 0xfd,
} as const;

/** i8x16.shuffle picking 32-bit lanes (0-3 from the first vector, 4-7 from the second). */
function shuffle(lanes: number[]): number[] {
  return [op.simd, 0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])];
}
const load = [op.simd, 0x00, 0x00, 0x00]; // v128.load, align 1, offset 0
const store = [op.simd, 0x0b, 0x00, 0x00]; // v128.store

function body(): number[] {
  const get = (l: number) => [op.get, l];
  const set = (l: number) => [op.set, l];
  const tee = (l: number) => [op.tee, l];
  const four = [op.i32const, 4];
  const times4 = [op.i32const, 2, op.shl];
  return [
    ...[op.i32const, 0, ...set(i)],
    ...[op.block, op.void, op.loop, op.void],
    ...[...get(i), ...get(rows), op.geU, op.brIf, 1],
    ...[op.i32const, 0, ...set(j)],
    ...[op.block, op.void, op.loop, op.void],
    ...[...get(j), ...get(cols), op.geU, op.brIf, 1],
    // sp = src + i * srcRow + 4j; four rows of four
    ...[...get(src), ...get(i), ...get(srcRow), op.mul, op.add, ...get(j), ...times4, op.add, ...set(sp)],
    ...[...get(sp), ...load, ...set(a0)],
    ...[...get(sp), ...get(srcRow), op.add, ...tee(sp), ...load, ...set(a1)],
    ...[...get(sp), ...get(srcRow), op.add, ...tee(sp), ...load, ...set(a2)],
    ...[...get(sp), ...get(srcRow), op.add, ...load, ...set(a3)],
    ...[...get(a0), ...get(a1), ...shuffle([0, 4, 1, 5]), ...set(t0)],
    ...[...get(a0), ...get(a1), ...shuffle([2, 6, 3, 7]), ...set(t1)],
    ...[...get(a2), ...get(a3), ...shuffle([0, 4, 1, 5]), ...set(t2)],
    ...[...get(a2), ...get(a3), ...shuffle([2, 6, 3, 7]), ...set(t3)],
    // dp = dst + j * dstRow + 4i; four columns
    ...[...get(dst), ...get(j), ...get(dstRow), op.mul, op.add, ...get(i), ...times4, op.add, ...set(dp)],
    ...[...get(dp), ...get(t0), ...get(t2), ...shuffle([0, 1, 4, 5]), ...store],
    ...[
      ...get(dp),
      ...get(dstRow),
      op.add,
      ...tee(dp),
      ...get(t0),
      ...get(t2),
      ...shuffle([2, 3, 6, 7]),
      ...store,
    ],
    ...[
      ...get(dp),
      ...get(dstRow),
      op.add,
      ...tee(dp),
      ...get(t1),
      ...get(t3),
      ...shuffle([0, 1, 4, 5]),
      ...store,
    ],
    ...[...get(dp), ...get(dstRow), op.add, ...get(t1), ...get(t3), ...shuffle([2, 3, 6, 7]), ...store],
    ...[...get(j), ...four, op.add, ...set(j), op.br, 0, op.end, op.end],
    ...[...get(i), ...four, op.add, ...set(i), op.br, 0, op.end, op.end],
    op.end,
  ];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
}

function moduleBytes(shared: boolean): Uint8Array {
  const code = [2, 4, op.i32, 8, op.v128, ...body()]; // locals: 4 x i32, 8 x v128
  // Shared memories must declare a maximum: 65536 pages (4 GiB), wasm32's whole range.
  const limits = shared ? [0x03, 1, ...uleb(65536)] : [0x00, 1];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 6, op.i32, op.i32, op.i32, op.i32, op.i32, op.i32, 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, ...limits]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('t4'), 0x00, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}
