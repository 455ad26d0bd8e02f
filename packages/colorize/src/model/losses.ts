/**
 * Stage-2 losses (Xia et al. 2022, §3–4): class-rebalanced cross-entropy on both branches, a perceptual
 * loss through a frozen feature network whose gradients reach the prediction, and an optional
 * Laplacian-gradient L1.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FrozenNetwork } from './frozen.js';

/**
 * Mean over tokens of `w[t] · (−log softmax(logits)[t])`.
 *
 * @param logits `[..., C]` unnormalised log-probabilities.
 * @param targets `[...]` int32 class ids in 0..C−1.
 * @param classWeights `[C]` per-class weights (rebalancing), or null for plain cross-entropy.
 */
export function rebalancedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, classWeights: tf.Tensor1D | null): tf.Scalar {
  const fn = 'rebalancedCrossEntropy';
  const C = logits.shape[logits.rank - 1]!;
  tf.util.assert(targets.dtype === 'int32', () => `${fn}: targets must be int32, got ${targets.dtype}`);
  tf.util.assert(tf.util.arraysEqual(logits.shape.slice(0, -1), targets.shape), () => `${fn}: targets shape [${targets.shape}] must equal logits shape without the class axis [${logits.shape.slice(0, -1)}]`);
  if (classWeights) tf.util.assert(classWeights.size === C, () => `${fn}: classWeights must be [${C}], got [${classWeights.shape}]`);
  return tf.tidy(() => {
    const flatT = tf.reshape(targets, [-1]);
    const logp = tf.logSoftmax(tf.reshape(logits, [-1, C])); // [N,C]
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(flatT, C)), 1)); // [N]
    const w = classWeights ? tf.gather(classWeights, flatT) : tf.onesLike(nll);
    return tf.mean(tf.mul(w, nll)) as tf.Scalar;
  });
}

/**
 * Class-rebalanced cross-entropy with soft targets (Zhang et al. 2016, eq. 2): mean over tokens of
 * `v[t] · (−Σ_q Z[t,q] · log softmax(logits)[t,q])`, where Z is a target distribution (their soft
 * encoding) and v the weight of the token's nearest bin.
 *
 * @param logits `[..., C]` unnormalised log-probabilities.
 * @param targets `[..., C]` target distributions (each sums to 1).
 * @param tokenWeights `[...]` per-token weights, or null for plain cross-entropy.
 */
export function softRebalancedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, tokenWeights: tf.Tensor | null): tf.Scalar {
  const fn = 'softRebalancedCrossEntropy';
  const C = logits.shape[logits.rank - 1]!;
  tf.util.assert(tf.util.arraysEqual(logits.shape, targets.shape), () => `${fn}: targets [${targets.shape}] must have the shape of logits [${logits.shape}]`);
  if (tokenWeights) tf.util.assert(tf.util.arraysEqual(tokenWeights.shape, logits.shape.slice(0, -1)), () => `${fn}: tokenWeights [${tokenWeights.shape}] must equal logits shape without the class axis [${logits.shape.slice(0, -1)}]`);
  return tf.tidy(() => {
    const logp = tf.logSoftmax(tf.reshape(logits, [-1, C])); // [N,C]
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.reshape(targets, [-1, C])), 1)); // [N]
    return tf.mean(tokenWeights ? tf.mul(tf.reshape(tokenWeights, [-1]), nll) : nll) as tf.Scalar;
  });
}

/**
 * Perceptual loss `Σ_i w_i · mean|f_i(pred) − f_i(target)|`. Gradients flow into `predRgb` (the
 * published code detached the prediction here, so its refinement net got none); the target's
 * features carry no gradient.
 *
 * @param net the frozen network, its outputs weighted by `net.layerWeights` (see `loadPerceptualNetwork`).
 * @param predRgb `[B,H,W,3]` predicted RGB in [0, 1].
 * @param targetRgb `[B,H,W,3]` ground-truth RGB in [0, 1].
 */
export function perceptualLoss(net: FrozenNetwork, predRgb: tf.Tensor4D, targetRgb: tf.Tensor4D): tf.Scalar {
  tf.util.assert(tf.util.arraysEqual(predRgb.shape, targetRgb.shape), () => `perceptualLoss: predRgb [${predRgb.shape}] and targetRgb [${targetRgb.shape}] differ`);
  return tf.tidy(() => {
    const fp = net.extract(predRgb);
    const ft = net.extract(targetRgb);
    tf.util.assert(fp.length === net.layerWeights.length, () => `perceptualLoss: ${net.name} returned ${fp.length} maps for ${net.layerWeights.length} weights`);
    let total: tf.Scalar = tf.scalar(0);
    fp.forEach((f, i) => {
      total = tf.add(total, tf.mul(tf.mean(tf.abs(tf.sub(f, ft[i]!))), net.layerWeights[i]!));
    });
    return total;
  });
}

/** 4-neighbour Laplacian of `[B,H,W,C]` with zero padding (slices only: fast gradients on wasm). */
export function laplacian(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const p = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    const at = (dy: number, dx: number) => tf.slice(p, [0, 1 + dy, 1 + dx, 0], [B, H, W, C]);
    return tf.sub(tf.mul(x, 4), tf.addN([at(-1, 0), at(1, 0), at(0, -1), at(0, 1)])) as tf.Tensor4D;
  });
}

/** `mean|Δpred − Δtarget|` with the {@link laplacian} Δ. Shapes `[B,H,W,C]`. */
export function laplacianL1(pred: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(laplacian(pred), laplacian(target)))) as tf.Scalar);
}
