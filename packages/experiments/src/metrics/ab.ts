/**
 * Accuracy of predicted chroma against the ground truth in CIE Lab, as in Zhang, Isola & Efros,
 * "Colorful Image Colorization" (ECCV 2016, §3.1): the per-pixel Euclidean ab error, and the area
 * under the curve of the fraction of pixels within ab distance t, for t = 0 … 150.
 */

/** Per-image chroma accuracy. */
export interface AbAccuracy {
  /** Mean over pixels of ‖ab_pred − ab_true‖₂ (Lab units). */
  meanError: number;
  /**
   * Area under the cumulative error curve: mean over t = 0, 1, …, `maxThreshold` of the fraction
   * of pixels with error ≤ t, in [0, 1] (1: every pixel exact).
   */
  auc: number;
  /** Number of pixels scored. */
  pixels: number;
}

/** Shares of strongly colored pixels (Lab a axis: green < −10, red > 15). */
export interface ColorShares {
  /** Fraction of pixels with a < −10 (green). */
  green: number;
  /** Fraction of pixels with a > 15 (red). */
  red: number;
}

/** Thresholds of {@link abAccuracy}'s curve run from 0 to this value (Zhang et al. 2016: 150). */
export const AUC_MAX_THRESHOLD = 150;

function checkAb(where: string, name: string, ab: ArrayLike<number>): void {
  if (ab.length === 0 || ab.length % 2 !== 0) throw new Error(`${where}: ${name} must hold interleaved [a, b] pairs (even, non-zero length), got ${ab.length} values`);
}

/**
 * Chroma accuracy of one image.
 *
 * @param pred Predicted ab, interleaved `[a0, b0, a1, b1, …]` in Lab units (pixels row-major).
 * @param truth Ground-truth ab, same layout and length.
 * @param maxThreshold Last threshold of the curve (integer ≥ 1). Default 150.
 *
 * @example
 * ```ts
 * abAccuracy([0, 0], [3, 4]); // { meanError: 5, auc: 146 / 151, pixels: 1 }
 * ```
 */
export function abAccuracy(pred: ArrayLike<number>, truth: ArrayLike<number>, maxThreshold = AUC_MAX_THRESHOLD): AbAccuracy {
  const fn = 'abAccuracy';
  checkAb(fn, 'pred', pred);
  checkAb(fn, 'truth', truth);
  if (pred.length !== truth.length) throw new Error(`${fn}: pred has ${pred.length / 2} pixels, truth ${truth.length / 2}`);
  if (!Number.isInteger(maxThreshold) || maxThreshold < 1) throw new Error(`${fn}: maxThreshold must be an integer ≥ 1, got ${maxThreshold}`);
  const n = pred.length / 2;
  // hist[k]: pixels whose error lies in (k−1, k] (k = 0: error 0 exactly); errors > max are not counted.
  const hist = new Float64Array(maxThreshold + 1);
  let sum = 0;
  for (let p = 0; p < n; p++) {
    const e = Math.hypot(pred[2 * p]! - truth[2 * p]!, pred[2 * p + 1]! - truth[2 * p + 1]!);
    if (!Number.isFinite(e)) throw new Error(`${fn}: non-finite value at pixel ${p}`);
    sum += e;
    const k = Math.ceil(e);
    if (k <= maxThreshold) hist[k]! += 1;
  }
  let within = 0;
  let area = 0;
  for (let t = 0; t <= maxThreshold; t++) {
    within += hist[t]!;
    area += within / n;
  }
  return { meanError: sum / n, auc: area / (maxThreshold + 1), pixels: n };
}

/**
 * Fractions of green (a < −10) and red (a > 15) pixels of an ab image.
 *
 * @param ab Interleaved `[a, b]` pairs in Lab units.
 *
 * @example
 * ```ts
 * colorShares([-20, 0, 30, 0, 0, 0, 5, 5]); // { green: 0.25, red: 0.25 }
 * ```
 */
export function colorShares(ab: ArrayLike<number>): ColorShares {
  checkAb('colorShares', 'ab', ab);
  const n = ab.length / 2;
  let green = 0;
  let red = 0;
  for (let p = 0; p < n; p++) {
    const a = ab[2 * p]!;
    if (a < -10) green++;
    else if (a > 15) red++;
  }
  return { green: green / n, red: red / n };
}

/**
 * Error histograms per true color class, for Zhang et al.'s (ECCV 2016, §3.1) class-rebalanced
 * AuC: each pixel weighted inversely by the frequency of its true color class (one of the 313 ab
 * bins), the frequencies taken over every pixel added. With those weights every class present
 * carries the same total weight, so the rebalanced AuC is the mean over the classes present of
 * each class's own AuC (t = 0 … `maxThreshold`); rare colors (reds, blues) count as much as the
 * common greys and browns. Accumulates over images; plain arrays, browser-safe.
 *
 * @example
 * ```ts
 * const h = new ClassErrorHistogram();
 * h.add([0, 0, 0, 0], [3, 4, 0, 0], [5, 7]); // two pixels, true classes 5 and 7
 * h.rebalancedAuc();                          // (146/151 + 1) / 2
 * ```
 */
export class ClassErrorHistogram {
  /** Number of color classes. */
  readonly classes: number;
  /** Last threshold of the curve. */
  readonly maxThreshold: number;
  private readonly counts: Float64Array; // [classes, maxThreshold + 2]: last slot, errors > max
  /**
   * @param classes Number of color classes. Default 313.
   * @param maxThreshold Last threshold of the curve (integer ≥ 1). Default 150.
   */
  constructor(classes = 313, maxThreshold = AUC_MAX_THRESHOLD) {
    if (!Number.isInteger(classes) || classes < 1) throw new Error(`ClassErrorHistogram: classes must be an integer ≥ 1, got ${classes}`);
    if (!Number.isInteger(maxThreshold) || maxThreshold < 1) throw new Error(`ClassErrorHistogram: maxThreshold must be an integer ≥ 1, got ${maxThreshold}`);
    this.classes = classes;
    this.maxThreshold = maxThreshold;
    this.counts = new Float64Array(classes * (maxThreshold + 2));
  }

  /**
   * Adds one image.
   *
   * @param pred Predicted ab, interleaved `[a0, b0, …]` in Lab units.
   * @param truth Ground-truth ab, same layout.
   * @param classOf The true color class of each pixel (integers in [0, classes)).
   */
  add(pred: ArrayLike<number>, truth: ArrayLike<number>, classOf: ArrayLike<number>): void {
    const fn = 'ClassErrorHistogram.add';
    checkAb(fn, 'pred', pred);
    checkAb(fn, 'truth', truth);
    const n = pred.length / 2;
    if (truth.length !== pred.length || classOf.length !== n) throw new Error(`${fn}: pred, truth and classOf must cover the same pixels, got ${n}, ${truth.length / 2}, ${classOf.length}`);
    const slots = this.maxThreshold + 2;
    for (let p = 0; p < n; p++) {
      const c = classOf[p]!;
      if (!Number.isInteger(c) || c < 0 || c >= this.classes) throw new Error(`${fn}: class ${c} of pixel ${p} is outside [0, ${this.classes})`);
      const e = Math.hypot(pred[2 * p]! - truth[2 * p]!, pred[2 * p + 1]! - truth[2 * p + 1]!);
      if (!Number.isFinite(e)) throw new Error(`${fn}: non-finite value at pixel ${p}`);
      this.counts[c * slots + Math.min(Math.ceil(e), this.maxThreshold + 1)]! += 1;
    }
  }

  /** The class-rebalanced AuC in [0, 1]: the mean over classes present of their AuC; NaN before any pixel. */
  rebalancedAuc(): number {
    const slots = this.maxThreshold + 2;
    let sum = 0;
    let present = 0;
    for (let c = 0; c < this.classes; c++) {
      let total = 0;
      for (let k = 0; k < slots; k++) total += this.counts[c * slots + k]!;
      if (total === 0) continue;
      let within = 0;
      let area = 0;
      for (let t = 0; t <= this.maxThreshold; t++) {
        within += this.counts[c * slots + t]!;
        area += within / total;
      }
      sum += area / (this.maxThreshold + 1);
      present++;
    }
    return present === 0 ? NaN : sum / present;
  }
}

/**
 * Blockiness of a chroma image at a token grid: the mean ab step `‖ab(p) − ab(q)‖₂` between
 * neighbouring pixels p, q (right and down) that lie in different grid cells, divided by the mean
 * step between neighbours in the same cell. A grid of `rows × cols` cells spans the image (cell
 * of pixel (y, x): `⌊y·rows/H⌋, ⌊x·cols/W⌋`, the token grid of a model run at its own size and
 * upsampled). 1: no edge at the grid lines; patches of constant color per token give far more.
 * Issue 28 measured 1.07 for real photographs on the tiny model's 8×8 grid, 1.57 for its outputs.
 * NaN when either mean is undefined or zero (e.g. an all-grey output).
 *
 * @param ab Interleaved `[a, b]` pairs in Lab units, row-major `[height, width]`.
 *
 * @example
 * ```ts
 * blockiness(ab, 48, 64, 8, 8); // ≈ 1 for a photo, > 1.5 for blocky colors
 * ```
 */
export function blockiness(ab: ArrayLike<number>, height: number, width: number, rows: number, cols: number): number {
  checkAb('blockiness', 'ab', ab);
  if (ab.length !== 2 * height * width) throw new Error(`blockiness: ab holds ${ab.length / 2} pixels, not ${height}×${width}`);
  for (const [k, v] of [['rows', rows], ['cols', cols]] as const) if (!Number.isInteger(v) || v < 1) throw new Error(`blockiness: ${k} must be an integer ≥ 1, got ${v}`);
  const cy = Array.from({ length: height }, (_, y) => Math.floor((y * rows) / height));
  const cx = Array.from({ length: width }, (_, x) => Math.floor((x * cols) / width));
  let across = 0;
  let nAcross = 0;
  let within = 0;
  let nWithin = 0;
  // One step between neighbours p and q: across a grid line when their cells differ, else within.
  const add = (p: number, q: number, crosses: boolean): void => {
    const d = Math.hypot(ab[2 * p]! - ab[2 * q]!, ab[2 * p + 1]! - ab[2 * q + 1]!);
    if (crosses) {
      across += d;
      nAcross++;
    } else {
      within += d;
      nWithin++;
    }
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (x + 1 < width) add(p, p + 1, cx[x] !== cx[x + 1]);
      if (y + 1 < height) add(p, p + width, cy[y] !== cy[y + 1]);
    }
  }
  const inside = within / nWithin;
  return nAcross === 0 || nWithin === 0 || inside === 0 ? NaN : across / nAcross / inside;
}
