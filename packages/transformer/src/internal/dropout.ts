/**
 * Inverted dropout with masks drawn by a seeded mulberry32 generator in JavaScript: several times
 * cheaper than `tf.dropout` (whose `randomUniform` runs the `seedrandom` alea generator plus three
 * kernels per mask) and reproducible for a given seed.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Multiplier `[shape]`: 0 with probability `rate`, else `1 / (1 − rate)`. Random when `seed` is
 * undefined. Element i is dropped when its 32-bit mulberry32 draw `u` (the stream of
 * `mulberry32Uint32(seed)` of `@disco/random`) satisfies `u / 2^32 < rate`. The generator is
 * inlined here on purpose: a function call per draw made mask generation 2–3× slower.
 */
export function dropoutMultiplier(shape: number[], rate: number, seed: number | undefined): tf.Tensor {
  const keep = 1 / (1 - rate);
  const threshold = Math.ceil(rate * 4294967296); // u >= threshold  ⇔  u / 2^32 >= rate
  let a = (seed === undefined ? Math.floor(Math.random() * 4294967296) : seed) >>> 0;
  const v = new Float32Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < v.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    v[i] = (t ^ (t >>> 14)) >>> 0 >= threshold ? keep : 0;
  }
  return tf.tensor(v, shape);
}

/**
 * Dropout multiplier of attention weights `[B, H, T, S]`: the `[T, S]` block of (batch, head)
 * pair `i = b·H + h` is {@link dropoutMultiplier} with seed `seed + i` (one random seed when
 * `seed` is undefined), so a pair's mask does not depend on how many pairs the batch holds.
 */
export function attentionDropoutMultiplier(shape: [number, number, number, number], rate: number, seed: number | undefined): tf.Tensor4D {
  const [B, H, T, S] = shape;
  const base = seed === undefined ? Math.floor(Math.random() * 4294967296) : seed;
  const n = B * H;
  if (n === 1) return tf.reshape(dropoutMultiplier([T, S], rate, base), shape) as tf.Tensor4D;
  return tf.tidy(() => tf.reshape(tf.concat(Array.from({ length: n }, (_, i) => dropoutMultiplier([T, S], rate, (base + i) >>> 0)), 0), shape) as tf.Tensor4D);
}

/** `x ⊙ mask` in training with `rate > 0`, else `x` itself. */
export function maybeDropout(x: tf.Tensor, rate: number, training: boolean, seed: number | undefined): tf.Tensor {
  return training && rate > 0 ? tf.mul(x, dropoutMultiplier(x.shape, rate, seed)) : x;
}
