/**
 * Float64 dense linear algebra in plain JS for the metrics: symmetric eigen-decomposition
 * (Householder tridiagonalisation + implicit QL), products of row-major matrices.
 *
 * Matrices are row-major `Float64Array`s of `n*n` (or `r*c`) entries.
 */

/** Result of {@link symmetricEigen}. */
export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Eigenvectors as rows (`vectors[j*n + k]` is entry k of eigenvector j), or null. */
  vectors: Float64Array | null;
}

/**
 * Eigen-decomposition of a symmetric `n×n` matrix (only the matrix's symmetry is assumed, both
 * triangles are read). Householder reduction to tridiagonal form, then the implicit QL algorithm
 * with Wilkinson-like shifts (the EISPACK tred2/tql2 scheme). The working matrix is stored
 * transposed so that every inner loop walks memory contiguously. O(n³); eigenvalues only
 * (`wantVectors = false`) skips the accumulation of the transforms.
 */
export function symmetricEigen(a: Float64Array, n: number, wantVectors = true): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: a has ${a.length} entries, expected ${n}*${n}`);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: wantVectors ? new Float64Array(0) : null };
  // W[c*n + r] = V[r][c]: the transpose of the JAMA working matrix V (a is symmetric, so W = a).
  const W = Float64Array.from(a);
  tridiagonalize(W, n, d, e, wantVectors);
  qlImplicit(W, n, d, e, wantVectors);
  // Sort ascending (selection sort on values, swapping vector rows).
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i]!;
    for (let j = i + 1; j < n; j++) {
      if (d[j]! < p) {
        k = j;
        p = d[j]!;
      }
    }
    if (k !== i) {
      d[k] = d[i]!;
      d[i] = p;
      if (wantVectors) {
        const ri = i * n;
        const rk = k * n;
        for (let j = 0; j < n; j++) {
          const t = W[ri + j]!;
          W[ri + j] = W[rk + j]!;
          W[rk + j] = t;
        }
      }
    }
  }
  return { values: d, vectors: wantVectors ? W : null };
}

/** Householder reduction; on return d holds the diagonal, e the sub-diagonal (e[0] = 0). */
function tridiagonalize(W: Float64Array, n: number, d: Float64Array, e: Float64Array, wantVectors: boolean): void {
  // V[r][c] is W[c*n + r].
  for (let j = 0; j < n; j++) d[j] = W[j * n + (n - 1)]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = W[j * n + (i - 1)]!;
        W[j * n + i] = 0;
        W[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        const col = j * n; // V[.][j]
        W[i * n + j] = f; // V[j][i] = f
        g = e[j]! + W[col + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const v = W[col + k]!;
          g += v * d[k]!;
          e[k] = e[k]! + v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        const col = j * n;
        for (let k = j; k <= i - 1; k++) W[col + k] = W[col + k]! - (f * e[k]! + g * d[k]!);
        d[j] = W[col + (i - 1)]!;
        W[col + i] = 0;
      }
    }
    d[i] = h;
  }
  if (!wantVectors) {
    // The diagonal of the tridiagonal matrix is left on V's diagonal.
    for (let j = 0; j < n; j++) d[j] = W[j * n + j]!;
    e[0] = 0;
    return;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    W[i * n + (n - 1)] = W[i * n + i]!; // V[n-1][i] = V[i][i]
    W[i * n + i] = 1;
    const h = d[i + 1]!;
    const colNext = (i + 1) * n; // V[.][i+1]
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = W[colNext + k]! / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += W[colNext + k]! * W[col + k]!;
        for (let k = 0; k <= i; k++) W[col + k] = W[col + k]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) W[colNext + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = W[j * n + (n - 1)]!;
    W[j * n + (n - 1)] = 0;
  }
  W[(n - 1) * n + (n - 1)] = 1;
  e[0] = 0;
}

/** Implicit QL iterations on the tridiagonal (d, e); rotations applied to W's rows when wanted. */
function qlImplicit(W: Float64Array, n: number, d: Float64Array, e: Float64Array, wantVectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 300) throw new Error('symmetricEigen: QL iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (wantVectors) {
            const a = (i + 1) * n;
            const b = i * n;
            for (let k = 0; k < n; k++) {
              const t = W[a + k]!;
              const u = W[b + k]!;
              W[a + k] = s * u + c * t;
              W[b + k] = c * u - s * t;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/** `A Bᵀ` for row-major `A` `[r, k]` and `B` `[c, k]`: result `[r, c]` (dot products of rows). */
export function multiplyABt(a: Float64Array, r: number, b: Float64Array, c: number, k: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const ai = i * k;
    for (let j = 0; j < c; j++) {
      const bj = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) s += a[ai + t]! * b[bj + t]!;
      out[i * c + j] = s;
    }
  }
  return out;
}

/** `A Aᵀ` for row-major `A` `[r, k]`: symmetric result `[r, r]` (each pair computed once). */
export function gramRows(a: Float64Array, r: number, k: number): Float64Array {
  const out = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    const ai = i * k;
    for (let j = 0; j <= i; j++) {
      const aj = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) s += a[ai + t]! * a[aj + t]!;
      out[i * r + j] = s;
      out[j * r + i] = s;
    }
  }
  return out;
}

/** `Aᵀ` of a row-major `[r, c]` matrix, `[c, r]`. */
export function transpose(a: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j]!;
  return out;
}

/**
 * The numerical-rank threshold for eigenvalues of a PSD matrix: `n · 2⁻⁵² · max|λ|`. Eigenvalues at
 * or below it are rounding noise of true zeros (their square roots would otherwise add
 * `O(√ε)` errors) and are treated as 0.
 */
export function eigenTolerance(values: Float64Array, n: number): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return Math.max(n, 1) * 2 ** -52 * m;
}

/** Σ √λ over the eigenvalues of a symmetric PSD matrix `[n, n]` above {@link eigenTolerance}. */
export function traceSqrtPsd(a: Float64Array, n: number): number {
  const { values } = symmetricEigen(a, n, false);
  const tol = eigenTolerance(values, n);
  let t = 0;
  for (const v of values) if (v > tol) t += Math.sqrt(v);
  return t;
}
