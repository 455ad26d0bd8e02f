/** Seeded randomness for initialisers and dropout masks (browser-safe, no tfjs state). */

import { mulberry32 } from '@disco/random';

export { mulberry32 };

/** A child seed derived from a parent seed and a name, so sub-modules get independent streams. */
export function deriveSeed(seed: number, name: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** Xavier (Glorot) uniform values: U(-b, b) with `b = sqrt(6 / (fanIn + fanOut))`. */
export function xavierUniform(n: number, fanIn: number, fanOut: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (2 * rnd() - 1) * bound;
  return v;
}

/**
 * A stream of dropout seeds: deterministic when `seed` is a number, `undefined` (tfjs picks one)
 * when it is null.
 */
export function dropoutSeeds(seed: number | null): () => number | undefined {
  if (seed == null) return () => undefined;
  const rnd = mulberry32(deriveSeed(seed, 'dropout'));
  return () => Math.floor(rnd() * 2147483647);
}
