/**
 * Shared helpers of the superpixel ops: argument checks, the 9 neighbour offsets, pixel↔cell
 * reshapes and cell-grid shifts. Not exported from the package.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Neighbour k = 3*(dy+1) + (dx+1): top-left, top, top-right, left, centre, right, bottom-left, bottom, bottom-right. */
export const OFFSETS: ReadonlyArray<readonly [number, number]> = Object.freeze(
  Array.from({ length: 9 }, (_, k) => Object.freeze([Math.floor(k / 3) - 1, (k % 3) - 1] as const)),
);

/** Index of the centre neighbour (the pixel's own cell). */
export const CENTRE = 4;

/** Denominator guard of pooling: `pooled = Σ A·x / (Σ A + POOL_EPS)`, so an empty superpixel pools to 0. */
export const POOL_EPS = 1e-8;

/** Checks that `S` is a positive integer. */
export function assertCellSize(op: string, S: number): void {
  tf.util.assert(Number.isInteger(S) && S >= 1, () => `${op}: cellSize must be an integer >= 1; got ${S}`);
}

/** Checks that `t` is a float32 tensor of rank 4. */
export function assertRank4Float(op: string, arg: string, t: tf.Tensor, layout: string): void {
  tf.util.assert(t instanceof tf.Tensor, () => `${op}: ${arg} must be a tf.Tensor ${layout}`);
  tf.util.assert(t.rank === 4, () => `${op}: ${arg} must have rank 4 ${layout}; got shape [${t.shape}]`);
  tf.util.assert(t.dtype === 'float32', () => `${op}: ${arg} must be float32; got ${t.dtype}`);
}

/** Checks an association tensor `[batch, height, width, 9]` whose height and width are multiples of `S`. */
export function assertAssociation(op: string, association: tf.Tensor, S: number): void {
  assertRank4Float(op, 'association', association, '[batch, height, width, 9]');
  tf.util.assert(association.shape[3] === 9, () => `${op}: association must have 9 channels [batch, height, width, 9]; got shape [${association.shape}]`);
  const [, H, W] = association.shape;
  tf.util.assert(H! % S === 0 && W! % S === 0, () => `${op}: association height and width must be multiples of cellSize ${S}; got shape [${association.shape}]`);
}

/**
 * Pixels to cells: `[B, h*S, w*S, C]` → `[B*h*w, S*S, C]` (one row block per cell, pixels of a cell
 * in row-major order).
 */
export function toCells(x: tf.Tensor4D, S: number): tf.Tensor3D {
  const [B, H, W, C] = x.shape;
  const h = H / S;
  const w = W / S;
  if (S === 1) return tf.reshape(x, [B * h * w, 1, C]);
  // [B, h, S, w, S, C]
  const split = tf.reshape(x, [B, h, S, w, S, C]);
  // [B, h, w, S, S, C]
  const cells = tf.transpose(split, [0, 1, 3, 2, 4, 5]);
  // [B*h*w, S*S, C]
  return tf.reshape(cells, [B * h * w, S * S, C]);
}

/** Cells to pixels, the inverse of {@link toCells}: `[B*h*w, S*S, C]` → `[B, h*S, w*S, C]`. */
export function fromCells(x: tf.Tensor3D, B: number, h: number, w: number, S: number): tf.Tensor4D {
  const C = x.shape[2];
  if (S === 1) return tf.reshape(x, [B, h, w, C]);
  // [B, h, w, S, S, C]
  const cells = tf.reshape(x, [B, h, w, S, S, C]);
  // [B, h, S, w, S, C]
  const split = tf.transpose(cells, [0, 1, 3, 2, 4, 5]);
  // [B, H, W, C]
  return tf.reshape(split, [B, h * S, w * S, C]);
}

/**
 * Pads the two cell axes (1 and 2) of `t` by one zero cell on each side, so that the shifted grid
 * for any offset is one `slice`. Rank 4 only: wasm slices of higher rank take a slow path.
 */
export function padCells(t: tf.Tensor4D): tf.Tensor4D {
  return tf.pad(t, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
}

/**
 * From a {@link padCells}-padded tensor with cell grid `h×w`, the grid read at offset `(oy, ox)`:
 * `out[:, i, j, :] = t[:, i+oy, j+ox, :]`, zero outside the grid.
 */
export function readShifted(padded: tf.Tensor4D, h: number, w: number, oy: number, ox: number): tf.Tensor4D {
  const [B, , , C] = padded.shape;
  return tf.slice(padded, [0, 1 + oy, 1 + ox, 0], [B, h, w, C]);
}
