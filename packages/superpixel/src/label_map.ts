import * as tf from '@tensorflow/tfjs-core';
import { assertAssociation, assertCellSize, OFFSETS } from './internal/grid.js';

/** `[h, w, 9]` per cell: the id of superpixel `cell + offset_k`, or -1 outside the grid. */
function cellTargets(h: number, w: number): Int32Array {
  const ids = new Int32Array(h * w * 9);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      OFFSETS.forEach(([dy, dx], k) => {
        const y = i + dy;
        const x = j + dx;
        ids[(i * w + j) * 9 + k] = y >= 0 && y < h && x >= 0 && x < w ? y * w + x : -1;
      });
    }
  }
  return ids;
}

/** A per-cell `[h, w, 9]` tensor broadcast to every pixel: `[1, h*S, w*S, 9]`. */
function perPixel(cells: tf.Tensor3D, S: number): tf.Tensor4D {
  const [h, w, K] = cells.shape;
  const tiled = tf.tile(tf.reshape(cells, [1, h, 1, w, 1, K]), [1, 1, S, 1, S, 1]); // [1, h, S, w, S, K]
  return tf.reshape(tiled, [1, h * S, w * S, K]);
}

function labelMap_(association: tf.Tensor4D, cellSize: number): tf.Tensor3D {
  const S = cellSize;
  assertCellSize('labelMap', S);
  assertAssociation('labelMap', association, S);
  const [B, H, W] = association.shape;
  const h = H / S;
  const w = W / S;
  const targets = perPixel(tf.tensor3d(cellTargets(h, w), [h, w, 9], 'int32'), S); // [1, H, W, 9]
  // Winner among the neighbours that exist: out-of-grid entries can never win.
  const masked = tf.where(tf.greaterEqual(targets, 0), association, tf.fill(association.shape, -Infinity)); // [B, H, W, 9]
  const k = tf.argMax(masked, 3); // [B, H, W]
  const chosen = tf.mul(tf.oneHot(k, 9, 1, 0, 'int32'), targets); // [B, H, W, 9]
  return tf.reshape(tf.sum(chosen, 3), [B, H, W]) as tf.Tensor3D; // [B, H, W]
}

/**
 * Superpixel label map: the integer id `i*w + j` of the superpixel that wins each pixel (largest
 * association among the neighbours inside the grid; the first on ties). Not differentiable.
 *
 * @param association Soft association `[batch, height, width, 9]`.
 * @param cellSize Cell size `S`.
 * @returns Int32 ids in `[0, h*w)`, `[batch, height, width]`.
 *
 * @example
 * ```ts
 * const ids = labelMap(a, 16); // [B, 256, 256] with values 0..255
 * ```
 */
export const labelMap = tf.op({ labelMap_ });
