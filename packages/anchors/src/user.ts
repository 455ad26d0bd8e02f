/**
 * User control (Xia et al. 2022, §3): anchors placed and colored by a person replace the located and
 * sampled ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AnchorHints } from './colors.js';
import { resolveUserAnchorOptions, type UserAnchorOptions } from './options.js';
import { oneHotFloat } from './internal/gather.js';

/** Units of a {@link UserAnchor}'s position. */
export type AnchorUnits = 'grid' | 'pixel';

/** One anchor given by a person. */
export interface UserAnchor {
  /** Row: a token row in `[0, h)` (`grid`), or a pixel row in `[0, h·S)` (`pixel`). */
  row: number;
  /** Column: a token column in `[0, w)` (`grid`), or a pixel column in `[0, w·S)` (`pixel`). */
  col: number;
  /** Units of `row` and `col`. Default `grid`. A pixel lies in token `(floor(row/S), floor(col/S))`. */
  units?: AnchorUnits;
  /** The anchor's color `[a, b]` in the units of the bin centres; it is mapped to its nearest bin. */
  ab: readonly [number, number];
}

/**
 * Applies anchors given by a person on top of located/sampled hints. Each user anchor sets the mask
 * to 1 at its token and its color to the one-hot of the bin nearest to its `ab` (ties to the lower
 * bin), overriding a located anchor in the same token; with `mode: 'replace'` the located anchors
 * of an image that has user anchors are removed. Of several user anchors in one token the last
 * wins. Images with an empty list are returned unchanged.
 *
 * @param hints Located hints: mask `[batch, h, w, 1]`, colors `[batch, h, w, bins]`.
 * @param userAnchors One list per image (`batch` lists).
 * @param binCentres Bin centres `[bins, 2]`.
 * @param options See {@link UserAnchorOptions}; defaults {@link USER_ANCHOR_DEFAULTS}.
 * @returns New hints (the inputs are not disposed).
 *
 * @example
 * ```ts
 * const edited = applyUserAnchors(hints, [[{ row: 3, col: 5, ab: [40, 20] }]], bins);
 * ```
 */
export function applyUserAnchors(
  hints: AnchorHints,
  userAnchors: readonly (readonly UserAnchor[])[],
  binCentres: tf.Tensor2D,
  options: Partial<UserAnchorOptions> = {},
): AnchorHints {
  const fn = 'applyUserAnchors';
  const o = resolveUserAnchorOptions(options);
  const { mask, colors } = hints ?? ({} as AnchorHints);
  tf.util.assert(colors instanceof tf.Tensor && colors.rank === 4, () => `${fn}: hints.colors must be [batch, h, w, bins], got shape [${colors?.shape}]`);
  const [B, h, w, N] = colors.shape;
  tf.util.assert(mask instanceof tf.Tensor && tf.util.arraysEqual(mask.shape, [B, h, w, 1]), () => `${fn}: hints.mask must be [${B}, ${h}, ${w}, 1], got shape [${mask?.shape}]`);
  tf.util.assert(binCentres instanceof tf.Tensor && tf.util.arraysEqual(binCentres.shape, [N, 2]), () => `${fn}: binCentres must be [${N}, 2], got shape [${binCentres?.shape}]`);
  tf.util.assert(Array.isArray(userAnchors) && userAnchors.length === B, () => `${fn}: userAnchors must hold one list per image (${B}), got ${Array.isArray(userAnchors) ? userAnchors.length : typeof userAnchors}`);
  const bins = binCentres.dataSync();
  const T = h * w;
  const userMask = new Float32Array(B * T);
  const userCls = new Int32Array(B * T).fill(-1);
  const keep = new Float32Array(B * T).fill(1);
  userAnchors.forEach((list, b) => {
    if (o.mode === 'replace' && list.length > 0) keep.fill(0, b * T, (b + 1) * T);
    for (const [i, u] of list.entries()) {
      const what = `${fn}: userAnchors[${b}][${i}]`;
      const units = u.units ?? 'grid';
      tf.util.assert(units === 'grid' || units === 'pixel', () => `${what}.units must be grid or pixel, got ${String(units)}`);
      const s = units === 'pixel' ? o.cellSize : 1;
      tf.util.assert(Number.isFinite(u.row) && Number.isFinite(u.col) && (units === 'pixel' || (Number.isInteger(u.row) && Number.isInteger(u.col))), () => `${what}: row and col must be ${units === 'grid' ? 'integers' : 'finite numbers'}, got ${u.row}, ${u.col}`);
      const r = Math.floor(u.row / s);
      const c = Math.floor(u.col / s);
      tf.util.assert(r >= 0 && r < h && c >= 0 && c < w, () => `${what}: position (${u.row}, ${u.col}) ${units} lies outside the ${h}×${w} token grid (cell size ${s})`);
      tf.util.assert(Array.isArray(u.ab) && u.ab.length === 2 && Number.isFinite(u.ab[0]) && Number.isFinite(u.ab[1]), () => `${what}.ab must be two finite numbers [a, b]`);
      let best = 0;
      let bestD = Infinity;
      for (let n = 0; n < N; n++) {
        const d = (bins[2 * n]! - u.ab[0]) ** 2 + (bins[2 * n + 1]! - u.ab[1]) ** 2;
        if (d < bestD) [best, bestD] = [n, d];
      }
      const t = b * T + r * w + c;
      userMask[t] = 1;
      userCls[t] = best;
      keep[t] = 0;
    }
  });
  return tf.tidy(() => {
    const k = tf.tensor4d(keep, [B, h, w, 1]);
    return {
      mask: tf.add(tf.mul(mask, k), tf.tensor4d(userMask, [B, h, w, 1])) as tf.Tensor4D,
      colors: tf.add(tf.mul(colors, k), oneHotFloat(tf.tensor3d(userCls, [B, h, w], 'int32'), N)) as tf.Tensor4D,
    };
  });
}
