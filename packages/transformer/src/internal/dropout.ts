/**
 * Inverted dropout with masks drawn by a seeded mulberry32 generator in JavaScript: several times
 * cheaper than `tf.dropout` (whose `randomUniform` runs the `seedrandom` alea generator plus three
 * kernels per mask) and reproducible for a given seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { uniformDraws } from '@disco/random';

/**
 * Multiplier `[shape]`: 0 with probability `rate`, else `1 / (1 − rate)`. Random when `seed` is
 * undefined. Element i is dropped when draw i of the mulberry32 stream of `seed`
 * (`uniformDraws(seed, 0, n)` of `@disco/random`, the 32-bit draw over 2³², exact) is `< rate`.
 * The draws come in one array, not one function call each (which made masks 2–3× slower).
 */
export function dropoutMultiplier(shape: number[], rate: number, seed: number | undefined): tf.Tensor {
  const keep = 1 / (1 - rate);
  const u = uniformDraws(seed === undefined ? Math.floor(Math.random() * 4294967296) : seed, 0, shape.reduce((x, y) => x * y, 1));
  const v = new Float32Array(u.length);
  for (let i = 0; i < v.length; i++) v[i] = u[i]! >= rate ? keep : 0;
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
