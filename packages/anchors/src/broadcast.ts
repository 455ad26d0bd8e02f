/**
 * Hint broadcast: every token receives the color of the anchor nearest to it in the
 * locator's feature space. An extension beyond Xia et al. 2022: their color generator must learn
 * this propagation from the sparse hints alone; handing it the nearest anchor's color as an input
 * (it still decides per token what to do with it) makes the anchors carry their colors after a
 * few hundred CPU training steps instead of a 60-epoch ImageNet schedule.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * For every token, the hint color of the nearest anchor: `out[b,t] = colors[b, s*]` with
 * `s* = argmin_s { ‖f_t − f_s‖² : mask[b,s] = 1 }` (ties go to the lower index). An anchor token
 * receives its own color. Gradient-free.
 *
 * @param features Locator features `[batch, h, w, channels]` (the same the anchors were located on).
 * @param mask Hint mask `[batch, h, w, 1]` with at least one 1 per image.
 * @param colors Hint colors `[batch, h, w, bins]` (one-hot or soft), zero off the anchors.
 * @returns `[batch, h, w, bins]`.
 *
 * @example
 * ```ts
 * const broadcast = broadcastHints(spColors, hints.mask, hints.colors); // [B,h,w,313]
 * ```
 */
export function broadcastHints(features: tf.Tensor4D, mask: tf.Tensor4D, colors: tf.Tensor4D): tf.Tensor4D {
  const fn = 'broadcastHints';
  tf.util.assert(features instanceof tf.Tensor && features.rank === 4, () => `${fn}: features must be [batch, h, w, channels], got shape [${features?.shape}]`);
  const [B, h, w, C] = features.shape;
  tf.util.assert(mask instanceof tf.Tensor && tf.util.arraysEqual(mask.shape, [B, h, w, 1]), () => `${fn}: mask must be [${B}, ${h}, ${w}, 1], got shape [${mask?.shape}]`);
  tf.util.assert(colors instanceof tf.Tensor && colors.rank === 4 && tf.util.arraysEqual(colors.shape.slice(0, 3), [B, h, w]), () => `${fn}: colors must be [${B}, ${h}, ${w}, bins], got shape [${colors?.shape}]`);
  const N = colors.shape[3];
  const T = h * w;
  return tf.tidy(() => {
    const f = tf.reshape(features, [B, T, C]);
    const m = tf.reshape(mask, [B, 1, T]);
    const anchorsPerImage = tf.sum(m, 2).dataSync();
    for (let b = 0; b < B; b++) tf.util.assert(anchorsPerImage[b]! > 0, () => `${fn}: image ${b} has no anchor (mask all zero)`);
    const sq = tf.sum(tf.square(f), 2, true); // [B,T,1]
    const d = tf.add(tf.sub(sq, tf.mul(tf.matMul(f, f, false, true), 2)), tf.transpose(sq, [0, 2, 1])); // [B,T,T]
    // Non-anchors are pushed beyond every anchor; the argmin then picks the nearest anchor.
    const big = tf.add(tf.max(d), 1);
    const masked = tf.add(tf.mul(d, m), tf.mul(tf.sub(1, m), big));
    const nearest = tf.argMin(masked, 2); // [B,T]
    const pick = tf.oneHot(tf.reshape(nearest, [-1]), T); // [B·T, T]
    const out = tf.matMul(tf.reshape(pick, [B, T, T]), tf.reshape(colors, [B, T, N])); // [B,T,N]
    return tf.reshape(out, [B, h, w, N]) as tf.Tensor4D;
  });
}
