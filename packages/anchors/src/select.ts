/**
 * Anchor placement (Xia et al. 2022, §3): one anchor per k-means cluster (its largest superpixel), or K
 * random positions for the ablation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { kmeans } from './kmeans.js';
import { kmeansPublished } from './kmeans_published.js';
import { resolveLocatorOptions, type LocatorOptions } from './options.js';
import { oneHotFloat } from './internal/gather.js';
import { imageRng, sampleWithoutReplacement } from './internal/prng.js';

/** K anchor positions per image. The caller owns (and disposes) the tensors. */
export interface AnchorSet {
  /** Token index `row·w + col` of each anchor, int32 `[batch, K]`, distinct within an image. */
  indices: tf.Tensor2D;
  /** Hint mask `[batch, h, w, 1]`: 1 at the anchors, 0 elsewhere (float32, K ones per image). */
  mask: tf.Tensor4D;
}

/** What {@link locateAnchors} returns: the anchors and, for `cluster` placement, the clustering. */
export interface LocatedAnchors extends AnchorSet {
  /** Cluster of every token, int32 `[batch, h·w]`; null for `random` placement. */
  assignments: tf.Tensor2D | null;
}

/**
 * Hint mask `[B, h, w, 1]` with ones at `indices` (int32 `[B, K]`, distinct per image).
 */
function maskFromIndices(indices: tf.Tensor2D, h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => {
    const B = indices.shape[0];
    return tf.reshape(tf.sum(oneHotFloat(indices, h * w), 1), [B, h, w, 1]) as tf.Tensor4D; // [B,h,w,1]
  });
}

function checkSizes(fn: string, sizes: tf.Tensor, batch: number, tokens: number): void {
  tf.util.assert(sizes instanceof tf.Tensor && sizes.rank === 4 && sizes.shape[3] === 1, () => `${fn}: sizes must be [batch, h, w, 1], got shape [${sizes?.shape}]`);
  tf.util.assert(sizes.dtype === 'float32', () => `${fn}: sizes must be float32, got ${sizes.dtype}`);
  tf.util.assert(sizes.shape[0] === batch && sizes.shape[1]! * sizes.shape[2]! === tokens, () => `${fn}: sizes [${sizes.shape}] must have batch ${batch} and h·w = ${tokens}`);
  const [lo, hi] = tf.tidy(() => [tf.min(sizes).dataSync()[0]!, tf.max(sizes).dataSync()[0]!]);
  tf.util.assert(lo! >= 0 && hi! < 100, () => `${fn}: sizes must lie in [0, 100) so that 0.01·size < 1, got range [${lo}, ${hi}]`);
}

/**
 * One anchor per cluster: the member token with the largest superpixel size, i.e. the argmax over
 * positions of `clusterOneHot + 0.01·size` (Xia et al. 2022, §3; ties go to the lower index). An empty
 * cluster (possible when K exceeds the number of distinct tokens) takes, with `emptyCluster:
 * 'distinct'` (default), the largest token not yet chosen, empty clusters in increasing order, so
 * every image still gets K distinct anchors; with `'largest'` (the published code: the argmax of
 * `0.01·size` alone) the globally largest token, which may repeat an anchor (mask value 2).
 *
 * @param assignments Cluster of every token, int32 `[batch, h·w]`, values in `[0, k)`.
 * @param sizes Superpixel sizes `[batch, h, w, 1]` (pixel counts / S²), float32 in [0, 100).
 * @param k Number of clusters K (1 ≤ K ≤ h·w).
 * @param options `emptyCluster`: `distinct` (default) or `largest`, as above.
 * @returns Anchor indices `[batch, K]` (anchor k belongs to cluster k) and the hint mask `[batch, h, w, 1]`.
 *
 * @example
 * ```ts
 * const { indices, mask } = selectAnchors(assignments, sizes, 8);
 * ```
 */
export function selectAnchors(assignments: tf.Tensor, sizes: tf.Tensor, k: number, options: { emptyCluster?: 'distinct' | 'largest' } = {}): AnchorSet {
  const emptyCluster = options.emptyCluster ?? 'distinct';
  tf.util.assert(emptyCluster === 'distinct' || emptyCluster === 'largest', () => `selectAnchors: emptyCluster must be 'distinct' or 'largest', got ${String(emptyCluster)}`);
  tf.util.assert(assignments instanceof tf.Tensor && assignments.rank === 2, () => `selectAnchors: assignments must be [batch, tokens], got shape [${assignments?.shape}]`);
  tf.util.assert(assignments.dtype === 'int32', () => `selectAnchors: assignments must be int32, got ${assignments.dtype}`);
  const [B, T] = assignments.shape as [number, number];
  checkSizes('selectAnchors', sizes, B, T);
  tf.util.assert(Number.isInteger(k) && k >= 1 && k <= T, () => `selectAnchors: k must be an integer in [1, ${T}], got ${k}`);
  const [h, w] = [sizes.shape[1]!, sizes.shape[2]!];
  const { best, counts } = tf.tidy(() => {
    const onehot = oneHotFloat(assignments, k); // [B,T,K]
    const score = tf.add(onehot, tf.mul(0.01, tf.reshape(sizes, [B, T, 1]))); // [B,T,K]
    return { best: tf.argMax(score, 1).dataSync(), counts: tf.sum(onehot, 1).dataSync() }; // [B,K]
  });
  const a = assignments.dataSync();
  for (let i = 0; i < a.length; i++) {
    tf.util.assert(a[i]! >= 0 && a[i]! < k, () => `selectAnchors: assignments must lie in [0, ${k}), got ${a[i]}`);
  }
  const out = Int32Array.from(best);
  let sizeData: Float32Array | null = null;
  for (let b = 0; b < B; b++) {
    const empties: number[] = [];
    for (let c = 0; c < k; c++) if (counts[b * k + c] === 0) empties.push(c);
    if (empties.length === 0 || emptyCluster === 'largest') continue;
    sizeData ??= sizes.dataSync() as Float32Array;
    const taken = new Set<number>();
    for (let c = 0; c < k; c++) if (counts[b * k + c]! > 0) taken.add(out[b * k + c]!);
    const order = Array.from({ length: T }, (_, t) => t).sort((p, q) => sizeData![b * T + q]! - sizeData![b * T + p]! || p - q);
    let next = 0;
    for (const c of empties) {
      while (taken.has(order[next]!)) next++;
      out[b * k + c] = order[next]!;
      taken.add(order[next]!);
    }
  }
  const indices = tf.tensor2d(out, [B, k], 'int32');
  return { indices, mask: maskFromIndices(indices, h, w) };
}

/**
 * Random anchor placement (the paper's ablation): K distinct positions per image, uniformly without
 * replacement, from a seeded stream per image (so every backend gives the same positions).
 *
 * @param batch Number of images B.
 * @param h Token rows.
 * @param w Token columns.
 * @param k Number of anchors K (1 ≤ K ≤ h·w).
 * @param seed 32-bit unsigned seed.
 * @returns Anchor indices `[batch, K]` in draw order and the hint mask `[batch, h, w, 1]`.
 */
export function randomAnchors(batch: number, h: number, w: number, k: number, seed = 0): AnchorSet {
  for (const [name, v] of [['batch', batch], ['h', h], ['w', w]] as const) {
    tf.util.assert(Number.isInteger(v) && v >= 1, () => `randomAnchors: ${name} must be an integer >= 1, got ${v}`);
  }
  tf.util.assert(Number.isInteger(k) && k >= 1 && k <= h * w, () => `randomAnchors: k must be an integer in [1, ${h * w}], got ${k}`);
  tf.util.assert(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, () => `randomAnchors: seed must be an integer in [0, 4294967295], got ${seed}`);
  const out = new Int32Array(batch * k);
  for (let b = 0; b < batch; b++) out.set(sampleWithoutReplacement(imageRng(seed, b), h * w, k), b * k);
  const indices = tf.tensor2d(out, [batch, k], 'int32');
  return { indices, mask: maskFromIndices(indices, h, w) };
}

/**
 * The anchor locator (parameter-free): clusters the token features of each image with
 * {@link kmeans} (or, with `rules: 'published'`, {@link kmeansPublished}) and picks the largest
 * superpixel of each cluster ({@link selectAnchors}), or places
 * the anchors at random ({@link randomAnchors}) when `placement` is `random`. During training the
 * features are the superpixel colors `Cs`; at inference, the color modeler's features.
 * No gradient flows through the outputs.
 *
 * @param features Token features `[batch, h, w, channels]`, float32 (any `tf.Tensor`; ranks are
 *   checked at run time).
 * @param sizes Superpixel sizes `[batch, h, w, 1]`, float32 in [0, 100).
 * @param options See {@link LocatorOptions}; defaults {@link LOCATOR_DEFAULTS}.
 * @returns Anchor indices `[batch, K]`, hint mask `[batch, h, w, 1]`, and the cluster assignments
 *   `[batch, h·w]` (null for random placement).
 *
 * @example
 * ```ts
 * const anchors = locateAnchors(colors, sizes, { k: 8, seed: 7 }); // colors [B, h, w, 2]
 * ```
 */
export function locateAnchors(features: tf.Tensor, sizes: tf.Tensor, options: Partial<LocatorOptions> = {}): LocatedAnchors {
  const o = resolveLocatorOptions(options);
  tf.util.assert(features instanceof tf.Tensor && features.rank === 4, () => `locateAnchors: features must be [batch, h, w, channels], got shape [${features?.shape}]`);
  const [B, h, w, C] = features.shape as [number, number, number, number];
  tf.util.assert(o.k <= h * w, () => `locateAnchors: k (${o.k}) must be <= h·w (${h * w})`);
  checkSizes('locateAnchors', sizes, B, h * w);
  tf.util.assert(sizes.shape[1] === h && sizes.shape[2] === w, () => `locateAnchors: sizes [${sizes.shape}] must match features [${features.shape}] in h and w`);
  if (o.placement === 'random') return { ...randomAnchors(B, h, w, o.k, o.seed), assignments: null };
  const { placement: _placement, rules, initIndices, ...kmeansOptions } = o;
  const tokens = tf.reshape(features, [B, h * w, C]) as tf.Tensor3D; // [B,T,C]
  const { assignments, centroids } =
    rules === 'published'
      ? kmeansPublished(tokens, { k: o.k, maxIter: o.maxIter, tol: o.tol, seed: o.seed }, initIndices ?? undefined)
      : kmeans(tokens, kmeansOptions);
  tf.dispose([tokens, centroids]);
  return { ...selectAnchors(assignments, sizes, o.k, { emptyCluster: rules === 'published' ? 'largest' : 'distinct' }), assignments };
}
