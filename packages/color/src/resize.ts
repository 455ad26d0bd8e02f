import * as tf from '@tensorflow/tfjs-core';

/**
 * Resizes `[B,H,W,C]` to `[B,h,w,C]` without aliasing: 2×2 box averages halve the image while it
 * is at least twice the target in both sides, then a bilinear step (half-pixel centres) finishes.
 * Training crops are resized by sharp with a proper filter; plain bilinear sampling of a large
 * photo would show the model a noisier, aliased image than it was trained on. Always returns a
 * new tensor (the caller disposes both).
 *
 * @param x `[B,H,W,C]` any values (Lab, RGB, features).
 * @param h output height.
 * @param w output width.
 * @returns `[B,h,w,C]`.
 *
 * @example
 * ```ts
 * const small = resizeArea(photoL, 64, 64); // [1,480,640,1] → [1,64,64,1]
 * ```
 */
export function resizeArea(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => {
    let y = x;
    while (y.shape[1] >= 2 * h && y.shape[2] >= 2 * w) {
      const [B, H, W, C] = y.shape;
      const even = H % 2 || W % 2 ? (tf.slice(y, [0, 0, 0, 0], [B, H - (H % 2), W - (W % 2), C]) as tf.Tensor4D) : y;
      y = tf.avgPool(even, 2, 2, 'valid') as tf.Tensor4D;
    }
    return y.shape[1] === h && y.shape[2] === w ? tf.clone(y) : (tf.image.resizeBilinear(y, [h, w], false, true) as tf.Tensor4D);
  });
}
