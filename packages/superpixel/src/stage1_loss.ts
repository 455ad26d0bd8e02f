import * as tf from '@tensorflow/tfjs-core';
import { assertAssociation, assertCellSize, assertRank4Float } from './internal/grid.js';
import { diffuse } from './diffuse.js';
import { pool } from './pool.js';

/** Options of {@link stage1Loss}; defaults in {@link STAGE1_LOSS_DEFAULTS}. */
export interface Stage1LossOptions {
  /** Superpixel cell size `S`. Default 16. */
  cellSize: number;
  /** Weight of the colour term `mean‖Δab‖₂` (ab as ab/110). Default 10. */
  featWeight: number;
  /** Weight of the position term `mean‖Δxy‖₂ / S` (xy in pixels). Default 0.003. */
  posWeight: number;
}

/** Defaults of {@link Stage1LossOptions}: `cellSize` 16, `featWeight` 10, `posWeight` 0.003. */
export const STAGE1_LOSS_DEFAULTS: Readonly<Stage1LossOptions> = Object.freeze({ cellSize: 16, featWeight: 10, posWeight: 0.003 });

/** Completes and validates partial {@link Stage1LossOptions}; rejects unknown keys. */
export function resolveStage1LossOptions(partial: Partial<Stage1LossOptions> = {}): Stage1LossOptions {
  const keys = Object.keys(STAGE1_LOSS_DEFAULTS);
  for (const key of Object.keys(partial)) {
    if (!keys.includes(key)) throw new Error(`resolveStage1LossOptions: unknown option '${key}'; valid: ${keys.join(', ')}`);
  }
  const o = { ...STAGE1_LOSS_DEFAULTS, ...partial };
  if (!Number.isInteger(o.cellSize) || o.cellSize < 1) throw new Error(`resolveStage1LossOptions: cellSize must be an integer >= 1; got ${o.cellSize}`);
  if (!(o.featWeight >= 0)) throw new Error(`resolveStage1LossOptions: featWeight must be >= 0; got ${o.featWeight}`);
  if (!(o.posWeight >= 0)) throw new Error(`resolveStage1LossOptions: posWeight must be >= 0; got ${o.posWeight}`);
  return o;
}

/** The terms of {@link stage1Loss}, each a scalar. */
export interface Stage1Loss {
  /** `featWeight · feat + posWeight · pos / S`, the quantity to minimise. */
  total: tf.Scalar;
  /** `mean‖Δab‖₂` over pixels. */
  feat: tf.Scalar;
  /** `mean‖Δxy‖₂` over pixels, in pixels (not yet divided by `S`). */
  pos: tf.Scalar;
}

/**
 * Pixel coordinates `(y, x)` in pixels: `[batch, height, width, 2]`.
 *
 * @param batch Batch size.
 * @param height Image height.
 * @param width Image width.
 */
export function pixelCoordinates(batch: number, height: number, width: number): tf.Tensor4D {
  return tf.tidy(() => {
    const ys = tf.tile(tf.reshape(tf.range(0, height, 1, 'float32'), [1, height, 1, 1]), [batch, 1, width, 1]); // [B, H, W, 1]
    const xs = tf.tile(tf.reshape(tf.range(0, width, 1, 'float32'), [1, 1, width, 1]), [batch, height, 1, 1]); // [B, H, W, 1]
    return tf.concat([ys, xs], 3) as tf.Tensor4D;
  });
}

/** Per-pixel Euclidean norm `[B, H, W]`, with a guard so that its gradient at 0 is finite. */
function pixelNorm(d: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.add(tf.sum(tf.square(d), 3), 1e-16));
}

function stage1Loss_(association: tf.Tensor4D, ab: tf.Tensor4D, options: Partial<Stage1LossOptions> = {}): Stage1Loss {
  const o = resolveStage1LossOptions(options);
  assertCellSize('stage1Loss', o.cellSize);
  assertAssociation('stage1Loss', association, o.cellSize);
  assertRank4Float('stage1Loss', 'ab', ab, '[batch, height, width, 2]');
  const [B, H, W] = association.shape;
  tf.util.assert(ab.shape[0] === B && ab.shape[1] === H && ab.shape[2] === W && ab.shape[3] === 2, () => `stage1Loss: ab must have shape [${B}, ${H}, ${W}, 2] like association; got [${ab.shape}]`);
  const xy = pixelCoordinates(B, H, W); // [B, H, W, 2]
  const target = tf.concat([ab, xy], 3) as tf.Tensor4D; // [B, H, W, 4]
  const rec = diffuse(pool(target, association, o.cellSize).pooled, association, o.cellSize); // [B, H, W, 4]
  const delta = tf.sub(rec, target);
  const feat = tf.mean(pixelNorm(tf.slice(delta, [0, 0, 0, 0], [B, H, W, 2]))) as tf.Scalar;
  const pos = tf.mean(pixelNorm(tf.slice(delta, [0, 0, 0, 2], [B, H, W, 2]))) as tf.Scalar;
  const total = tf.add(tf.mul(feat, o.featWeight), tf.mul(pos, o.posWeight / o.cellSize)) as tf.Scalar;
  return { total, feat, pos };
}

/**
 * SPixNet's stage-1 loss (Xia et al. 2022, §3.1): pool the targets — colour `ab/110` and pixel
 * position `xy` — with the association, diffuse them back, and penalise the per-pixel Euclidean
 * reconstruction error: `featWeight · mean‖Δab‖₂ + posWeight · mean‖Δxy‖₂ / S`.
 *
 * @param association Soft association `[batch, height, width, 9]`.
 * @param ab Colour target `[batch, height, width, 2]` as ab/110.
 * @param options Weights and cell size, see {@link STAGE1_LOSS_DEFAULTS}.
 * @returns The scalar `total` and its two terms.
 *
 * @example
 * ```ts
 * const { total } = stage1Loss(net.predict(L, true), ab, { cellSize: 16 });
 * ```
 */
export const stage1Loss = tf.op({ stage1Loss_ });
