import * as tf from '@tensorflow/tfjs-core';

function boundaries_(labels: tf.Tensor3D): tf.Tensor4D {
  tf.util.assert(labels instanceof tf.Tensor && labels.rank === 3, () => `boundaries: labels must have rank 3 [batch, height, width]; got shape [${labels?.shape}]`);
  tf.util.assert(labels.dtype === 'int32', () => `boundaries: labels must be int32; got ${labels.dtype}`);
  const [B, H, W] = labels.shape;
  const x = tf.cast(tf.reshape(labels, [B, H, W, 1]), 'float32'); // [B, H, W, 1]
  // Differences with the right and lower neighbour; the last column/row compare with themselves.
  const right = tf.concat([tf.slice(x, [0, 0, 1, 0], [B, H, W - 1, 1]), tf.slice(x, [0, 0, W - 1, 0], [B, H, 1, 1])], 2);
  const down = tf.concat([tf.slice(x, [0, 1, 0, 0], [B, H - 1, W, 1]), tf.slice(x, [0, H - 1, 0, 0], [B, 1, W, 1])], 1);
  const edge = tf.logicalOr(tf.notEqual(x, right), tf.notEqual(x, down)); // [B, H, W, 1]
  return tf.cast(edge, 'float32') as tf.Tensor4D;
}

/**
 * Superpixel boundary mask for drawing: 1 where a pixel's label differs from the pixel to its
 * right or below it, else 0 (a one-pixel line on the upper/left side of every boundary).
 *
 * @param labels Int32 superpixel ids `[batch, height, width]`, e.g. from {@link labelMap}.
 * @returns Float32 mask `[batch, height, width, 1]`.
 *
 * @example
 * ```ts
 * const mask = boundaries(labelMap(a, 16)); // paint with drawBoundaries(rgb, mask)
 * ```
 */
export const boundaries = tf.op({ boundaries_ });
