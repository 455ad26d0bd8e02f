/**
 * Inception Score (Salimans et al. 2016): `IS = exp(E_x KL(p(y|x) ‖ p(y)))` over the class
 * probabilities of a classifier, mean and std over splits.
 */
import { checkInteger, rejectUnknownKeys } from '../internal/options.js';
import { checkFeatures, type FeatureMatrix } from './features.js';

/** Options of {@link inceptionScore}. */
export interface InceptionScoreOptions {
  /** Number of consecutive splits the score is computed on. Default 10 (as in the paper's code). */
  splits: number;
  /** How far a row's sum may be from 1. Default 1e-3. */
  sumTolerance: number;
}

/** Defaults of {@link InceptionScoreOptions}. */
export const INCEPTION_SCORE_DEFAULTS: Readonly<InceptionScoreOptions> = Object.freeze({ splits: 10, sumTolerance: 1e-3 });

/** Copies and validates {@link InceptionScoreOptions}; rejects unknown keys. */
export function resolveInceptionScoreOptions(partial: Partial<InceptionScoreOptions> = {}): InceptionScoreOptions {
  rejectUnknownKeys('resolveInceptionScoreOptions', partial, INCEPTION_SCORE_DEFAULTS);
  const o: InceptionScoreOptions = { ...INCEPTION_SCORE_DEFAULTS, ...partial };
  checkInteger('resolveInceptionScoreOptions', 'splits', o.splits, 1);
  if (!(o.sumTolerance > 0 && o.sumTolerance < 1)) {
    throw new Error(`resolveInceptionScoreOptions: sumTolerance must be in (0, 1), got ${o.sumTolerance}`);
  }
  return o;
}

/** Inception Score over splits. */
export interface InceptionScoreResult {
  /** Mean of the per-split scores. */
  mean: number;
  /** Population standard deviation (ddof 0, as `np.std`) of the per-split scores. */
  std: number;
  /** Per-split scores. */
  values: number[];
}

/**
 * IS from class probabilities `[n, classes]` (rows sum to 1). Split k holds rows
 * `floor(k·n/s) .. floor((k+1)·n/s) - 1`, so every row is used; within a split,
 * `p(y)` is the split's mean row and the score is `exp(mean_x Σ_y p(y|x) (log p(y|x) - log p(y)))`
 * with `0·log 0 = 0`. Ranges from 1 (every row equal) to the number of classes (confident and
 * evenly spread predictions). Needs `n ≥ splits`.
 */
export function inceptionScore(probs: FeatureMatrix, options: Partial<InceptionScoreOptions> = {}): InceptionScoreResult {
  const { splits, sumTolerance } = resolveInceptionScoreOptions(options);
  checkFeatures('inceptionScore', 'probs', probs, 1);
  const { rows: n, cols: c, data } = probs;
  if (n < splits) throw new Error(`inceptionScore: probs has ${n} rows, fewer than splits = ${splits}`);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) {
      const p = data[i * c + j]!;
      if (p < 0) throw new Error(`inceptionScore: probs[${i}][${j}] = ${p} is negative`);
      s += p;
    }
    if (Math.abs(s - 1) > sumTolerance) throw new Error(`inceptionScore: probs row ${i} sums to ${s}, expected 1 ± ${sumTolerance}`);
  }
  const values: number[] = [];
  for (let k = 0; k < splits; k++) {
    const lo = Math.floor((k * n) / splits);
    const hi = Math.floor(((k + 1) * n) / splits);
    const py = new Float64Array(c);
    for (let i = lo; i < hi; i++) for (let j = 0; j < c; j++) py[j] = py[j]! + data[i * c + j]!;
    for (let j = 0; j < c; j++) py[j] = py[j]! / (hi - lo);
    let kl = 0;
    for (let i = lo; i < hi; i++) {
      for (let j = 0; j < c; j++) {
        const p = data[i * c + j]!;
        if (p > 0) kl += p * (Math.log(p) - Math.log(py[j]!));
      }
    }
    values.push(Math.exp(kl / (hi - lo)));
  }
  const mean = values.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std, values };
}

/**
 * Row-wise softmax in float64 of logits `[n, classes]` (each row shifted by its maximum), e.g. the
 * FID Inception network's 1008 logits → the class probabilities of {@link inceptionScore}.
 *
 * @example
 * ```ts
 * const probs = softmaxRows({ rows: 1, cols: 3, data: [0, 0, Math.log(2)] }); // [0.25, 0.25, 0.5]
 * inceptionScore({ rows: n, cols: 1008, data: softmaxRows(logits) }, { splits: 10 });
 * ```
 */
export function softmaxRows(logits: FeatureMatrix): Float64Array {
  checkFeatures('softmaxRows', 'logits', logits, 1);
  const { rows, cols, data } = logits;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, data[i * cols + j]!);
    let s = 0;
    for (let j = 0; j < cols; j++) s += out[i * cols + j] = Math.exp(data[i * cols + j]! - m);
    for (let j = 0; j < cols; j++) out[i * cols + j] = out[i * cols + j]! / s;
  }
  return out;
}
