/**
 * Edge-aware chroma from a lightness guide: the guided filter (He, Sun & Tang, "Guided Image
 * Filtering", ECCV 2010 / TPAMI 2013, Algorithm 1) with a grey guide, and its fast form for
 * upsampling (He & Sun, "Fast Guided Filter", 2015): the local linear coefficients are computed at
 * the low resolution, upsampled bilinearly, and applied to the full-resolution guide.
 *
 * Why: DISCO predicts one color per superpixel token and refines it at the network size, so its ab
 * shows steps at the token grid ("superpixel blocks", issue 28). The guided filter models the
 * output as `q = a·I + b` in every window, so ab follows the edges of L and is smooth where L is
 * smooth; a radius about the superpixel size spreads the token-grid steps that have no edge in L.
 *
 * Box means use cumulative sums (`tf.cumsum`, O(1) per pixel for any radius) with windows clipped
 * at the borders and divided by the number of pixels they hold (He et al.'s `N`), so a constant
 * stays constant up to the edges. Plain tfjs ops: runs in Node and in the browser.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Parameters of the guided filter. */
export interface GuidedFilterOptions {
  /** Window radius r in pixels of the guide the coefficients are computed on (window `(2r+1)²`), an integer ≥ 0. */
  radius: number;
  /** Regularisation ε > 0 (in squared guide units): larger → smoother, less edge-aware. */
  eps: number;
}

/**
 * Default ε for chroma guided by normalised L (`(L − 50)/50`): 0.001 is a standard deviation of
 * about 1.6 Lab units of L, so ab follows even faint edges of L; flat regions are averaged. On 13
 * held-out photos it kept slightly more colorfulness than 0.01 and 0.003 at a lower blockiness.
 * The radius is set by the caller (`colorizeL`: the largest window inside one superpixel).
 */
export const GUIDED_EPS_DEFAULT = 0.001;

function checkArgs(fn: string, guide: tf.Tensor, src: tf.Tensor, options: GuidedFilterOptions): void {
  tf.util.assert(guide.rank === 4 && guide.shape[3] === 1, () => `${fn}: guide must be [batch, height, width, 1], got [${guide.shape}]`);
  tf.util.assert(src.rank === 4, () => `${fn}: src must be [batch, height, width, channels], got [${src.shape}]`);
  tf.util.assert(
    guide.shape[0] === src.shape[0] && guide.shape[1] === src.shape[1] && guide.shape[2] === src.shape[2],
    () => `${fn}: guide [${guide.shape}] and src [${src.shape}] must have the same batch, height and width`,
  );
  tf.util.assert(Number.isInteger(options.radius) && options.radius >= 0, () => `${fn}: radius must be an integer ≥ 0, got ${String(options.radius)}`);
  tf.util.assert(Number.isFinite(options.eps) && options.eps > 0, () => `${fn}: eps must be a number > 0, got ${String(options.eps)}`);
}

/** Sums over windows `[i − r, i + r]` clipped to `[0, n)` along `axis` of `[B,H,W,C]`, via a zero-prefixed cumulative sum. */
function windowSum(x: tf.Tensor4D, r: number, axis: 1 | 2): tf.Tensor4D {
  const n = x.shape[axis];
  const zeroShape = [...x.shape] as [number, number, number, number];
  zeroShape[axis] = 1;
  const c = tf.concat([tf.zeros(zeroShape), tf.cumsum(x, axis)], axis); // C[i] = Σ_{k<i} x[k]: n + 1 along axis
  const hi = tf.tensor1d(Array.from({ length: n }, (_, i) => Math.min(i + r + 1, n)), 'int32');
  const lo = tf.tensor1d(Array.from({ length: n }, (_, i) => Math.max(i - r, 0)), 'int32');
  return tf.sub(tf.gather(c, hi, axis), tf.gather(c, lo, axis));
}

/** Pixels per clipped window along one axis of length n: `min(i + r, n − 1) − max(i − r, 0) + 1`. */
function windowCounts(n: number, r: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.min(i + r, n - 1) - Math.max(i - r, 0) + 1);
}

/** Box mean over `(2r+1)²` windows clipped at the borders (each divided by its own pixel count), `[B,H,W,C]` → same. */
function boxMean(x: tf.Tensor4D, r: number): tf.Tensor4D {
  const [, H, W] = x.shape;
  const count = tf.reshape(tf.outerProduct(tf.tensor1d(windowCounts(H, r)), tf.tensor1d(windowCounts(W, r))), [1, H, W, 1]); // [1,H,W,1]
  return tf.div(windowSum(windowSum(x, r, 1), r, 2), count);
}

/**
 * The averaged local linear coefficients of the guided filter: `q = meanA·I + meanB` (He et al. 2013,
 * Algorithm 1, steps 1–4, grey guide, each channel of `src` filtered independently).
 */
function coefficients(guide: tf.Tensor4D, src: tf.Tensor4D, { radius: r, eps }: GuidedFilterOptions): { a: tf.Tensor4D; b: tf.Tensor4D } {
  const meanI = boxMean(guide, r); // [B,H,W,1]
  const meanP = boxMean(src, r); // [B,H,W,C]
  const varI = tf.sub(boxMean(tf.square(guide), r), tf.square(meanI));
  const covIp = tf.sub(boxMean(tf.mul(guide, src), r), tf.mul(meanI, meanP));
  const a = tf.div(covIp, tf.add(varI, eps)) as tf.Tensor4D; // [B,H,W,C]
  const b = tf.sub(meanP, tf.mul(a, meanI)) as tf.Tensor4D;
  return { a: boxMean(a, r), b: boxMean(b, r) };
}

function guidedFilter_(guide: tf.Tensor4D, src: tf.Tensor4D, options: GuidedFilterOptions): tf.Tensor4D {
  checkArgs('guidedFilter', guide, src, options);
  const { a, b } = coefficients(tf.cast(guide, 'float32'), tf.cast(src, 'float32'), options);
  return tf.add(tf.mul(a, guide), b);
}

/**
 * Guided filter of `src` with a grey guide (He et al. 2010/2013): smooths `src` over windows of
 * radius `radius` while keeping the edges of `guide`. A constant `src` is returned unchanged; a
 * step in `guide` keeps a step in `src`.
 *
 * @param guide `[batch, height, width, 1]` float32 (e.g. normalised L).
 * @param src `[batch, height, width, channels]` float32 (e.g. normalised ab), the same batch and size.
 * @returns `[batch, height, width, channels]` float32; the caller owns it.
 *
 * @example
 * ```ts
 * const ab2 = guidedFilter(L, ab, { radius: 8, eps: 0.01 }); // L [1,64,64,1], ab [1,64,64,2]
 * ```
 */
export const guidedFilter = tf.op({ guidedFilter_ });

function guidedUpsample_(guideLow: tf.Tensor4D, src: tf.Tensor4D, guide: tf.Tensor4D, options: GuidedFilterOptions): tf.Tensor4D {
  checkArgs('guidedUpsample', guideLow, src, options);
  tf.util.assert(guide.rank === 4 && guide.shape[3] === 1 && guide.shape[0] === src.shape[0], () => `guidedUpsample: guide must be [${src.shape[0]}, height, width, 1], got [${guide.shape}]`);
  const [, H, W] = guide.shape;
  const { a, b } = coefficients(tf.cast(guideLow, 'float32'), tf.cast(src, 'float32'), options);
  // Fast guided filter (He & Sun 2015): the coefficients, smooth by construction, upsampled bilinearly
  // (half-pixel centres, as `resizeBilinear` elsewhere in the package): [B,H,W,C] each.
  const up = (x: tf.Tensor4D) => (x.shape[1] === H && x.shape[2] === W ? x : (tf.image.resizeBilinear(x, [H, W], false, true) as tf.Tensor4D));
  return tf.add(tf.mul(up(a), tf.cast(guide, 'float32')), up(b));
}

/**
 * Edge-aware upsampling of low-resolution `src` guided by a full-resolution grey `guide` (fast
 * guided filter, He & Sun 2015): the guided-filter coefficients are computed on `guideLow` (the
 * guide at the size of `src`, e.g. its area-downsampled copy), upsampled bilinearly to the size of
 * `guide`, and applied to it: `q = up(meanA)·guide + up(meanB)`. At equal sizes this is
 * {@link guidedFilter}.
 *
 * @param guideLow `[batch, h, w, 1]` float32, the guide at the size of `src`.
 * @param src `[batch, h, w, channels]` float32.
 * @param guide `[batch, H, W, 1]` float32, the full-resolution guide.
 * @returns `[batch, H, W, channels]` float32; the caller owns it.
 *
 * @example
 * ```ts
 * // ab [1,64,64,2] predicted on Lsmall = resizeArea(L, 64, 64); L [1,480,640,1]
 * const abFull = guidedUpsample(Lsmall, ab, L, { radius: 8, eps: 0.01 }); // [1,480,640,2]
 * ```
 */
export const guidedUpsample = tf.op({ guidedUpsample_ });

/**
 * The coefficients `[meanA, meanB]` of {@link guidedFilter} concatenated along channels: `[B,h,w,2C]`
 * (for band-wise upsampling outside tfjs, as `composeRgb8` does). Package-internal.
 */
export function guidedCoefficients(guide: tf.Tensor4D, src: tf.Tensor4D, options: GuidedFilterOptions): tf.Tensor4D {
  checkArgs('guidedCoefficients', guide, src, options);
  return tf.tidy(() => {
    const { a, b } = coefficients(tf.cast(guide, 'float32'), tf.cast(src, 'float32'), options);
    return tf.concat([a, b], 3);
  });
}
