/**
 * Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of the squared maximum
 * mean discrepancy with the cubic polynomial kernel `k(x, y) = (xᵀy / d + 1)³`, averaged over
 * random subsets.
 */
import { checkInteger, mulberry32, rejectUnknownKeys } from '../internal/options.js';
import { checkFeatures, type FeatureMatrix } from './features.js';

/** Options of {@link kernelInceptionDistance}. */
export interface KidOptions {
  /** Number of random subset pairs. Default 100. */
  subsets: number;
  /** Samples per subset, clamped to `min(n1, n2)`. Default 1000. */
  subsetSize: number;
  /** Seed of the subset draws. Default 0. */
  seed: number;
}

/** Defaults of {@link KidOptions}. */
export const KID_DEFAULTS: Readonly<KidOptions> = Object.freeze({ subsets: 100, subsetSize: 1000, seed: 0 });

/** Copies and validates {@link KidOptions}; rejects unknown keys. */
export function resolveKidOptions(partial: Partial<KidOptions> = {}): KidOptions {
  rejectUnknownKeys('resolveKidOptions', partial, KID_DEFAULTS);
  const o: KidOptions = { ...KID_DEFAULTS, ...partial };
  checkInteger('resolveKidOptions', 'subsets', o.subsets, 1);
  checkInteger('resolveKidOptions', 'subsetSize', o.subsetSize, 2);
  checkInteger('resolveKidOptions', 'seed', o.seed, 0, 2 ** 32 - 1);
  return o;
}

/** KID over subsets. */
export interface KidResult {
  /** Mean of the per-subset unbiased MMD² estimates (may be slightly negative: it is unbiased). */
  mean: number;
  /** Population standard deviation (ddof 0) of the per-subset estimates. */
  std: number;
  /** Per-subset estimates. */
  values: number[];
  /** The subset size used (`min(subsetSize, n1, n2)`). */
  subsetSize: number;
}

/**
 * Unbiased MMD² between two samples (all rows used, no subsets):
 * `Σ_{i≠j} k(x_i,x_j) / (m(m-1)) + Σ_{i≠j} k(y_i,y_j) / (n(n-1)) - 2 Σ_{i,j} k(x_i,y_j) / (mn)`
 * with `k(x, y) = (xᵀy / d + 1)³`, accumulated in float64.
 */
export function polynomialMmd2(x: FeatureMatrix, y: FeatureMatrix): number {
  checkFeatures('polynomialMmd2', 'x', x, 2);
  checkFeatures('polynomialMmd2', 'y', y, 2);
  if (x.cols !== y.cols) throw new Error(`polynomialMmd2: y has ${y.cols} features, x has ${x.cols}`);
  const all = (k: number): number[] => Array.from({ length: k }, (_, i) => i);
  return mmd2(kernelFn(x, y), all(x.rows), all(y.rows), x.rows);
}

/** `k(i, j)` over the concatenation `[x; y]` (row i < n1 is from x). */
function kernelFn(x: FeatureMatrix, y: FeatureMatrix): (i: number, j: number) => number {
  const d = x.cols;
  const n1 = x.rows;
  const n = n1 + y.rows;
  const row = (i: number): [ArrayLike<number>, number] => (i < n1 ? [x.data, i * d] : [y.data, (i - n1) * d]);
  const direct = (i: number, j: number): number => {
    const [a, ai] = row(i);
    const [b, bj] = row(j);
    let s = 0;
    for (let t = 0; t < d; t++) s += a[ai + t]! * b[bj + t]!;
    return (s / d + 1) ** 3;
  };
  // Cache the whole kernel matrix when it is small enough (≤ 2^24 entries, 128 MiB); else compute on demand.
  if (n * n > 2 ** 24) return direct;
  const cache = new Float64Array(n * n).fill(NaN);
  return (i, j) => {
    let v = cache[i * n + j]!;
    if (Number.isNaN(v)) {
      v = direct(i, j);
      cache[i * n + j] = v;
      cache[j * n + i] = v;
    }
    return v;
  };
}

/** Unbiased MMD² for index sets `ix` (into x) and `iy` (into y); y's rows sit at `yOffset + j` in `k`. */
function mmd2(k: (i: number, j: number) => number, ix: number[], iy: number[], yOffset: number): number {
  const m = ix.length;
  const n = iy.length;
  let kxx = 0;
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) kxx += k(ix[a]!, ix[b]!);
  let kyy = 0;
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) kyy += k(iy[a]! + yOffset, iy[b]! + yOffset);
  let kxy = 0;
  for (let a = 0; a < m; a++) for (let b = 0; b < n; b++) kxy += k(ix[a]!, iy[b]! + yOffset);
  return (2 * kxx) / (m * (m - 1)) + (2 * kyy) / (n * (n - 1)) - (2 * kxy) / (m * n);
}

/** `count` distinct indices from `[0, n)` (partial Fisher–Yates). */
function sampleIndices(n: number, count: number, rnd: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rnd() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, count);
}

/**
 * KID between feature sets `[n1, d]` and `[n2, d]`: for each of `subsets` rounds, draw
 * `min(subsetSize, n1, n2)` rows without replacement from each set (seeded) and compute the
 * unbiased polynomial-kernel MMD²; report mean and std. Unlike FID it is unbiased, so it is
 * better behaved on small sets. Cost O(subsets · m² · d) (kernel values cached when n1+n2 ≤ 4096).
 */
export function kernelInceptionDistance(x: FeatureMatrix, y: FeatureMatrix, options: Partial<KidOptions> = {}): KidResult {
  const o = resolveKidOptions(options);
  checkFeatures('kernelInceptionDistance', 'x', x, 2);
  checkFeatures('kernelInceptionDistance', 'y', y, 2);
  if (x.cols !== y.cols) throw new Error(`kernelInceptionDistance: y has ${y.cols} features, x has ${x.cols}`);
  const m = Math.min(o.subsetSize, x.rows, y.rows);
  const k = kernelFn(x, y);
  const rnd = mulberry32(o.seed);
  const values: number[] = [];
  for (let s = 0; s < o.subsets; s++) {
    const ix = sampleIndices(x.rows, m, rnd);
    const iy = sampleIndices(y.rows, m, rnd);
    values.push(mmd2(k, ix, iy, x.rows));
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std, values, subsetSize: m };
}
