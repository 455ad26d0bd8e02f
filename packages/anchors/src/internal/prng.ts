/**
 * Seeded pseudo-random numbers for the anchor locator (mulberry32), independent of tfjs state so
 * that every backend draws the same numbers.
 */

import { mulberry32, type Rng } from '@disco/random';

export { mulberry32, type Rng };

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
