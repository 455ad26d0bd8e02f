/**
 * Attention as a loop over (batch, head) pairs of untransposed batch-1 matrix products, with a
 * hand-written backward pass.
 *
 * Why: tfjs-backend-wasm runs `BatchMatMul` on XNNPACK only for untransposed products with
 * batch 1; every batched or transposed product (all of attention's, forward and backward) falls
 * back to a scalar reference loop (≈0.3–1 GFLOP/s measured). Per-pair 2-D products reach
 * XNNPACK. Only small tensors (`q`, `k`, `v`, gradients: `[pairs, tokens, depth]`) are split or
 * stacked; the `[tokens, keys]` weight matrices stay per pair (splitting a large tensor on wasm
 * copies the whole input once per slice).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dropoutMultiplier } from './dropout.js';

/**
 * Splits `[n, a, b]` into n `[a, b]` tensors through one host read. (`tf.unstack` on wasm copies
 * the whole input once per slice.) Used only inside the custom gradient, where no tape is needed.
 */
function splitFirst(x: tf.Tensor): tf.Tensor2D[] {
  const [n, a, b] = x.shape as [number, number, number];
  const data = x.dataSync() as Float32Array;
  const out: tf.Tensor2D[] = [];
  for (let i = 0; i < n; i++) out.push(tf.tensor2d(data.subarray(i * a * b, (i + 1) * a * b), [a, b]));
  return out;
}


/** Per-pair slices of a mask term of shape `[B|1, H|1, T|1, S]`, cached by (b, h) actually used. */
function pairSlicer(term: tf.Tensor | null, h: number): (i: number) => tf.Tensor | null {
  if (term == null) return () => null;
  const [tb, th, tt, ts] = term.shape as [number, number, number, number];
  const cache = new Map<number, tf.Tensor>();
  return (i: number) => {
    const bi = tb === 1 ? 0 : Math.floor(i / h);
    const hi = th === 1 ? 0 : i % h;
    const key = bi * h + hi;
    let t = cache.get(key);
    if (t == null) {
      t = tf.reshape(tf.slice(term, [bi, hi, 0, 0], [1, 1, tt, ts]), [tt, ts]); // [T|1, S]
      cache.set(key, t);
    }
    return t;
  };
}

/** Inputs of {@link attentionLoop} that carry no gradient. */
export interface LoopConstants {
  /** Additive score term `[B|1, H|1, T|1, S]` (masks), or null. */
  bias: tf.Tensor | null;
  /** Multiplicative keep mask `[B|1, H|1, T|1, S]` (0/1), or null. */
  keep: tf.Tensor | null;
  /** Score scale. */
  scale: number;
  /** Dropout rate on the weights (0: none). */
  dropout: number;
  /** Dropout seed (pair i uses seed + i), or undefined for random masks. */
  seed: number | undefined;
}

/**
 * @param q `[B, H, T, dk]`
 * @param k `[B, H, S, dk]`
 * @param v `[B, H, S, dv]`
 * @returns `[B, H, T, dv]`
 */
export function attentionLoop(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, c: LoopConstants): tf.Tensor4D {
  const [B, H, T, dk] = q.shape;
  const S = k.shape[2];
  const dv = v.shape[3];
  const n = B * H;
  const f = tf.customGrad((qIn, kIn, vIn, save) => {
    const q3 = tf.reshape(qIn as tf.Tensor, [n, T, dk]);
    const k3 = tf.reshape(kIn as tf.Tensor, [n, S, dk]);
    const v3 = tf.reshape(vIn as tf.Tensor, [n, S, dv]);
    const qs = splitFirst(q3); // n × [T, dk]
    const kts = splitFirst(tf.transpose(k3, [0, 2, 1])); // n × [dk, S]
    const vs = splitFirst(v3); // n × [S, dv]
    const biasOf = pairSlicer(c.bias, H);
    const keepOf = pairSlicer(c.keep, H);
    const saved: tf.Tensor[] = [q3, k3, v3];
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < n; i++) {
      let s: tf.Tensor = tf.mul(tf.matMul(qs[i]!, kts[i]!), c.scale); // [T, S]
      const bias = biasOf(i);
      if (bias != null) s = tf.add(s, bias);
      let p: tf.Tensor = tf.softmax(s);
      const keep = keepOf(i);
      if (keep != null) p = tf.mul(p, keep);
      let pd = p;
      if (c.dropout > 0) {
        const m = dropoutMultiplier([T, S], c.dropout, c.seed === undefined ? undefined : c.seed + i);
        pd = tf.mul(p, m);
        saved.push(p, m);
      } else {
        saved.push(p);
      }
      outs.push(tf.matMul(pd, vs[i]!)); // [T, dv]
    }
    (save as tf.GradSaveFunc)(saved);
    return {
      value: tf.reshape(tf.stack(outs), [B, H, T, dv]) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, sv: tf.Tensor[]) => {
        const [qq, kk, vv] = sv as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const per = c.dropout > 0 ? 2 : 1;
        const dys = splitFirst(tf.reshape(dy, [n, T, dv])); // n × [T, dv]
        const ks2 = splitFirst(kk); // n × [S, dk]
        const qs2 = splitFirst(qq); // n × [T, dk]
        const vts = splitFirst(tf.transpose(vv, [0, 2, 1])); // n × [dv, S]
        const dq: tf.Tensor[] = [], dkk: tf.Tensor[] = [], dvv: tf.Tensor[] = [];
        for (let i = 0; i < n; i++) {
          const p = sv[3 + per * i]!;
          const m = per === 2 ? sv[3 + per * i + 1]! : null;
          const pd = m ? tf.mul(p, m) : p;
          // XNNPACK packs the second operand on every call: keep it the small one.
          dvv.push(tf.matMul(tf.transpose(pd), dys[i]!)); // [S, dv]
          let dp = tf.matMul(dys[i]!, vts[i]!); // [T, S]
          if (m) dp = tf.mul(dp, m);
          // softmax backward on the kept weights: ds = p ⊙ (dp − Σ_s dp ⊙ p)
          const ds = tf.mul(tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))), c.scale); // [T, S]
          dq.push(tf.matMul(ds, ks2[i]!)); // [T, dk]
          dkk.push(tf.matMul(tf.transpose(ds), qs2[i]!)); // [S, dk]
        }
        return [tf.reshape(tf.stack(dq), [B, H, T, dk]), tf.reshape(tf.stack(dkk), [B, H, S, dk]), tf.reshape(tf.stack(dvv), [B, H, S, dv])];
      },
    };
  });
  return f(q, k, v) as tf.Tensor4D;
}
