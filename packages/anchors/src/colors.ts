/**
 * Anchor colors (Xia et al. 2022, §3): sampled from the color modeler's per-token distributions over the
 * 313 ab bins at inference, or the tokens' own ground-truth bins during training; and the one-hot
 * hint tensor the color generator consumes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveColorSamplingOptions, type ColorSamplingOptions } from './options.js';
import { gatherRows, oneHotFloat } from './internal/gather.js';

/** The generator's anchor hints. The caller owns (and disposes) the tensors. */
export interface AnchorHints {
  /** Hint mask `[batch, h, w, 1]`: 1 at the anchors, 0 elsewhere (float32). */
  mask: tf.Tensor4D;
  /** One-hot color bin `[batch, h, w, bins]` at the anchors, zeros elsewhere (float32). */
  colors: tf.Tensor4D;
}

function checkBins(fn: string, binCentres: tf.Tensor): void {
  tf.util.assert(binCentres instanceof tf.Tensor && binCentres.rank === 2 && binCentres.shape[1] === 2 && binCentres.shape[0]! >= 1, () => `${fn}: binCentres must be [bins, 2], got shape [${binCentres?.shape}]`);
  tf.util.assert(binCentres.dtype === 'float32', () => `${fn}: binCentres must be float32, got ${binCentres.dtype}`);
}

/**
 * Checks anchor indices: int32 `[batch, K]`, each in `[0, tokens)`. A token may appear twice: the
 * published locator gives an empty cluster the globally largest token, which may already be an
 * anchor; its hint then counts twice, as there (mask 2).
 */
function checkIndices(fn: string, indices: tf.Tensor, batch: number, tokens: number): void {
  tf.util.assert(indices instanceof tf.Tensor && indices.rank === 2 && indices.dtype === 'int32', () => `${fn}: indices must be int32 [batch, K], got ${indices?.dtype} [${indices?.shape}]`);
  tf.util.assert(indices.shape[0] === batch, () => `${fn}: indices batch ${indices.shape[0]} != ${batch}`);
  const v = indices.dataSync();
  const K = indices.shape[1]!;
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < K; k++) {
      const t = v[b * K + k]!;
      tf.util.assert(Number.isInteger(t) && t >= 0 && t < tokens, () => `${fn}: indices must be token indices in [0, ${tokens}), got ${t} in image ${b}`);
    }
  }
}

/**
 * The nearest bin of every ab value (squared Euclidean distance, ties to the lower bin index).
 *
 * @param ab Colors `[..., 2]`, in the units of `binCentres` (Lab units for the 313 bins).
 * @param binCentres Bin centres `[bins, 2]`, e.g. `GAMUT313_POINTS` of `@disco/color`.
 * @returns Bin indices, int32, shape of `ab` without its last axis.
 */
export function nearestBins(ab: tf.Tensor, binCentres: tf.Tensor2D): tf.Tensor {
  tf.util.assert(ab instanceof tf.Tensor && ab.rank >= 1 && ab.shape[ab.rank - 1] === 2, () => `nearestBins: ab must be [..., 2], got shape [${ab?.shape}]`);
  checkBins('nearestBins', binCentres);
  return tf.tidy(() => {
    const lead = ab.shape.slice(0, -1);
    const flat = tf.reshape(ab, [-1, 1, 2]); // [P,1,2]
    const d = tf.sum(tf.squaredDifference(flat, tf.expandDims(binCentres, 0)), 2); // [P,bins]
    return tf.reshape(tf.argMin(d, 1), lead);
  });
}

/**
 * Samples one color bin per anchor from its distribution over the bins (Xia et al. 2022, §3), for three
 * diverse colorizations. With `c₀ … c₉` the `topK` most probable bins of the anchor's logits
 * (descending probability) and `d(·,·)` the Euclidean distance of bin centres in ab:
 *
 * - variant 0: `c₀`, the most probable bin;
 * - variant 1: `c₁* = argmax_i d(cᵢ, c₀)`, the top-K bin farthest from the first;
 * - variant 2: `argmax_i min(d(cᵢ, c₀), d(cᵢ, c₁*))`, the top-K bin farthest from both
 *   (largest distance to the nearer of the two), or with `diverse: 'sum'` (the published code)
 *   `argmax_i d(cᵢ, c₀) + d(cᵢ, c₁*)`.
 *
 * An anchor may repeat (the published locator can pick one token for two clusters); it then gets
 * the same bin twice.
 *
 * Ties in an argmax go to the more probable candidate. Softmax is monotonic, so logits are ranked
 * directly. Deterministic; no gradient flows.
 *
 * @param logits Per-token logits `[batch, h, w, bins]` or `[batch, tokens, bins]`.
 * @param binCentres Bin centres `[bins, 2]`.
 * @param indices Anchor token indices, int32 `[batch, K]`.
 * @param options See {@link ColorSamplingOptions}; defaults {@link COLOR_SAMPLING_DEFAULTS}.
 * @returns Bin index of every anchor, int32 `[batch, K]`.
 *
 * @example
 * ```ts
 * const classes = sampleAnchorColors(logits, bins, anchors.indices, { variant: 1 });
 * ```
 */
export function sampleAnchorColors(logits: tf.Tensor, binCentres: tf.Tensor2D, indices: tf.Tensor2D, options: Partial<ColorSamplingOptions> = {}): tf.Tensor2D {
  const o = resolveColorSamplingOptions(options);
  tf.util.assert(logits instanceof tf.Tensor && (logits.rank === 3 || logits.rank === 4), () => `sampleAnchorColors: logits must be [batch, h, w, bins] or [batch, tokens, bins], got shape [${logits?.shape}]`);
  tf.util.assert(logits.dtype === 'float32', () => `sampleAnchorColors: logits must be float32, got ${logits.dtype}`);
  checkBins('sampleAnchorColors', binCentres);
  const B = logits.shape[0];
  const N = logits.shape[logits.rank - 1]!;
  const T = logits.size / (B * N);
  tf.util.assert(N === binCentres.shape[0], () => `sampleAnchorColors: logits have ${N} bins but binCentres has ${binCentres.shape[0]}`);
  tf.util.assert(o.topK <= N, () => `sampleAnchorColors: topK (${o.topK}) must be <= the number of bins (${N})`);
  checkIndices('sampleAnchorColors', indices, B, T);
  return tf.tidy(() => {
    const K = indices.shape[1];
    const at = gatherRows(tf.reshape(logits, [B, T, N]) as tf.Tensor3D, indices); // [B,K,N]
    const top = tf.topk(at, o.topK, true).indices; // [B,K,topK], most probable first
    if (o.variant === 0) return tf.reshape(tf.slice(top, [0, 0, 0], [B, K, 1]), [B, K]) as tf.Tensor2D;
    const ab = tf.reshape(tf.gather(binCentres, tf.reshape(top, [-1])), [B, K, o.topK, 2]); // [B,K,topK,2]
    const dist = (ref: tf.Tensor) => tf.sqrt(tf.sum(tf.squaredDifference(ab, ref), 3)); // [B,K,topK]
    const pick = (score: tf.Tensor) => oneHotFloat(tf.argMax(score, 2), o.topK); // [B,K,topK]
    const d0 = dist(tf.slice(ab, [0, 0, 0, 0], [B, K, 1, 2]));
    const sel1 = pick(d0);
    let sel = sel1;
    if (o.variant === 2) {
      const ab1 = tf.sum(tf.mul(tf.expandDims(sel1, 3), ab), 2, true); // [B,K,1,2]
      sel = pick(o.diverse === 'sum' ? tf.add(d0, dist(ab1)) : tf.minimum(d0, dist(ab1)));
    }
    return tf.cast(tf.round(tf.sum(tf.mul(sel, tf.cast(top, 'float32')), 2)), 'int32') as tf.Tensor2D; // [B,K]
  });
}

/**
 * Ground-truth anchor colors (training): every anchor takes its own token's color bin.
 *
 * @param targetClasses The tokens' bins (nearest bin of `Cs`, see {@link nearestBins}), int32
 *   `[batch, h, w]` or `[batch, tokens]`.
 * @param indices Anchor token indices, int32 `[batch, K]`.
 * @returns Bin index of every anchor, int32 `[batch, K]`.
 */
export function groundTruthAnchorColors(targetClasses: tf.Tensor, indices: tf.Tensor2D): tf.Tensor2D {
  tf.util.assert(targetClasses instanceof tf.Tensor && (targetClasses.rank === 2 || targetClasses.rank === 3), () => `groundTruthAnchorColors: targetClasses must be [batch, h, w] or [batch, tokens], got shape [${targetClasses?.shape}]`);
  tf.util.assert(targetClasses.dtype === 'int32', () => `groundTruthAnchorColors: targetClasses must be int32, got ${targetClasses.dtype}`);
  const B = targetClasses.shape[0];
  const T = targetClasses.size / B;
  checkIndices('groundTruthAnchorColors', indices, B, T);
  return tf.tidy(() => {
    const rows = gatherRows(tf.reshape(targetClasses, [B, T, 1]) as tf.Tensor3D, indices); // [B,K,1]
    return tf.reshape(rows, [B, indices.shape[1]]) as tf.Tensor2D;
  });
}

/**
 * The generator's hints: mask `[batch, h, w, 1]` with ones at the anchors and the anchors' one-hot
 * bins `[batch, h, w, bins]` (zeros elsewhere), built as `onehot(indices)ᵀ · onehot(classes)`.
 *
 * @param indices Anchor token indices `row·w + col`, int32 `[batch, K]` (a repeated token counts twice in the mask).
 * @param classes Anchor bins, int32 `[batch, K]`, values in `[0, bins)`.
 * @param h Token rows.
 * @param w Token columns.
 * @param bins Number of color bins. Default 313.
 */
export function anchorHints(indices: tf.Tensor2D, classes: tf.Tensor2D, h: number, w: number, bins = 313): AnchorHints {
  tf.util.assert(Number.isInteger(h) && h >= 1 && Number.isInteger(w) && w >= 1, () => `anchorHints: h and w must be integers >= 1, got ${h}, ${w}`);
  tf.util.assert(Number.isInteger(bins) && bins >= 1, () => `anchorHints: bins must be an integer >= 1, got ${bins}`);
  checkIndices('anchorHints', indices, indices?.shape?.[0] ?? 0, h * w);
  tf.util.assert(classes instanceof tf.Tensor && classes.dtype === 'int32' && tf.util.arraysEqual(classes.shape, indices.shape), () => `anchorHints: classes must be int32 [${indices.shape}], got ${classes?.dtype} [${classes?.shape}]`);
  const cv = classes.dataSync();
  for (let i = 0; i < cv.length; i++) tf.util.assert(cv[i]! >= 0 && cv[i]! < bins, () => `anchorHints: classes must lie in [0, ${bins}), got ${cv[i]}`);
  return tf.tidy(() => {
    const B = indices.shape[0];
    const pos = oneHotFloat(indices, h * w); // [B,K,T]
    const colors = tf.matMul(pos, oneHotFloat(classes, bins) as tf.Tensor3D, true, false); // [B,T,bins]
    return {
      mask: tf.reshape(tf.sum(pos, 1), [B, h, w, 1]) as tf.Tensor4D,
      colors: tf.reshape(colors, [B, h, w, bins]) as tf.Tensor4D,
    };
  });
}
