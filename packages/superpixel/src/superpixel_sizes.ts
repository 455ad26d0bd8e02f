import * as tf from '@tensorflow/tfjs-core';
import { assertAssociation, assertCellSize } from './internal/grid.js';
import { hardAssociation } from './hard_association.js';
import { pool } from './pool.js';

function superpixelSizes_(association: tf.Tensor4D, cellSize: number): tf.Tensor4D {
  assertCellSize('superpixelSizes', cellSize);
  assertAssociation('superpixelSizes', association, cellSize);
  const hard = hardAssociation(association); // [B, H, W, 9]
  const [B, H, W] = association.shape;
  // The mass of the hard association is exactly the pixel count / S².
  const { mass } = pool(tf.zeros([B, H, W, 1]), hard, cellSize); // [B, h, w, 1]
  return mass;
}

/**
 * Superpixel sizes (Xia et al. 2022, §3.1): the number of pixels assigned to each superpixel under the hard
 * (winner-takes-all) association, divided by `S²` — 1 for an undisturbed grid cell. Pixels whose
 * winner lies outside the grid count for no superpixel. Used by the anchor locator.
 *
 * @param association Soft association `[batch, height, width, 9]`.
 * @param cellSize Cell size `S`.
 * @returns Sizes `[batch, height/S, width/S, 1]`.
 *
 * @example
 * ```ts
 * const sizes = superpixelSizes(a, 16); // [B, 16, 16, 1] for 256×256, sums to 256 per image
 * ```
 */
export const superpixelSizes = tf.op({ superpixelSizes_ });
