/** Feature matrices and their float64 statistics (mean, covariance), shared by FID and KID. */

/**
 * `rows` feature vectors of `cols` numbers each, row-major in `data` (`data[i*cols + j]` is
 * feature j of sample i). Any numeric array works (`Float32Array` from a network, `number[]`).
 */
export interface FeatureMatrix {
  /** Number of samples (images). */
  readonly rows: number;
  /** Feature dimension. */
  readonly cols: number;
  /** `rows*cols` values, row-major. */
  readonly data: ArrayLike<number>;
}

/** Builds a {@link FeatureMatrix} from an array of equally long vectors. */
export function featureMatrix(vectors: readonly ArrayLike<number>[]): FeatureMatrix {
  if (vectors.length === 0) throw new Error('featureMatrix: vectors must not be empty');
  const cols = vectors[0]!.length;
  const data = new Float64Array(vectors.length * cols);
  vectors.forEach((v, i) => {
    if (v.length !== cols) throw new Error(`featureMatrix: vectors[${i}] has length ${v.length}, expected ${cols}`);
    for (let j = 0; j < cols; j++) data[i * cols + j] = v[j]!;
  });
  return { rows: vectors.length, cols, data };
}

/** Checks the shape of a {@link FeatureMatrix} and that every value is finite. */
export function checkFeatures(fn: string, name: string, x: FeatureMatrix, minRows = 1): void {
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.cols < 1 || x.rows < minRows) {
    throw new Error(`${fn}: ${name} must have at least ${minRows} row(s) and 1 column, got ${x.rows}x${x.cols}`);
  }
  if (x.data.length !== x.rows * x.cols) {
    throw new Error(`${fn}: ${name}.data has ${x.data.length} values, expected rows*cols = ${x.rows * x.cols}`);
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i]!)) throw new Error(`${fn}: ${name}.data[${i}] is not finite (${x.data[i]})`);
  }
}

/** Float64 mean and (unbiased, `1/(n-1)`) covariance of a feature set. */
export interface FeatureStatistics {
  /** Number of samples. */
  n: number;
  /** Feature dimension. */
  d: number;
  /** Mean vector, `[d]`. */
  mean: Float64Array;
  /** Covariance `Σ = Xcᵀ Xc / (n-1)`, row-major `[d, d]`. */
  covariance: Float64Array;
}

/** The float64 mean `[d]` of a feature set. */
export function featureMean(x: FeatureMatrix): Float64Array {
  const { rows: n, cols: d, data } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  return mean;
}

/**
 * Centred features scaled by `1/√(n-1)`, row-major `[n, d]`: the factor `A` with `Σ = AᵀA`.
 * Working from `A` instead of `Σ` keeps FID exact and cheap when n < d.
 */
export function covarianceFactor(x: FeatureMatrix, mean: Float64Array = featureMean(x)): Float64Array {
  const { rows: n, cols: d, data } = x;
  const s = 1 / Math.sqrt(n - 1);
  const a = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) a[i * d + j] = (data[i * d + j]! - mean[j]!) * s;
  return a;
}

/**
 * Mean and unbiased covariance in float64 (two-pass: the mean first, then products of centred
 * values). Needs at least 2 samples. O(n·d²).
 */
export function featureStatistics(x: FeatureMatrix): FeatureStatistics {
  checkFeatures('featureStatistics', 'x', x, 2);
  const { rows: n, cols: d } = x;
  const mean = featureMean(x);
  const a = covarianceFactor(x, mean);
  // Transposed factor [d, n] so each covariance entry is a contiguous dot product.
  const at = new Float64Array(d * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) at[j * n + i] = a[i * d + j]!;
  const cov = new Float64Array(d * d);
  for (let p = 0; p < d; p++) {
    const rp = p * n;
    for (let q = 0; q <= p; q++) {
      const rq = q * n;
      let s = 0;
      for (let t = 0; t < n; t++) s += at[rp + t]! * at[rq + t]!;
      cov[p * d + q] = s;
      cov[q * d + p] = s;
    }
  }
  return { n, d, mean, covariance: cov };
}
