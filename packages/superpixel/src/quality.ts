import * as tf from '@tensorflow/tfjs-core';
import { assertAssociation, assertCellSize, assertRank4Float, CENTRE } from './internal/grid.js';
import { diffuse } from './diffuse.js';
import { pool } from './pool.js';

/**
 * The plain grid association: all weight on each pixel's own cell. With it {@link pool} is S×S
 * average pooling and {@link diffuse} nearest-neighbour upsampling.
 *
 * @param batch Batch size.
 * @param height Image height.
 * @param width Image width.
 * @returns One-hot association `[batch, height, width, 9]` on channel 4.
 */
export function gridAssociation(batch: number, height: number, width: number): tf.Tensor4D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.fill([batch, height, width], CENTRE, 'int32') as tf.Tensor3D, 9), 'float32') as tf.Tensor4D);
}

function reconstructionError_(L: tf.Tensor4D, ab: tf.Tensor4D, association: tf.Tensor4D, cellSize: number): tf.Scalar {
  assertCellSize('reconstructionError', cellSize);
  assertRank4Float('reconstructionError', 'L', L, '[batch, height, width, 1]');
  assertRank4Float('reconstructionError', 'ab', ab, '[batch, height, width, 2]');
  assertAssociation('reconstructionError', association, cellSize);
  const [B, H, W] = association.shape;
  tf.util.assert(
    tf.util.arraysEqual(L.shape, [B, H, W, 1]) && tf.util.arraysEqual(ab.shape, [B, H, W, 2]),
    () => `reconstructionError: L [${L.shape}] and ab [${ab.shape}] must be [${B}, ${H}, ${W}, 1] and [${B}, ${H}, ${W}, 2] like association`,
  );
  // Back to Lab units: L = 50·L' + 50 (the offset cancels in differences), ab = 110·ab'.
  const lab = tf.concat([tf.mul(L, 50), tf.mul(ab, 110)], 3) as tf.Tensor4D; // [B, H, W, 3]
  const rec = diffuse(pool(lab, association, cellSize).pooled, association, cellSize); // [B, H, W, 3]
  return tf.mean(tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(rec, lab)), 3), 1e-16))) as tf.Scalar;
}

/**
 * Superpixel quality: the mean per-pixel CIE76 error `‖ΔLab‖₂` (Lab units) of the image rebuilt
 * through pool → diffuse with the given association. Lower is better; compare with
 * {@link gridAssociation} to see what a trained SPixNet buys.
 *
 * @param L Lightness `[batch, height, width, 1]` as (L-50)/50.
 * @param ab Colour `[batch, height, width, 2]` as ab/110.
 * @param association Association `[batch, height, width, 9]`.
 * @param cellSize Cell size `S`.
 * @returns Scalar mean error in Lab units.
 *
 * @example
 * ```ts
 * const trained = reconstructionError(L, ab, net.predict(L), 16);
 * const grid = reconstructionError(L, ab, gridAssociation(B, H, W), 16);
 * ```
 */
export const reconstructionError = tf.op({ reconstructionError_ });

function drawBoundaries_(rgb: tf.Tensor, mask: tf.Tensor, color: readonly [number, number, number] = [1, 0, 0]): tf.Tensor4D {
  assertRank4Float('drawBoundaries', 'rgb', rgb, '[batch, height, width, 3]');
  assertRank4Float('drawBoundaries', 'mask', mask, '[batch, height, width, 1]');
  const [B, H, W] = rgb.shape as [number, number, number, number];
  tf.util.assert(rgb.shape[3] === 3, () => `drawBoundaries: rgb must have 3 channels; got [${rgb.shape}]`);
  tf.util.assert(tf.util.arraysEqual(mask.shape, [B, H, W, 1]), () => `drawBoundaries: mask must have shape [${B}, ${H}, ${W}, 1]; got [${mask.shape}]`);
  tf.util.assert(color.length === 3, () => `drawBoundaries: color must have 3 entries; got ${color.length}`);
  return tf.add(tf.mul(rgb, tf.sub(1, mask)), tf.mul(mask, tf.tensor1d([...color]))) as tf.Tensor4D;
}

/**
 * Paints superpixel boundaries onto an image: `rgb·(1 − mask) + color·mask`.
 *
 * @param rgb Image `[batch, height, width, 3]` in [0, 1].
 * @param mask Boundary mask `[batch, height, width, 1]`, e.g. `boundaries(labelMap(a, S))`.
 * @param color RGB in [0, 1] of the lines. Default red `[1, 0, 0]`.
 * @returns The painted image `[batch, height, width, 3]`.
 *
 * @example
 * ```ts
 * const painted = drawBoundaries(rgb, boundaries(labelMap(net.predict(L), 16)));
 * ```
 */
export const drawBoundaries = tf.op({ drawBoundaries_ });
