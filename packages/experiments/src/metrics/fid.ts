/**
 * Fréchet Inception Distance (Heusel et al. 2017) from feature sets, in float64:
 * `FID = ‖μ1-μ2‖² + Tr(Σ1) + Tr(Σ2) - 2 Tr((Σ1 Σ2)^{1/2})`.
 */
import { eigenTolerance, gramRows, multiplyABt, symmetricEigen, traceSqrtPsd } from '../internal/linalg.js';
import { checkOneOf, rejectUnknownKeys } from '../internal/options.js';
import { checkFeatures, covarianceFactor, featureMean, featureStatistics, type FeatureMatrix } from './features.js';

/** How {@link frechetInceptionDistance} computes `Tr((Σ1 Σ2)^{1/2})`. */
export type FidMethod = 'auto' | 'dense' | 'gram';

/** Every valid {@link FidMethod}. */
export const FID_METHODS: readonly FidMethod[] = Object.freeze(['auto', 'dense', 'gram']);

/** Options of {@link frechetInceptionDistance}. */
export interface FidOptions {
  /**
   * `dense`: d×d covariances and a d×d symmetric eigen-decomposition (O(d³)).
   * `gram`: works with the centred feature matrices (`Σ = AᵀA`, `A` `[n, d]`) so the eigenproblem
   * is only `min(n1, n2)`-sized. `auto` (default): `gram` for a set with n ≤ d, `dense` otherwise.
   * All three give the same value up to rounding.
   */
  method: FidMethod;
}

/** Defaults of {@link FidOptions}. */
export const FID_DEFAULTS: Readonly<FidOptions> = Object.freeze({ method: 'auto' });

/** Copies and validates {@link FidOptions}; rejects unknown keys. */
export function resolveFidOptions(partial: Partial<FidOptions> = {}): FidOptions {
  rejectUnknownKeys('resolveFidOptions', partial, FID_DEFAULTS);
  const o: FidOptions = { ...FID_DEFAULTS, ...partial };
  checkOneOf('resolveFidOptions', 'method', o.method, FID_METHODS);
  return o;
}

/** The parts of an FID value. */
export interface FidResult {
  /** The distance, `meanTerm + traceTerm`, clamped to ≥ 0. */
  fid: number;
  /** `‖μ1-μ2‖²`. */
  meanTerm: number;
  /** `Tr(Σ1) + Tr(Σ2) - 2 Tr((Σ1 Σ2)^{1/2})`. */
  traceTerm: number;
  /** `Tr((Σ1 Σ2)^{1/2})`. */
  traceSqrt: number;
  /** The route each set's covariance took: `gram` (centred features) or `dense` (d×d). */
  routes: [ 'gram' | 'dense', 'gram' | 'dense' ];
}

/** A covariance either as a factor `A` `[r, d]` with `Σ = AᵀA`, or as the dense `[d, d]` matrix. */
type Cov = { kind: 'factor'; a: Float64Array; r: number } | { kind: 'dense'; s: Float64Array };

function traceOf(c: Cov, d: number): number {
  let t = 0;
  if (c.kind === 'factor') for (const v of c.a) t += v * v;
  else for (let i = 0; i < d; i++) t += c.s[i * d + i]!;
  return t;
}

/** `Σ = V Λ Vᵀ` → factor `Λ₊^{1/2} Vᵀ` (rows √λ_j v_j for λ_j above the rank tolerance): `Σ ≈ AᵀA`. */
function factorOfDense(s: Float64Array, d: number): { a: Float64Array; r: number } {
  const { values, vectors } = symmetricEigen(s, d, true);
  const tol = eigenTolerance(values, d);
  const keep: number[] = [];
  for (let j = 0; j < d; j++) if (values[j]! > tol) keep.push(j);
  const a = new Float64Array(keep.length * d);
  keep.forEach((j, row) => {
    const w = Math.sqrt(values[j]!);
    for (let k = 0; k < d; k++) a[row * d + k] = w * vectors![j * d + k]!;
  });
  return { a, r: keep.length };
}

/**
 * `Tr((Σ1 Σ2)^{1/2})`, the sum of square roots of the eigenvalues of `Σ1 Σ2` (which are real and
 * ≥ 0 for PSD matrices; negative rounding noise is clamped to 0). With `Σ1 = A1ᵀA1` the nonzero
 * eigenvalues of `Σ1 Σ2` are those of the symmetric `A1 Σ2 A1ᵀ`; if also `Σ2 = A2ᵀA2` they are the
 * squared singular values of `M = A1 A2ᵀ`, i.e. the eigenvalues of `M Mᵀ` or `Mᵀ M`.
 */
function traceSqrtProduct(c1: Cov, c2: Cov, d: number): number {
  if (c1.kind === 'dense' && c2.kind === 'factor') return traceSqrtProduct(c2, c1, d);
  if (c1.kind === 'dense' && c2.kind === 'dense') {
    const f = factorOfDense(c1.s, d);
    return traceSqrtProduct({ kind: 'factor', a: f.a, r: f.r }, c2, d);
  }
  const f1 = c1 as { kind: 'factor'; a: Float64Array; r: number };
  if (f1.r === 0) return 0;
  if (c2.kind === 'factor') {
    if (c2.r === 0) return 0;
    const m = multiplyABt(f1.a, f1.r, c2.a, c2.r, d); // [r1, r2]
    if (f1.r <= c2.r) return traceSqrtPsd(gramRows(m, f1.r, c2.r), f1.r); // M Mᵀ [r1, r1]
    const mt = new Float64Array(c2.r * f1.r);
    for (let i = 0; i < f1.r; i++) for (let j = 0; j < c2.r; j++) mt[j * f1.r + i] = m[i * c2.r + j]!;
    return traceSqrtPsd(gramRows(mt, c2.r, f1.r), c2.r); // Mᵀ M [r2, r2]
  }
  // A1 Σ2 A1ᵀ: T = A1 Σ2 ([r1, d], Σ2 symmetric so its rows are its columns), then T A1ᵀ [r1, r1].
  const t = multiplyABt(f1.a, f1.r, c2.s, d, d);
  const c = multiplyABt(t, f1.r, f1.a, f1.r, d);
  for (let i = 0; i < f1.r; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (c[i * f1.r + j]! + c[j * f1.r + i]!);
      c[i * f1.r + j] = v;
      c[j * f1.r + i] = v;
    }
  }
  return traceSqrtPsd(c, f1.r);
}

function finish(mu1: Float64Array, mu2: Float64Array, c1: Cov, c2: Cov, d: number): FidResult {
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (mu1[j]! - mu2[j]!) ** 2;
  const traceSqrt = traceSqrtProduct(c1, c2, d);
  const traceTerm = traceOf(c1, d) + traceOf(c2, d) - 2 * traceSqrt;
  const fid = Math.max(0, meanTerm + traceTerm);
  return { fid, meanTerm, traceTerm, traceSqrt, routes: [c1.kind === 'factor' ? 'gram' : 'dense', c2.kind === 'factor' ? 'gram' : 'dense'] };
}

/**
 * FID between two feature sets `[n1, d]` and `[n2, d]` (each n ≥ 2). Means and covariances are
 * float64; covariances are unbiased (`1/(n-1)`, as numpy's `np.cov` in the reference code).
 * Rank-deficient covariances (n ≤ d) are exact through the Gram route; the result is never NaN and
 * never negative (rounding below 0 is clamped).
 *
 * @example
 * ```ts
 * const { fid } = frechetInceptionDistance(realFeatures, fakeFeatures);
 * ```
 */
export function frechetInceptionDistance(x1: FeatureMatrix, x2: FeatureMatrix, options: Partial<FidOptions> = {}): FidResult {
  const { method } = resolveFidOptions(options);
  checkFeatures('frechetInceptionDistance', 'x1', x1, 2);
  checkFeatures('frechetInceptionDistance', 'x2', x2, 2);
  if (x1.cols !== x2.cols) throw new Error(`frechetInceptionDistance: x2 has ${x2.cols} features, x1 has ${x1.cols}`);
  const d = x1.cols;
  const prep = (x: FeatureMatrix): { mu: Float64Array; c: Cov } => {
    const useGram = method === 'gram' || (method === 'auto' && x.rows <= d);
    if (useGram) {
      const mu = featureMean(x);
      return { mu, c: { kind: 'factor', a: covarianceFactor(x, mu), r: x.rows } };
    }
    const st = featureStatistics(x);
    return { mu: st.mean, c: { kind: 'dense', s: st.covariance } };
  };
  const a = prep(x1);
  const b = prep(x2);
  return finish(a.mu, b.mu, a.c, b.c, d);
}

/**
 * Fréchet distance between two Gaussians `N(μ1, Σ1)` and `N(μ2, Σ2)` given densely (`μ` `[d]`,
 * `Σ` row-major `[d, d]`, symmetric positive semi-definite). Uses the eigen-decomposition of `Σ1`
 * and the symmetric form `Σ1^{1/2} Σ2 Σ1^{1/2}`; clamped to ≥ 0.
 */
export function frechetDistance(mu1: ArrayLike<number>, sigma1: ArrayLike<number>, mu2: ArrayLike<number>, sigma2: ArrayLike<number>): FidResult {
  const d = mu1.length;
  if (mu2.length !== d) throw new Error(`frechetDistance: mu2 has length ${mu2.length}, mu1 has ${d}`);
  if (sigma1.length !== d * d) throw new Error(`frechetDistance: sigma1 has ${sigma1.length} entries, expected ${d}*${d}`);
  if (sigma2.length !== d * d) throw new Error(`frechetDistance: sigma2 has ${sigma2.length} entries, expected ${d}*${d}`);
  const sym = (s: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = 0.5 * (s[i * d + j]! + s[j * d + i]!);
    return out;
  };
  return finish(Float64Array.from(mu1), Float64Array.from(mu2), { kind: 'dense', s: sym(sigma1) }, { kind: 'dense', s: sym(sigma2) }, d);
}
