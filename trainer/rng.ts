// The trainer's one source of randomness: a small seedable generator whose state can be saved and restored,
// so a run is reproducible from its seed and a resumed run continues the same stream. No Math.random.
//
// The generator is xoshiro128** (Blackman and Vigna, public domain algorithm): 128 bits of state, 32-bit
// outputs, period 2^128 - 1. It is written here from the published description. The state is seeded from a
// 64-bit integer with splitmix64, as the algorithm's authors recommend.

/** A snapshot of a generator: four 32-bit words and a pending second Gaussian draw. Plain JSON. */
export interface RngState {
  words: [number, number, number, number];
  /** Box-Muller yields Gaussians in pairs; the unused second one, or null. */
  spareGaussian: number | null;
}

const TWO_POW_MINUS_24 = 2 ** -24;
const TWO_POW_MINUS_32 = 2 ** -32;
const MASK_64 = (1n << 64n) - 1n;

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareGaussian: number | null = null;

  /** A generator seeded from any safe integer or bigint (negative values wrap to 64 bits). */
  constructor(seed: number | bigint) {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new RangeError(`Rng seed: expected a safe integer, received ${seed}`);
    }
    let x = BigInt.asUintN(64, BigInt(seed));
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      x = (x + 0x9e3779b97f4a7c15n) & MASK_64;
      const z = splitmix64Mix(x);
      words.push(Number(z & 0xffffffffn), Number(z >> 32n));
    }
    this.setWords(words);
  }

  /** A generator that continues exactly where a saved one stopped. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.restoreState(state);
    return rng;
  }

  saveState(): RngState {
    return {
      words: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spareGaussian: this.spareGaussian,
    };
  }

  restoreState(state: RngState): void {
    if (!Array.isArray(state.words) || state.words.length !== 4) {
      throw new RangeError(`Rng state: expected 4 words, received ${JSON.stringify(state.words)}`);
    }
    this.setWords(state.words);
    this.spareGaussian = state.spareGaussian ?? null;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 bits of resolution: every value is exactly representable as a float32. */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) * TWO_POW_MINUS_24;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.nextFloat();
  }

  /** A normal draw N(mean, std²) by the Box-Muller transform. */
  gaussian(mean: number, std: number): number {
    if (this.spareGaussian !== null) {
      const z = this.spareGaussian;
      this.spareGaussian = null;
      return mean + std * z;
    }
    // (0, 1]: never 0, so the logarithm is finite.
    const u1 = (this.nextUint32() + 1) * TWO_POW_MINUS_32;
    const u2 = this.nextFloat();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spareGaussian = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  }

  /** 1 with probability p, else 0. */
  bernoulli(p: number): number {
    return this.nextFloat() < p ? 1 : 0;
  }

  /** An integer uniform in [0, n), for shuffles and crops. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new RangeError(`Rng.nextInt: expected an integer in [1, 2^32], received ${n}`);
    }
    // Rejection sampling keeps the draw unbiased for any n.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const swap = items[i]!;
      items[i] = items[j]!;
      items[j] = swap;
    }
    return items;
  }

  private setWords(words: readonly number[]): void {
    const [a = 0, b = 0, c = 0, d = 0] = words.map((w) => w >>> 0);
    // The all-zero state is the one fixed point of xoshiro; splitmix64 never yields it in practice.
    if ((a | b | c | d) === 0) throw new RangeError('Rng state: all four words are zero');
    this.s0 = a | 0;
    this.s1 = b | 0;
    this.s2 = c | 0;
    this.s3 = d | 0;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix64Mix(x: bigint): bigint {
  let z = x;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return z ^ (z >> 31n);
}
