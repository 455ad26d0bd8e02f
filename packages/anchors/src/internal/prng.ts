/**
 * Seeded pseudo-random numbers for the anchor locator (mulberry32), independent of tfjs state so
 * that every backend draws the same numbers.
 */

/** A generator of uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32 seeded with a 32-bit integer. */
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

/** The generator of image `b` of a batch drawn with `seed`: one independent stream per image. */
export function imageRng(seed: number, b: number): Rng {
  let h = (seed ^ Math.imul(b + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return mulberry32((h ^ (h >>> 16)) >>> 0);
}

/** A uniform integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}

/** `k` distinct integers of [0, n), uniformly without replacement (partial Fisher–Yates), in draw order. */
export function sampleWithoutReplacement(rng: Rng, n: number, k: number): number[] {
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + randInt(rng, n - i);
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, k);
}

/**
 * An index drawn with probability proportional to `weights` (non-negative, positive sum). The
 * inverse-CDF walk skips zero weights, so a zero-weight index is never returned.
 */
export function drawWeighted(rng: Rng, weights: ArrayLike<number>, total: number): number {
  const r = rng() * total;
  let acc = 0;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w <= 0) continue;
    acc += w;
    last = i;
    if (r < acc) return i;
  }
  return last;
}
