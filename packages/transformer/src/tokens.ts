/** Conversions between feature maps `[batch, h, w, d]` and token sequences `[batch, h*w, d]` (row-major). */
import * as tf from '@tensorflow/tfjs-core';

function flattenTokens_(x: tf.Tensor): tf.Tensor3D {
  tf.util.assert(x.rank === 4, () => `flattenTokens: x must be [batch, height, width, channels] (got [${x.shape}])`);
  const [b, h, w, d] = x.shape as [number, number, number, number];
  return tf.reshape(x, [b, h * w, d]); // [B, T = h*w, d], token t = row * w + col
}

/**
 * Flattens a feature map into tokens in row-major order: token `t = row · w + col`.
 *
 * @param x `[batch, height, width, channels]`
 * @returns `[batch, height * width, channels]`
 *
 * @example
 * ```ts
 * const tokens = flattenTokens(features); // [2, 16, 16, 64] → [2, 256, 64]
 * ```
 */
export const flattenTokens = tf.op({ flattenTokens_ });

function unflattenTokens_(x: tf.Tensor3D, height: number, width: number): tf.Tensor4D {
  tf.util.assert(x.rank === 3, () => `unflattenTokens: x must be [batch, tokens, channels] (got [${x.shape}])`);
  tf.util.assert(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0, () => `unflattenTokens: height and width must be positive integers (got ${height}, ${width})`);
  const [b, t, d] = x.shape;
  tf.util.assert(t === height * width, () => `unflattenTokens: x has ${t} tokens, expected height*width = ${height * width}`);
  return tf.reshape(x, [b, height, width, d]); // [B, h, w, d]
}

/**
 * Inverse of {@link flattenTokens}.
 *
 * @param x `[batch, height * width, channels]`
 * @param height grid rows
 * @param width grid columns
 * @returns `[batch, height, width, channels]`
 */
export const unflattenTokens = tf.op({ unflattenTokens_ });
