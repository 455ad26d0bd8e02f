/**
 * The k-means of the published DISCO code (Xia et al. 2022; its `clusterkit.kmeans`, run at
 * inference on the color modeler's features), reproduced rule for rule so that a converted
 * checkpoint picks the same anchors as the released model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KMeansResult } from './kmeans.js';
import { imageRng, randInt, sampleWithoutReplacement } from './internal/prng.js';
import { checkInt, checkNonNegative, rejectUnknownKeys } from './internal/validate.js';

/** Options of {@link kmeansPublished}. */
export interface PublishedKMeansOptions {
  /** Number of clusters K, 1 ≤ K ≤ tokens. Default 8. */
  k: number;
  /** Most passes. Default 20 (the published `iter_limit`). */
  maxIter: number;
  /** Stop once `(Σ_k ‖c_k(new) − c_k(old)‖)² < tol`. Default 1e-4 (the published `tol`). */
  tol: number;
  /** Seed of the initial draw and of empty-cluster re-seeding (per image streams). Default 0. */
  seed: number;
}

/** Defaults of {@link PublishedKMeansOptions}: the published code's. */
export const PUBLISHED_KMEANS_DEFAULTS: Readonly<PublishedKMeansOptions> = Object.freeze({ k: 8, maxIter: 20, tol: 1e-4, seed: 0 });

/** What {@link kmeansPublished} returns: {@link KMeansResult} plus the initial centre tokens it used. */
export interface PublishedKMeansResult extends KMeansResult {
  /** Per image, the K token indices whose features were the initial centres. */
  initIndices: number[][];
}

/**
 * k-means exactly as the published DISCO code runs it, per image:
 *
 * 1. the K initial centres are the features of K distinct tokens drawn uniformly (or the tokens
 *    `initIndices[b]`, e.g. recorded from a reference run);
 * 2. each pass assigns every token to its nearest centre (squared Euclidean distance, lowest
 *    index on ties), then moves every centre to the mean of its tokens; the centre of an empty
 *    cluster becomes a token drawn uniformly;
 * 3. it stops when `(Σ_k ‖Δc_k‖)² < tol` or after `maxIter` passes, and returns the assignment
 *    computed **at the start of the last pass** (against the centres before the final update)
 *    with the centres after it.
 *
 * Unlike {@link kmeans}, the assignment may therefore disagree with the returned centres, and a
 * cluster may be empty. Computed in JavaScript on the read-back features (distances in float64,
 * centres stored in float32 like the reference's); no gradient flows.
 *
 * @param x Token features `[batch, tokens, channels]`, float32, finite.
 * @param options See {@link PublishedKMeansOptions}; defaults {@link PUBLISHED_KMEANS_DEFAULTS}.
 * @param initIndices Optional initial centre tokens per image, `[batch][K]` distinct indices in `[0, tokens)`.
 * @returns Assignments `[batch, tokens]` (int32), centres `[batch, K, channels]`, passes per image,
 *   whether each image met the tolerance, and the initial tokens.
 *
 * @example
 * ```ts
 * const { assignments } = kmeansPublished(feats, { k: 8 }, [[3, 18, 27, 35, 52, 81, 82, 90]]); // feats [1, 96, 64]
 * ```
 */
export function kmeansPublished(x: tf.Tensor3D, options: Partial<PublishedKMeansOptions> = {}, initIndices?: readonly (readonly number[])[]): PublishedKMeansResult {
  const fn = 'kmeansPublished';
  rejectUnknownKeys(fn, options, Object.keys(PUBLISHED_KMEANS_DEFAULTS));
  const o = { ...PUBLISHED_KMEANS_DEFAULTS, ...options };
  checkInt(fn, 'k', o.k, 1);
  checkInt(fn, 'maxIter', o.maxIter, 1);
  checkNonNegative(fn, 'tol', o.tol);
  checkInt(fn, 'seed', o.seed, 0, 0xffffffff);
  tf.util.assert(x instanceof tf.Tensor && x.rank === 3 && x.dtype === 'float32', () => `${fn}: x must be a float32 [batch, tokens, channels] tensor, got ${x?.dtype} [${x?.shape}]`);
  const [B, T, C] = x.shape;
  const K = o.k;
  tf.util.assert(K <= T, () => `${fn}: k (${K}) must be <= the number of tokens (${T})`);
  const data = x.dataSync() as Float32Array;
  for (let i = 0; i < data.length; i++) tf.util.assert(Number.isFinite(data[i]!), () => `${fn}: x contains NaN or Infinity`);
  if (initIndices !== undefined) {
    tf.util.assert(initIndices.length === B, () => `${fn}: initIndices must hold one list per image (${B}), got ${initIndices.length}`);
    initIndices.forEach((list, b) => {
      tf.util.assert(list.length === K && new Set(list).size === K && list.every((t) => Number.isInteger(t) && t >= 0 && t < T), () => `${fn}: initIndices[${b}] must be ${K} distinct token indices in [0, ${T}), got [${list.join(', ')}]`);
    });
  }

  const assignOut = new Int32Array(B * T);
  const centresOut = new Float32Array(B * K * C);
  const iterations: number[] = [];
  const converged: boolean[] = [];
  const inits: number[][] = [];
  for (let b = 0; b < B; b++) {
    const rng = imageRng(o.seed, b);
    const X = data.subarray(b * T * C, (b + 1) * T * C);
    const init = initIndices ? [...initIndices[b]!] : sampleWithoutReplacement(rng, T, K);
    inits.push(init);
    const c = new Float32Array(K * C);
    init.forEach((t, k) => c.set(X.subarray(t * C, (t + 1) * C), k * C));
    const assign = new Int32Array(T);
    let passes = 0;
    let met = false;
    for (;;) {
      for (let t = 0; t < T; t++) {
        let best = 0;
        let bestD = Infinity;
        for (let k = 0; k < K; k++) {
          let d = 0;
          for (let q = 0; q < C; q++) {
            const e = X[t * C + q]! - c[k * C + q]!;
            d += e * e;
          }
          if (d < bestD) [bestD, best] = [d, k];
        }
        assign[t] = best;
      }
      const prev = c.slice();
      for (let k = 0; k < K; k++) {
        const sum = new Float64Array(C);
        let n = 0;
        for (let t = 0; t < T; t++) {
          if (assign[t] !== k) continue;
          n++;
          for (let q = 0; q < C; q++) sum[q] += X[t * C + q]!;
        }
        if (n === 0) {
          const t = randInt(rng, T);
          c.set(X.subarray(t * C, (t + 1) * C), k * C);
        } else {
          for (let q = 0; q < C; q++) c[k * C + q] = sum[q]! / n;
        }
      }
      let shift = 0;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let q = 0; q < C; q++) s += (c[k * C + q]! - prev[k * C + q]!) ** 2;
        shift += Math.sqrt(s);
      }
      passes++;
      if (shift * shift < o.tol) {
        met = true;
        break;
      }
      if (passes >= o.maxIter) break;
    }
    assignOut.set(assign, b * T);
    centresOut.set(c, b * K * C);
    iterations.push(passes);
    converged.push(met);
  }
  return {
    assignments: tf.tensor2d(assignOut, [B, T], 'int32'),
    centroids: tf.tensor3d(centresOut, [B, K, C]),
    iterations,
    converged,
    initIndices: inits,
  };
}
