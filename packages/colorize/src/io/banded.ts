/**
 * Full-resolution colorization in bounded memory: the image stays as 8-bit sRGB bytes, and every
 * full-resolution step runs outside tfjs on row bands of at most {@link BAND_PIXELS} pixels, so
 * the tensors of a 24 MP or 256 MP photo are only the model-size ones (plus one row of ab at the
 * model's height) and the extra memory is a band.
 *
 * - {@link labAtModelSize}: `resizeArea(rgbToNormalizedLab(rgb).L or .ab, h, w)` computed band by
 *   band (the 2×2 box halvings of `resizeArea` only mix rows within a band of 2^k rows).
 * - {@link composeRgb8}: `normalizedLabToRgb(L, resizeBilinear(ab, [H, W]))` quantised to 8 bits,
 *   band by band; the bilinear upsampling (half-pixel centres, as tfjs) runs along x once at the
 *   model's height (tfjs), then along y per band. With a guide, `guidedUpsample` instead (He & Sun
 *   2015): the guided-filter coefficients are upsampled the same way and applied to each band's L.
 *
 * The per-pixel color conversions are the plain-array forms in `color/lab.ts` (float64), equal to
 * the tfjs ops within float32 rounding. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizedLabToSrgb8, srgb8ToNormalizedLab } from '@disco/color';
import { guidedCoefficients, type GuidedFilterOptions } from '../model/guided.js';

/** 8-bit sRGB pixels, row-major `[height, width, 3]`. */
export interface Rgb8Image {
  /** `height·width·3` bytes. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** Pixels per band of the full-resolution steps (≈ 1 M: about 12 MB per float32 RGB tensor). */
export const BAND_PIXELS = 2 ** 20;

/**
 * Largest image, after the 2×2 halvings, that {@link labAtModelSize} resizes in one piece
 * (pixels). Only extreme aspect ratios reach it (e.g. 128 × 131 072 px for a 64² model).
 */
export const MAX_REDUCED_PIXELS = 2 ** 24;

/** Normalised L or ab of rows `[r0, r0 + rows)`, row-major `[rows, W, 1 | 2]`. */
function labBand(img: Rgb8Image, r0: number, rows: number, channel: 'L' | 'ab'): Float32Array {
  const W = img.width;
  const px = img.data.subarray(r0 * W * 3, (r0 + rows) * W * 3);
  const out = new Float32Array(rows * W * (channel === 'L' ? 1 : 2));
  srgb8ToNormalizedLab(px, channel === 'L' ? out : null, channel === 'ab' ? out : null);
  return out;
}

/** One 2×2 box halving of `[rows, cols, C]` (even sides) in float32, as `avgPool(·, 2, 2, 'valid')`. */
function halve(v: Float32Array, rows: number, cols: number, C: number): Float32Array {
  const f = Math.fround;
  const r2 = rows / 2;
  const c2 = cols / 2;
  const out = new Float32Array(r2 * c2 * C);
  for (let y = 0; y < r2; y++)
    for (let x = 0; x < c2; x++)
      for (let c = 0; c < C; c++) {
        const i = ((2 * y) * cols + 2 * x) * C + c;
        const j = i + cols * C;
        out[(y * c2 + x) * C + c] = f(f(f(f(v[i]! + v[i + C]!) + v[j]!) + v[j + C]!) * 0.25);
      }
  return out;
}

/** Columns `[0, cols)` of `[rows, W, C]`. */
function cropCols(x: Float32Array, rows: number, W: number, cols: number, C: number): Float32Array {
  if (cols === W) return x;
  const out = new Float32Array(rows * cols * C);
  for (let y = 0; y < rows; y++) out.set(x.subarray(y * W * C, (y * W + cols) * C), y * cols * C);
  return out;
}

/** The number of 2×2 halvings `resizeArea` (`@disco/color`) applies to an `H×W` image resized to `h×w`. */
export function areaHalvings(H: number, W: number, h: number, w: number): number {
  let k = 0;
  while (H >= 2 * h && W >= 2 * w) {
    H = Math.floor(H / 2);
    W = Math.floor(W / 2);
    k++;
  }
  return k;
}

/**
 * The normalised L (`[1, h, w, 1]`) or ab (`[1, h, w, 2]`) of `img` resized to `h×w` as
 * `resizeArea` (`@disco/color`) does (2×2 box halvings while the image is at least twice the target, then
 * bilinear), computed on row bands: the tensors in flight are at most one band of about
 * `bandPixels` pixels and the halved image. The caller owns the result.
 */
export function labAtModelSize(img: Rgb8Image, channel: 'L' | 'ab', h: number, w: number, bandPixels: number = BAND_PIXELS): tf.Tensor4D {
  const { width: W, height: H } = img;
  const k = areaHalvings(H, W, h, w);
  const f = 2 ** k;
  // The halvings use the first ⌊H/2^k⌋·2^k rows and ⌊W/2^k⌋·2^k columns (odd edges are dropped at each level).
  const Hk = Math.floor(H / f);
  const Wk = Math.floor(W / f);
  const C = channel === 'L' ? 1 : 2;
  if (Hk * Wk > MAX_REDUCED_PIXELS) throw new Error(`${W}×${H} px: aspect ratio too extreme for --mode resize (${Wk}×${Hk} px after halving, limit ${MAX_REDUCED_PIXELS} px)`);
  const rowsPerBand = f * Math.max(1, Math.floor(bandPixels / (W * f)));
  const reduced = new Float32Array(Hk * Wk * C);
  for (let r0 = 0; r0 < Hk * f; r0 += rowsPerBand) {
    const rows = Math.min(rowsPerBand, Hk * f - r0);
    let y = cropCols(labBand(img, r0, rows, channel), rows, W, Wk * f, C);
    for (let i = 0, rr = rows, cc = Wk * f; i < k; i++, rr /= 2, cc /= 2) y = halve(y, rr, cc, C);
    reduced.set(y, (r0 / f) * Wk * C);
  }
  return tf.tidy(() => {
    const y = tf.tensor4d(reduced, [1, Hk, Wk, C]);
    return Hk === h && Wk === w ? y : (tf.image.resizeBilinear(y, [h, w], false, true) as tf.Tensor4D);
  });
}

/** The full-resolution normalised L or ab of `img`, `[1, H, W, C]` (for pad mode, whose sizes are capped). */
export function labFull(img: Rgb8Image, channel: 'L' | 'ab'): tf.Tensor4D {
  return tf.tensor4d(labBand(img, 0, img.height, channel), [1, img.height, img.width, channel === 'L' ? 1 : 2]);
}

/** Source row or column pair and weight of output index `i` for an `n → m` bilinear resize with half-pixel centres (float32, as tfjs). */
function lerpIndex(i: number, n: number, m: number): [number, number, number] {
  const f = Math.fround;
  const scale = f(n / m);
  const src = Math.max(0, f(f(f(i + 0.5) * scale) - 0.5));
  const lo = Math.min(n - 1, Math.floor(src));
  const hi = Math.min(n - 1, lo + 1);
  return [lo, hi, f(src - lo)];
}

/** Options of {@link composeRgb8}. */
export interface ComposeOptions {
  /** Pixels per band. Default {@link BAND_PIXELS}. */
  bandPixels?: number;
  /**
   * Edge-aware upsampling (`chromaUpsampling: 'guided'` of `colorizeL`): `L` `[1, h, w, 1]` is the
   * normalised L at the size of `ab` that the model saw (`labAtModelSize(img, 'L', h, w)`; not
   * disposed), with the guided-filter parameters (`guidedChromaOptions(model)`). Absent: bilinear.
   */
  guide?: { L: tf.Tensor4D } & GuidedFilterOptions;
}

/**
 * `normalizedLabToRgb(L, up(ab))` with L from `img`, quantised to 8-bit sRGB (`round(clip(v, 0,
 * 1)·255)`, non-finite → 0), computed on row bands. `up` is `resizeBilinear(ab, [H, W], false,
 * true)`, or with `options.guide` `guidedUpsample(guide.L, ab, L, guide)` (He & Sun 2015: the
 * coefficients `[meanA, meanB]` upsampled bilinearly, then `meanA·L + meanB` per pixel of the band).
 *
 * @param ab `[1, h, w, 2]` normalised ab at any size (not disposed); `h = H, w = W` composes at full resolution.
 * @returns `H·W·3` bytes.
 *
 * @example
 * ```ts
 * const rgb = composeRgb8(img, ab);                                                  // bilinear
 * const edgeAware = composeRgb8(img, ab, { guide: { L: Lsmall, radius: 8, eps: 0.01 } }); // guided
 * ```
 */
export function composeRgb8(img: Rgb8Image, ab: tf.Tensor4D, options: ComposeOptions = {}): Uint8Array {
  const { bandPixels = BAND_PIXELS, guide } = options;
  const { width: W, height: H } = img;
  const [, h] = ab.shape;
  // What is upsampled: ab [1,h,w,2], or the guided-filter coefficients [meanA_a, meanA_b, meanB_a, meanB_b] [1,h,w,4].
  const src = guide ? guidedCoefficients(guide.L, ab, guide) : ab;
  const C = src.shape[3];
  // Along x once, at the model's height: [1, h, W, C].
  const wide = tf.tidy(() => (src.shape[2] === W ? tf.clone(src) : (tf.image.resizeBilinear(src, [h, W], false, true) as tf.Tensor4D)));
  if (src !== ab) src.dispose();
  const X = wide.dataSync() as Float32Array;
  wide.dispose();
  const out = new Uint8Array(H * W * 3);
  const rowsPerBand = Math.max(1, Math.floor(bandPixels / W));
  const f = Math.fround;
  for (let r0 = 0; r0 < H; r0 += rowsPerBand) {
    const rows = Math.min(rowsPerBand, H - r0);
    const band = new Float32Array(rows * W * C);
    for (let r = 0; r < rows; r++) {
      const [y0, y1, a] = h === H ? [r0 + r, r0 + r, 0] : lerpIndex(r0 + r, h, H);
      const t = y0 * W * C;
      const b = y1 * W * C;
      const o = r * W * C;
      for (let j = 0; j < W * C; j++) {
        const top = X[t + j]!;
        band[o + j] = a === 0 ? top : f(top + f(f(X[b + j]! - top) * a));
      }
    }
    const L = labBand(img, r0, rows, 'L');
    let abBand = band;
    if (guide) {
      // ab = meanA·L + meanB per pixel (float32, as the tfjs form).
      abBand = new Float32Array(rows * W * 2);
      for (let p = 0; p < rows * W; p++)
        for (let c = 0; c < 2; c++) abBand[2 * p + c] = f(f(band[4 * p + c]! * L[p]!) + band[4 * p + 2 + c]!);
    }
    normalizedLabToSrgb8(L, abBand, out.subarray(r0 * W * 3, (r0 + rows) * W * 3));
  }
  return out;
}

/**
 * Paints a ring marker per anchor onto 8-bit RGB (white outside, black inside, the anchor's color
 * at the pixel's lightness at the centre); radius `max(3, round(min(H, W)/64))`.
 */
export function drawAnchorMarkers(rgb: Uint8Array, img: Rgb8Image, anchors: ReadonlyArray<{ row: number; col: number; ab: readonly [number, number] }>): void {
  const { width: W, height: H } = img;
  const r = Math.max(3, Math.round(Math.min(H, W) / 64));
  for (const a of anchors) {
    const cy = Math.min(H - 1, Math.max(0, Math.round(a.row)));
    const cx = Math.min(W - 1, Math.max(0, Math.round(a.col)));
    const L = new Float32Array(1);
    srgb8ToNormalizedLab(img.data.subarray((cy * W + cx) * 3, (cy * W + cx) * 3 + 3), L);
    const color = new Uint8Array(3);
    normalizedLabToSrgb8(L, [a.ab[0] / 110, a.ab[1] / 110], color);
    for (let y = cy - r - 2; y <= cy + r + 2; y++)
      for (let x = cx - r - 2; x <= cx + r + 2; x++) {
        if (y < 0 || y >= H || x < 0 || x >= W) continue;
        const d = Math.hypot(y - cy, x - cx);
        const c = d <= r - 1 ? color : d <= r ? [0, 0, 0] : d <= r + 1.5 ? [255, 255, 255] : null;
        if (c) rgb.set(c, (y * W + x) * 3);
      }
  }
}
