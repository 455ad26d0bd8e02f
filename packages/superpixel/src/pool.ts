import * as tf from '@tensorflow/tfjs-core';
import { assertAssociation, assertCellSize, assertRank4Float, OFFSETS, padCells, POOL_EPS, toCells } from './internal/grid.js';

/** Result of {@link pool}. */
export interface PoolResult {
  /** Association-weighted mean of the features per superpixel, `[batch, height/S, width/S, channels]`. */
  pooled: tf.Tensor4D;
  /** Summed association per superpixel divided by `S²`, `[batch, height/S, width/S, 1]`. */
  mass: tf.Tensor4D;
}

function pool_(features: tf.Tensor, association: tf.Tensor, cellSize: number): PoolResult {
  const S = cellSize;
  assertCellSize('pool', S);
  assertRank4Float('pool', 'features', features, '[batch, height, width, channels]');
  assertAssociation('pool', association, S);
  const [x4, a4] = [features as tf.Tensor4D, association as tf.Tensor4D]; // ranks checked above
  const [B, H, W, C] = x4.shape;
  tf.util.assert(
    a4.shape[0] === B && a4.shape[1] === H && a4.shape[2] === W,
    () => `pool: association [${a4.shape}] must match features [${x4.shape}] in batch, height and width`,
  );
  const h = H / S;
  const w = W / S;
  // Per cell and neighbour k: Σ_{p in cell} A[p,k]·x[p] and Σ_{p in cell} A[p,k].
  const xc = toCells(x4, S); // [B*h*w, S*S, C]
  const ac = toCells(a4, S); // [B*h*w, S*S, 9]
  const num = tf.matMul(ac, xc, true, false); // [B*h*w, 9, C]
  const den = tf.expandDims(tf.sum(ac, 1), 2); // [B*h*w, 9, 1]
  // Rank 4 throughout the shifts (wasm slices of rank 5 take a slow path): neighbour k owns the
  // channels [k*(C+1), (k+1)*(C+1)).
  const both = tf.reshape(tf.concat([num, den], 2), [B, h, w, 9 * (C + 1)]) as tf.Tensor4D; // [B, h, w, 9*(C+1)]
  const padded = padCells(both); // [B, h+2, w+2, 9*(C+1)]
  // A pixel in cell c sends to superpixel c + offset_k, so superpixel s gathers from c = s - offset_k.
  const total = OFFSETS.map(([dy, dx], k) => tf.slice(padded, [0, 1 - dy, 1 - dx, k * (C + 1)], [B, h, w, C + 1])) // 9 × [B, h, w, C+1]
    .reduce((sum, fromK) => tf.add(sum, fromK)); // [B, h, w, C+1]
  const [numerator, denominator] = tf.split(total, [C, 1], 3) as [tf.Tensor4D, tf.Tensor4D];
  const pooled = tf.div(numerator, tf.add(denominator, POOL_EPS)) as tf.Tensor4D;
  const mass = tf.div(denominator, S * S) as tf.Tensor4D;
  return { pooled, mass };
}

/**
 * Soft-superpixel pooling (Xia et al. 2022, §3.1): every superpixel's feature is the
 * association-weighted mean of the pixels whose 3×3-cell neighbourhood contains it.
 *
 * `pooled[s] = Σ_p A[p,k(p,s)]·x[p] / (Σ_p A[p,k(p,s)] + 1e-8)`, `mass[s] = Σ_p A[p,k(p,s)] / S²`.
 * Neighbours outside the grid receive nothing. Exact and differentiable with respect to both
 * inputs (tfjs autodiff through one batched matmul per cell and nine cell-grid shifts).
 *
 * @param features Pixel features `[batch, height, width, channels]`, float32 (any `tf.Tensor`: the
 *   ranks of both tensors are checked at run time).
 * @param association Soft association `[batch, height, width, 9]`; channel k is the weight towards
 *   the cell at offset `(dy, dx)`, `k = 3*(dy+1) + (dx+1)`.
 * @param cellSize Cell size `S` (integer ≥ 1); height and width must be multiples of it.
 * @returns `pooled` `[batch, height/S, width/S, channels]` and `mass` `[batch, height/S, width/S, 1]`.
 *
 * @example
 * ```ts
 * const { pooled, mass } = pool(features, association, 16); // [B,16,16,C], [B,16,16,1] for 256×256
 * ```
 */
export const pool = tf.op({ pool_ });
