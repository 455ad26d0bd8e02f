import * as tf from '@tensorflow/tfjs-core';
import { assertAssociation, assertCellSize, assertRank4Float, fromCells, OFFSETS, padCells, readShifted, toCells } from './internal/grid.js';

function diffuse_(superpixelFeatures: tf.Tensor, association: tf.Tensor, cellSize: number): tf.Tensor4D {
  const S = cellSize;
  assertCellSize('diffuse', S);
  assertRank4Float('diffuse', 'superpixelFeatures', superpixelFeatures, '[batch, h, w, channels]');
  assertAssociation('diffuse', association, S);
  const [f4, a4] = [superpixelFeatures as tf.Tensor4D, association as tf.Tensor4D]; // ranks checked above
  const [B, h, w, C] = f4.shape;
  tf.util.assert(
    a4.shape[0] === B && a4.shape[1] === h * S && a4.shape[2] === w * S,
    () => `diffuse: association [${a4.shape}] must be [${B}, ${h * S}, ${w * S}, 9] for superpixelFeatures [${f4.shape}] and cellSize ${S}`,
  );
  // Each cell's 9 neighbouring superpixel features (zero outside the grid).
  const padded = padCells(f4); // [B, h+2, w+2, C]
  const neighbours = tf.concat(
    OFFSETS.map(([dy, dx]) => readShifted(padded, h, w, dy, dx)),
    3,
  ); // [B, h, w, 9*C], neighbour k in channels [k*C, (k+1)*C)
  const zn = tf.reshape(neighbours, [B * h * w, 9, C]); // [B*h*w, 9, C]
  const ac = toCells(a4, S); // [B*h*w, S*S, 9]
  const out = tf.matMul(ac, zn); // [B*h*w, S*S, C]
  return fromCells(out as tf.Tensor3D, B, h, w, S); // [B, H, W, C]
}

/**
 * Soft-superpixel diffusion (Xia et al. 2022, §3.1), the way back from superpixels to pixels:
 * `out[p] = Σ_k A[p,k] · z[cell(p) + offset_k]`, zero for neighbours outside the grid.
 * Exact and differentiable with respect to both inputs.
 *
 * @param superpixelFeatures Superpixel features `[batch, h, w, channels]`, float32.
 * @param association Soft association `[batch, h*S, w*S, 9]` (see {@link pool}).
 * @param cellSize Cell size `S` (integer ≥ 1).
 * @returns Pixel features `[batch, h*S, w*S, channels]`.
 *
 * @example
 * ```ts
 * const back = diffuse(pool(x, a, 16).pooled, a, 16); // same shape as x
 * ```
 */
export const diffuse = tf.op({ diffuse_ });
