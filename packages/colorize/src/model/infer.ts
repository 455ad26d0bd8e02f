/**
 * Colorization at any resolution (Xia et al. 2022, §3–4): run at the model size and upsample ab
 * onto the original L (`resize`, the default), or edge-pad to a multiple of the cell size and crop
 * (`pad`, full-resolution inference). The chroma meets the full-resolution L through a guided
 * filter (He et al. 2013; fast form for upsampling, He & Sun 2015) by default, which removes the
 * steps at the token grid ("superpixel blocks", issue 28), or bilinearly (`chromaUpsampling`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ColorVariant, UserAnchor } from '@disco/anchors';
import { resizeArea } from '@disco/color';
import { isBaselineModel, type ColorizationModel } from './baseline.js';
import { extensionsOf } from './config.js';
import type { DiscoEncoding } from './disco.js';
import { GUIDED_EPS_DEFAULT, guidedFilter, guidedUpsample, type GuidedFilterOptions } from './guided.js';

/** How the predicted ab meets the input's L: see {@link ColorizeOptions.chromaUpsampling}. */
export type ChromaUpsampling = 'guided' | 'bilinear';

/** Options of {@link colorizeL}. */
export interface ColorizeOptions {
  /** `resize` (model size, ab upsampled) or `pad` (full resolution, edge padding). Default `resize`. */
  mode: 'resize' | 'pad';
  /** Number of anchors K; default the model's. */
  anchors?: number;
  /** Anchor-color variants to produce (one result each): `[0]`, or `[0, 1, 2]` for diverse results. Default `[0]`. */
  variants: ColorVariant[];
  /** User anchors in pixel coordinates of the input image, ab in Lab units. */
  userAnchors?: readonly UserAnchor[];
  /** Seed of k-means++. Default 0. */
  seed: number;
  /** What the paper's inference does not have; a field left out takes {@link COLORIZE_NO_EXTENSIONS}. Default `{}`. */
  extensions: Partial<ColorizeExtensions>;
  /**
   * Oracle anchors: the ground-truth ab `[1,H,W,2]` (ab/110) of the same image. Anchors are then
   * located on the true superpixel colors and take their true bins, as in training: the
   * generator's upper bound. `variants` is ignored (one result, variant 0).
   */
  oracle?: tf.Tensor4D;
  /**
   * How the predicted ab (model size, one color per superpixel token refined) meets the input's L:
   * - `guided` (default): a guided filter of ab with L as guide (He et al. 2013), radius
   *   {@link ColorizeOptions.guidedRadius}, computed at the model size and, in `resize` mode, applied
   *   to the full-resolution L (fast guided filter, He & Sun 2015): ab follows the edges of L and
   *   loses the steps at the token grid;
   * - `bilinear`: ab upsampled bilinearly (`resize`) or cropped (`pad`) as the network gave it,
   *   the raw network output (what the golden PNG test pins).
   */
  chromaUpsampling: ChromaUpsampling;
  /**
   * Guided-filter radius r in model-input pixels (integer ≥ 0). Default `⌊(S − 1)/2⌋` for the
   * model's cell size S: the largest window `2r + 1` inside one superpixel (r = 3 for S = 8). On 13
   * held-out photos (r, ε) = (3, 0.001) brought blockiness from 2.48 to 1.14 for `tiny-pf` keeping
   * 61 % of the photos' colorfulness (bilinear: 65 %); r = 4 reached 1.11 but kept 59 %.
   */
  guidedRadius?: number;
  /** Guided-filter regularisation ε > 0 in squared normalised-L units. Default {@link GUIDED_EPS_DEFAULT}. */
  guidedEps?: number;
}

/**
 * Inference options beyond the paper (its inference: the modeler's most probable bin at each
 * anchor, no rebalancing after training).
 *
 * @example
 * ```ts
 * colorizeL(model, L, { extensions: { anchorColors: 'expected', anchorTemperature: 0.38 } });
 * ```
 */
export interface ColorizeExtensions {
  /**
   * Anchor colors of variant 0: `mode` (the modeler's most probable bin, the paper) or `expected`
   * (the bin nearest its annealed-mean color). Variants 1 and 2 always sample.
   */
  anchorColors: 'mode' | 'expected';
  /** Annealed-mean temperature of `anchorColors: 'expected'` (> 0). Left out: the model's decode temperature. */
  anchorTemperature?: number;
  /** Post-hoc rebalancing α ≥ −1 of the predicted anchor colors (see `DiscoForwardOptions.anchorRebalance`); 0: off (the paper). */
  anchorRebalance: number;
}

/** The paper's inference: what a {@link ColorizeExtensions} field left out means. */
export const COLORIZE_NO_EXTENSIONS: Readonly<ColorizeExtensions> = Object.freeze({ anchorColors: 'mode', anchorRebalance: 0 });

/** Defaults of {@link ColorizeOptions}. */
export const COLORIZE_DEFAULTS: Readonly<ColorizeOptions> = Object.freeze({ mode: 'resize', variants: [0 as ColorVariant], seed: 0, chromaUpsampling: 'guided', extensions: Object.freeze({}) });

/**
 * The guided-filter parameters {@link colorizeL} uses for `model` with `options`' `guidedRadius`
 * and `guidedEps` (defaults: `⌊(S − 1)/2⌋` for the cell size S, {@link GUIDED_EPS_DEFAULT}); checked, with
 * one-line errors naming `fn`.
 */
export function guidedChromaOptions(model: ColorizationModel, options: Pick<Partial<ColorizeOptions>, 'guidedRadius' | 'guidedEps'> = {}, fn = 'colorizeL'): GuidedFilterOptions {
  const radius = options.guidedRadius ?? Math.max(1, Math.floor((model.config.cellSize - 1) / 2));
  const eps = options.guidedEps ?? GUIDED_EPS_DEFAULT;
  tf.util.assert(Number.isInteger(radius) && radius >= 0, () => `${fn}: guidedRadius must be an integer ≥ 0, got ${String(radius)}`);
  tf.util.assert(Number.isFinite(eps) && eps > 0, () => `${fn}: guidedEps must be a number > 0, got ${String(eps)}`);
  return { radius, eps };
}

/** One colorization result. */
export interface ColorizeResult {
  /** The anchor-color variant. */
  variant: ColorVariant;
  /** `[1,H,W,2]` normalised ab at the input resolution. */
  ab: tf.Tensor4D;
  /** Anchor centres in input pixel coordinates, with their ab (Lab units). */
  anchors: Array<{ row: number; col: number; ab: [number, number] }>;
}

/**
 * Colorizes one normalised L image `[1,H,W,1]` of any size. The caller owns the returned tensors.
 *
 * A baseline model (`BaselineModel`, `extensions.arch` `regression` or `classification`) gives one result (variant 0,
 * `anchors: []`) with the same geometry (`mode`); `anchors` and `seed` are ignored, and the options
 * that need anchors (`oracle`, `userAnchors`, `anchorColors: 'expected'`, variants other than
 * `[0]`) throw a one-line error.
 */
export function colorizeL(model: ColorizationModel, L: tf.Tensor4D, options: Partial<ColorizeOptions> = {}): ColorizeResult[] {
  const o = { ...COLORIZE_DEFAULTS, ...options };
  const x: ColorizeExtensions = { ...COLORIZE_NO_EXTENSIONS, ...o.extensions };
  const fn = 'colorizeL';
  tf.util.assert(L.rank === 4 && L.shape[0] === 1 && L.shape[3] === 1, () => `${fn}: L must be [1, height, width, 1], got [${L.shape}]`);
  tf.util.assert(o.mode === 'resize' || o.mode === 'pad', () => `${fn}: mode must be resize or pad, got ${String(o.mode)}`);
  tf.util.assert(x.anchorColors === 'mode' || x.anchorColors === 'expected', () => `${fn}: extensions.anchorColors must be mode or expected, got ${String(x.anchorColors)}`);
  tf.util.assert(x.anchorTemperature === undefined || (Number.isFinite(x.anchorTemperature) && x.anchorTemperature > 0), () => `${fn}: extensions.anchorTemperature must be a number > 0, got ${String(x.anchorTemperature)}`);
  tf.util.assert(o.chromaUpsampling === 'guided' || o.chromaUpsampling === 'bilinear', () => `${fn}: chromaUpsampling must be guided or bilinear, got ${String(o.chromaUpsampling)}`);
  const guided = o.chromaUpsampling === 'guided' ? guidedChromaOptions(model, o, fn) : null;
  for (const v of o.variants) tf.util.assert(v === 0 || v === 1 || v === 2, () => `${fn}: variant must be 0, 1 or 2; got ${String(v)}`);
  tf.util.assert(tf.tidy(() => tf.all(tf.isFinite(L)).dataSync()[0]) === 1, () => `${fn}: L contains NaN or Infinity (the input image)`);
  const [, H, W] = L.shape;
  if (isBaselineModel(model)) {
    const needs = o.oracle ? 'oracle anchors' : o.userAnchors ? 'user anchors' : x.anchorColors === 'expected' ? "anchorColors 'expected'" : o.variants.some((v) => v !== 0) ? `diverse variants [${o.variants.join(', ')}]` : null;
    if (needs) throw new Error(`${fn}: ${needs} need a DISCO model; this is the '${extensionsOf(model.config).arch}' baseline, which has no anchors`);
  }
  const S = model.config.cellSize;
  const unit = model.sizeMultiple();
  // Geometry of the model input and the map back to input pixels.
  let inH: number;
  let inW: number;
  if (o.mode === 'resize') {
    inH = model.config.imageSize;
    inW = model.config.imageSize;
  } else {
    inH = Math.ceil(H / unit) * unit;
    inW = Math.ceil(W / unit) * unit;
  }
  const sy = o.mode === 'resize' ? inH / H : 1;
  const sx = o.mode === 'resize' ? inW / W : 1;
  if (o.oracle) tf.util.assert(tf.util.arraysEqual(o.oracle.shape, [1, H, W, 2]), () => `${fn}: oracle ab must be [1, ${H}, ${W}, 2], got [${o.oracle!.shape}]`);
  const toModel = (x: tf.Tensor4D) => tf.tidy(() => (o.mode === 'resize' ? resizeArea(x, inH, inW) : edgePad(x, inH - H, inW - W)));
  const input = toModel(L);
  // Model-size ab → input size: guided by L (resize: coefficients at the model size applied to the
  // input's own L; pad: filtered at full size, then cropped), or bilinear / cropped as predicted.
  const fromModel = (ab: tf.Tensor4D) =>
    tf.tidy(() => {
      if (o.mode === 'resize') return guided ? guidedUpsample(input, ab, L, guided) : (tf.image.resizeBilinear(ab, [H, W], false, true) as tf.Tensor4D);
      return tf.slice(guided ? guidedFilter(input, ab, guided) : ab, [0, 0, 0, 0], [1, H, W, 2]) as tf.Tensor4D;
    });
  const oracleAb = o.oracle ? toModel(o.oracle) : null;
  const user = o.userAnchors ? [o.userAnchors.map((u) => ({ ...u, row: (u.units === 'grid' ? u.row * S : u.row) * sy, col: (u.units === 'grid' ? u.col * S : u.col) * sx, units: 'pixel' as const }))] : undefined;
  const results: ColorizeResult[] = [];
  let encoded: DiscoEncoding | null = null;
  try {
    if (isBaselineModel(model)) {
      const out = model.forward(input);
      out.logits?.dispose();
      const ab = fromModel(out.ab);
      out.ab.dispose();
      return [{ variant: 0, ab, anchors: [] }];
    }
    // Everything before the anchors is the same for every variant: computed once.
    encoded = oracleAb || o.variants.length < 2 ? null : model.encode(input);
    for (const variant of oracleAb ? [0 as ColorVariant] : o.variants) {
      const out = forwardFreeingOnError(() => oracleAb
        ? model.forward(input, oracleAb, { colors: { kind: 'groundTruth' }, locateOn: 'colors', anchors: o.anchors, seed: o.seed, userAnchors: user })
        : model.forward(input, null, { colors: variant === 0 && x.anchorColors === 'expected' ? { kind: 'expected', ...(x.anchorTemperature !== undefined ? { temperature: x.anchorTemperature } : {}) } : { kind: 'sampled', variant }, anchors: o.anchors, seed: o.seed, userAnchors: user, ...(x.anchorRebalance ? { anchorRebalance: x.anchorRebalance } : {}), ...(encoded ? { encoded } : {}) }));
      const ab = fromModel(out.ab);
      const [h, w] = model.grid(inH, inW);
      const mask = out.anchorMask.dataSync();
      const cls = tf.tidy(() => tf.argMax(out.anchorColors, 3).dataSync());
      const bins = model.quantizer.bins.dataSync();
      const anchors: ColorizeResult['anchors'] = [];
      for (let t = 0; t < h * w; t++) {
        if (mask[t] !== 1) continue;
        const r = Math.floor(t / w);
        const c = t % w;
        anchors.push({ row: Math.min(H - 1, ((r + 0.5) * S) / sy), col: Math.min(W - 1, ((c + 0.5) * S) / sx), ab: [bins[2 * cls[t]!]!, bins[2 * cls[t]! + 1]!] });
      }
      tf.dispose(Object.values(out).filter((t) => t) as tf.Tensor[]);
      results.push({ variant, ab, anchors });
    }
  } catch (e) {
    tf.dispose(results.map((r) => r.ab));
    throw e;
  } finally {
    input.dispose();
    oracleAb?.dispose();
    if (encoded) tf.dispose(Object.values(encoded));
  }
  return results;
}

/** Runs a forward pass; if it throws, the tensors it made before throwing are freed. */
function forwardFreeingOnError<T extends object>(run: () => T): T {
  let out: T | undefined;
  let error: unknown = null;
  // A scope keeps what `run` returns and frees the rest when it throws (tidy frees on success too,
  // but only what is not returned).
  tf.engine().startScope();
  try {
    out = run();
  } catch (e) {
    error = e;
  }
  tf.engine().endScope(error === null ? (Object.values(out as object).filter((t) => t instanceof tf.Tensor) as tf.Tensor[]) : []);
  if (error !== null) throw error;
  return out!;
}

/** Pads `[B,H,W,C]` at the bottom and right by repeating the last row and column. Always returns a new tensor (the caller may dispose both). */
export function edgePad(x: tf.Tensor4D, bottom: number, right: number): tf.Tensor4D {
  return tf.tidy(() => {
    let y = tf.clone(x);
    const [B, H, , C] = y.shape;
    if (bottom > 0) y = tf.concat([y, tf.tile(tf.slice(y, [0, H - 1, 0, 0], [B, 1, y.shape[2], C]), [1, bottom, 1, 1])], 1);
    const W = y.shape[2];
    if (right > 0) y = tf.concat([y, tf.tile(tf.slice(y, [0, 0, W - 1, 0], [B, y.shape[1], 1, C]), [1, 1, right, 1])], 2);
    return y;
  });
}
