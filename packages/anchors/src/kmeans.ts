/**
 * Batched k-means over the token vectors of each image (Xia et al. 2022, §3): k-means++ or seeded random
 * initialisation, Lloyd iterations on whole batches with tfjs ops, empty clusters re-seeded.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveKMeansOptions, type KMeansInit, type KMeansMetric, type KMeansOptions } from './options.js';
import { asConstant } from './internal/constant.js';
import { gatherRows, oneHotFloat } from './internal/gather.js';
import { drawWeighted, imageRng, randInt, sampleWithoutReplacement } from './internal/prng.js';

/** What {@link kmeans} returns. The caller owns (and disposes) both tensors. */
export interface KMeansResult {
  /** Cluster of every token, int32 `[batch, tokens]`, values in `[0, K)`. */
  assignments: tf.Tensor2D;
  /** Cluster centres, float32 `[batch, K, channels]` (unit length for the cosine metric). No gradient flows through them. */
  centroids: tf.Tensor3D;
  /** Lloyd iterations run per image (at most `maxIter`). */
  iterations: number[];
  /** Per image: whether it stopped because no centroid moved by more than `tol`. */
  converged: boolean[];
}

/** Options of {@link initCentroids}: the subset of {@link KMeansOptions} the initialisation uses. */
export type InitOptions = Pick<KMeansOptions, 'k' | 'init' | 'metric' | 'seed'>;

/**
 * Two points whose squared distance is below `COINCIDE_RTOL · max‖x‖²` count as the same point
 * when re-seeding empty clusters (float32 means of identical points may differ in the last bit).
 */
const COINCIDE_RTOL = 1e-10;

function checkFeatures(fn: string, x: tf.Tensor): void {
  tf.util.assert(x instanceof tf.Tensor, () => `${fn}: x must be a tf.Tensor`);
  tf.util.assert(x.rank === 3, () => `${fn}: x must be [batch, tokens, channels], got shape [${x.shape}]`);
  tf.util.assert(x.dtype === 'float32', () => `${fn}: x must be float32, got ${x.dtype}`);
  tf.util.assert(x.shape[0]! >= 1 && x.shape[1]! >= 1 && x.shape[2]! >= 1, () => `${fn}: x must be non-empty, got shape [${x.shape}]`);
  const total = tf.tidy(() => tf.sum(tf.abs(x)).dataSync()[0]!);
  tf.util.assert(Number.isFinite(total), () => `${fn}: x contains NaN or Infinity`);
}

/** `x` scaled to unit length along the last axis (zero vectors stay zero). */
function normalizeRows<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), -1, true)), 1e-12)) as T);
}

/** The vectors k-means works on: `x` itself (Euclidean) or a normalised copy (cosine). */
function workingFeatures(x: tf.Tensor3D, metric: KMeansMetric): tf.Tensor3D {
  return metric === 'cosine' ? normalizeRows(x) : tf.clone(x);
}

/** Squared distances `‖x‖² − 2 x·cᵀ + ‖c‖²`, `[B,T,K]`, from `x` `[B,T,C]`, `‖x‖²` `[B,T,1]`, `c` `[B,K,C]`. */
function squaredDistances(x: tf.Tensor3D, xsq: tf.Tensor3D, c: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const csq = tf.transpose(tf.sum(tf.square(c), 2, true), [0, 2, 1]); // [B,1,K]
    return tf.add(tf.sub(xsq, tf.mul(2, tf.matMul(x, c, false, true))), csq) as tf.Tensor3D; // [B,T,K]
  });
}

function sqDist(v: ArrayLike<number>, i: number, w: ArrayLike<number>, j: number, c: number): number {
  let s = 0;
  for (let q = 0; q < c; q++) {
    const d = v[i * c + q]! - w[j * c + q]!;
    s += d * d;
  }
  return s;
}

/** Initial centre indices `[B*K]` (K distinct tokens per image), drawn in float64 from the read-back features. */
function initIndices(values: Float32Array, [B, T, C]: number[], k: number, init: KMeansInit, seed: number): Int32Array {
  const out = new Int32Array(B! * k);
  const trials = 2 + Math.floor(Math.log(k));
  for (let b = 0; b < B!; b++) {
    const rng = imageRng(seed, b);
    let picked: number[];
    if (init === 'random') {
      picked = sampleWithoutReplacement(rng, T!, k);
    } else {
      const base = b * T!;
      picked = [randInt(rng, T!)];
      const d2 = new Float64Array(T!);
      for (let t = 0; t < T!; t++) d2[t] = sqDist(values, base + t, values, base + picked[0]!, C!);
      while (picked.length < k) {
        let total = 0;
        for (let t = 0; t < T!; t++) total += d2[t]!;
        let next: number;
        if (total > 0) {
          // Greedy k-means++: of `trials` D²-weighted candidates keep the one that lowers the
          // potential Σ min D² most (first drawn on ties).
          let bestPotential = Infinity;
          next = -1;
          for (let trial = 0; trial < trials; trial++) {
            const cand = drawWeighted(rng, d2, total);
            let potential = 0;
            for (let t = 0; t < T!; t++) potential += Math.min(d2[t]!, sqDist(values, base + t, values, base + cand, C!));
            if (potential < bestPotential) [bestPotential, next] = [potential, cand];
          }
        } else {
          // Every token coincides with a chosen centre: take a not-yet-chosen token uniformly.
          const rest = [];
          for (let t = 0; t < T!; t++) if (!picked.includes(t)) rest.push(t);
          next = rest[randInt(rng, rest.length)]!;
        }
        picked.push(next);
        for (let t = 0; t < T!; t++) d2[t] = Math.min(d2[t]!, sqDist(values, base + t, values, base + next, C!));
      }
    }
    out.set(picked, b * k);
  }
  return out;
}

/**
 * Seeded initial centroids for {@link kmeans}: K distinct tokens of each image, picked by greedy
 * k-means++ (first uniformly; then each centre is the best, by the resulting sum of squared
 * distances to the nearest centre, of `2 + ⌊ln K⌋` candidates drawn with probability proportional
 * to the squared distance to the nearest centre already chosen, as in scikit-learn; when every
 * distance is zero, uniformly among the tokens not chosen yet)
 * or uniformly without replacement (`random`). The features are read back once and the draws are
 * made in JavaScript, so every backend picks the same tokens. Image `b` uses its own random stream
 * derived from `(seed, b)`.
 *
 * @param features Token features `[batch, tokens, channels]`, float32 (rank checked at run time).
 * @param options `k`, `init`, `metric`, `seed` (defaults as in {@link KMEANS_DEFAULTS}).
 * @returns Centroids `[batch, K, channels]` (normalised rows for the cosine metric).
 */
export function initCentroids(features: tf.Tensor, options: Partial<InitOptions> = {}): tf.Tensor3D {
  const o = resolveKMeansOptions(options);
  checkFeatures('initCentroids', features);
  const x = features as tf.Tensor3D; // rank checked above
  tf.util.assert(o.k <= x.shape[1], () => `initCentroids: k (${o.k}) must be <= the number of tokens (${x.shape[1]})`);
  return tf.tidy(() => {
    const xs = workingFeatures(x, o.metric);
    const idx = initIndices(xs.dataSync() as Float32Array, xs.shape, o.k, o.init, o.seed);
    return asConstant(gatherRows(xs, tf.tensor2d(idx, [x.shape[0], o.k], 'int32')));
  });
}

/**
 * Batched k-means (Lloyd) over the token vectors of every image.
 *
 * Each iteration assigns every token to its nearest centroid (squared distances as
 * `‖x‖² − 2 x·cᵀ + ‖c‖²` with one batched matMul, ties to the lower cluster index) and moves every
 * centroid to the mean of its members (`onehot(assignᵀ) · x / counts`). An image stops when no
 * centroid moved by more than `tol` or after `maxIter` iterations; stopped images are frozen while
 * the rest of the batch continues, so a batch gives the same result as its images one by one
 * (given the same initial centroids).
 *
 * **Empty clusters** are re-seeded with the tokens farthest from their own (updated) centroid,
 * farthest first, one token per empty cluster in increasing cluster order. A token that coincides
 * with its centroid is never taken; if no token is left, the empty cluster keeps its previous centre.
 * Hence, **when K exceeds the number of distinct tokens**, the surplus clusters keep duplicate
 * centres, stay empty (assignments never point at them, ties going to the lower index), and no NaN
 * appears.
 *
 * Synchronous: it reads back the cluster counts and one shift per image each iteration. No
 * gradient flows through the outputs.
 *
 * @param features Token features `[batch, tokens, channels]`, float32, finite (any `tf.Tensor`;
 *   the rank is checked at run time).
 * @param options See {@link KMeansOptions}; defaults {@link KMEANS_DEFAULTS}.
 * @param initial Optional initial centroids `[batch, K, channels]` (replacing `init`/`seed`); for
 *   the cosine metric they are normalised first.
 * @returns Assignments `[batch, tokens]` (int32) and centroids `[batch, K, channels]`.
 *
 * @example
 * ```ts
 * const { assignments, centroids } = kmeans(tokens, { k: 8, seed: 1 }); // tokens [B, T, C]
 * ```
 */
export function kmeans(features: tf.Tensor, options: Partial<KMeansOptions> = {}, initial?: tf.Tensor): KMeansResult {
  const o = resolveKMeansOptions(options);
  checkFeatures('kmeans', features);
  const x = features as tf.Tensor3D; // rank checked above
  const [B, T, C] = x.shape;
  const K = o.k;
  tf.util.assert(K <= T, () => `kmeans: k (${K}) must be <= the number of tokens (${T})`);
  if (initial !== undefined) {
    tf.util.assert(
      initial instanceof tf.Tensor && initial.rank === 3 && initial.shape[0] === B && initial.shape[1] === K && initial.shape[2] === C,
      () => `kmeans: initial must be [${B}, ${K}, ${C}] (batch, k, channels), got shape [${initial?.shape}]`,
    );
    tf.util.assert(initial.dtype === 'float32', () => `kmeans: initial must be float32, got ${initial.dtype}`);
  }

  const xs = workingFeatures(x, o.metric);
  const xsq = tf.tidy(() => tf.sum(tf.square(xs), 2, true) as tf.Tensor3D); // [B,T,1]
  let c: tf.Tensor3D =
    initial === undefined
      ? initCentroids(x, o)
      : o.metric === 'cosine'
        ? normalizeRows(initial as tf.Tensor3D)
        : (tf.clone(initial) as tf.Tensor3D);

  let xsData: Float32Array | null = null; // read back lazily, only when a cluster empties
  let scale = 0;
  const iterations = new Array<number>(B).fill(0);
  const converged = new Array<boolean>(B).fill(false);
  for (let it = 0; it < o.maxIter && converged.some((v) => !v); it++) {
    const { counts, assign, mean } = tf.tidy(() => {
      const assign = tf.argMin(squaredDistances(xs, xsq, c), 2); // [B,T]
      const onehot = oneHotFloat(assign, K) as tf.Tensor3D; // [B,T,K]
      const counts = tf.sum(onehot, 1) as tf.Tensor2D; // [B,K]
      const sums = tf.matMul(onehot, xs, true, false); // [B,K,C]
      const present = tf.expandDims(tf.cast(tf.greater(counts, 0), 'float32'), 2); // [B,K,1]
      let mean = tf.add(tf.div(sums, tf.expandDims(tf.maximum(counts, 1), 2)), tf.mul(tf.sub(1, present), c)) as tf.Tensor3D;
      if (o.metric === 'cosine') mean = normalizeRows(mean);
      return { counts: tf.cast(counts, 'int32') as tf.Tensor2D, assign, mean };
    });
    const countData = counts.dataSync();
    counts.dispose();

    // Re-seed empty clusters of the images still running (JavaScript, float64 distances).
    const reseedFrom = new Int32Array(B * K);
    const reseedMask = new Float32Array(B * K);
    const reseeded = new Array<boolean>(B).fill(false);
    for (let b = 0; b < B; b++) {
      if (converged[b]) continue;
      const empties: number[] = [];
      for (let k = 0; k < K; k++) if (countData[b * K + k] === 0) empties.push(k);
      if (empties.length === 0) continue;
      if (xsData === null) {
        xsData = xs.dataSync() as Float32Array;
        for (let i = 0; i < xsData.length; i += C) {
          let s = 0;
          for (let q = 0; q < C; q++) s += xsData[i + q]! * xsData[i + q]!;
          scale = Math.max(scale, s);
        }
      }
      const assignB = assign.dataSync().subarray(b * T, (b + 1) * T);
      const meanData = mean.dataSync();
      const far: { t: number; d: number }[] = [];
      for (let t = 0; t < T; t++) far.push({ t, d: sqDist(xsData, b * T + t, meanData, b * K + assignB[t]!, C) });
      far.sort((p, q) => q.d - p.d || p.t - q.t);
      const threshold = COINCIDE_RTOL * Math.max(scale, 1e-30);
      empties.forEach((k, i) => {
        const cand = far[i];
        if (cand === undefined || !(cand.d > threshold)) return;
        reseedFrom[b * K + k] = cand.t;
        reseedMask[b * K + k] = 1;
        reseeded[b] = true;
      });
    }

    const activeMask = new Float32Array(B);
    for (let b = 0; b < B; b++) activeMask[b] = converged[b] ? 0 : 1;
    const { next, shift } = tf.tidy(() => {
      let next: tf.Tensor3D = mean;
      if (reseeded.some((v) => v)) {
        const points = gatherRows(xs, tf.tensor2d(reseedFrom, [B, K], 'int32')); // [B,K,C]
        const m = tf.tensor3d(reseedMask, [B, K, 1]);
        next = tf.add(tf.mul(m, points), tf.mul(tf.sub(1, m), next));
      }
      const active = tf.tensor3d(activeMask, [B, 1, 1]);
      next = tf.add(tf.mul(active, next), tf.mul(tf.sub(1, active), c)) as tf.Tensor3D;
      const shift = tf.max(tf.sqrt(tf.sum(tf.square(tf.sub(next, c)), 2)), 1); // [B]
      return { next, shift };
    });
    const shiftData = shift.dataSync();
    tf.dispose([shift, mean, assign]);
    c.dispose();
    c = next;
    for (let b = 0; b < B; b++) {
      if (converged[b]) continue;
      iterations[b]!++;
      if (!reseeded[b] && shiftData[b]! <= o.tol) converged[b] = true;
    }
  }

  const assignments = tf.tidy(() => asConstant(tf.argMin(squaredDistances(xs, xsq, c), 2) as tf.Tensor2D));
  const centroids = asConstant(c);
  tf.dispose([xs, xsq, c]);
  return { assignments, centroids, iterations, converged };
}
