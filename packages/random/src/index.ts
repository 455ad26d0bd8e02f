/**
 * `@disco/random`: the one seeded random-number generator of DISCO — mulberry32, a small 32-bit
 * generator that needs no tfjs state, so every backend, browser and Node process draws the same
 * numbers for the same seed (weight initialisation, dropout masks, anchor placement, data order,
 * test fixtures, bootstrap intervals). No dependencies.
 *
 * @packageDocumentation
 */

/** A generator of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32 seeded with a 32-bit integer (`seed >>> 0`): each call returns the next number in
 * [0, 1), the generator's 32-bit draw divided by 2³².
 *
 * @example
 * ```ts
 * const rnd = mulberry32(42);
 * const x = rnd(); // 0 ≤ x < 1, the same on every machine
 * ```
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The draws of {@link mulberry32} as unsigned 32-bit integers in [0, 2³²) (the same stream,
 * times 2³², which is exact).
 *
 * @example
 * ```ts
 * const next = mulberry32Uint32(7);
 * const keep = next() >= Math.ceil(0.1 * 2 ** 32); // a 10 % dropout decision
 * ```
 */
export function mulberry32Uint32(seed: number): () => number {
  const rnd = mulberry32(seed);
  return () => rnd() * 4294967296;
}

/**
 * A random permutation of `0 … n−1` (Fisher–Yates, from the last position down, `j =
 * ⌊rng()·(i+1)⌋`).
 *
 * @example
 * ```ts
 * permutation(5, mulberry32(0)); // e.g. [3, 0, 4, 1, 2]
 * ```
 */
export function permutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/**
 * Draws `offset … offset + count − 1` of the {@link mulberry32} stream of `seed`, as uniform
 * numbers in [0, 1) (the 32-bit draw divided by 2³², exact in float64). Draw k depends only on its
 * counter `seed + (k + 1)·0x6D2B79F5 mod 2³²`, so any window of the stream is computed directly,
 * without running through the draws before it: `uniformDraws(s, k, 1)[0]` is the (k+1)-th call of
 * `mulberry32(s)`. Used to regenerate large weight tensors defined by their draw offsets.
 *
 * @param seed 32-bit seed (`seed >>> 0`).
 * @param offset Index of the first draw, an integer in [0, 2⁵³).
 * @param count Number of draws.
 * @returns `[count]` float64 values in [0, 1).
 *
 * @example
 * ```ts
 * uniformDraws(0, 0, 2); // [0.26642920868471265, 0.0003297457005828619], mulberry32(0)'s first two
 * ```
 */
export function uniformDraws(seed: number, offset: number, count: number): Float64Array {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`uniformDraws: offset must be a non-negative integer (got ${offset})`);
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`uniformDraws: count must be a non-negative integer (got ${count})`);
  const out = new Float64Array(count);
  // Counter of draw `offset`, minus one step: a_k = seed + (k + 1)·γ mod 2³²; Math.imul multiplies mod 2³² exactly.
  let a = ((seed >>> 0) + Math.imul(offset % 4294967296, 0x6d2b79f5)) >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}
