import * as tf from '@tensorflow/tfjs-core';

/**
 * Rows `out[b, k, :] = x[b, indices[b, k], :]` without `gather`'s `batchDims` (wrong on the wasm
 * backend of tfjs 4.22): the indices are offset by `b·T` and gathered from `x` flattened to `[B·T, C]`.
 *
 * @param x `[B, T, C]`.
 * @param indices int32 `[B, K]`, values in `[0, T)`.
 * @returns `[B, K, C]`.
 */
export function gatherRows(x: tf.Tensor3D, indices: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T, C] = x.shape;
    const K = indices.shape[1];
    const offsets = tf.mul(tf.range(0, B, 1, 'int32'), tf.scalar(T, 'int32')); // [B]
    const flat = tf.add(indices, tf.expandDims(offsets, 1)); // [B,K]
    const rows = tf.gather(tf.reshape(x, [B * T, C]), tf.reshape(flat, [B * K])); // [B*K,C]
    return tf.reshape(rows, [B, K, C]);
  });
}

/**
 * Float32 one-hot `[..., depth]` of int32 `indices` (out-of-range indices give a zero row). Built
 * from `equal` against a range: `oneHot` with a float32 dtype writes integer bit patterns on the
 * wasm backend of tfjs 4.22.
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.equal(tf.expandDims(indices, -1), tf.range(0, depth, 1, 'int32')), 'float32'));
}
