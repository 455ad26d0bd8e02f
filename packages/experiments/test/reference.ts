// Plain float64 reference implementations for the metric tests: naive loops, cyclic Jacobi
// eigen-decomposition, the textbook dense FID route. Deliberately independent of src/.
import { mulberry32 } from '@disco/random';

/** Cyclic Jacobi eigenvalues/vectors of a symmetric matrix given as number[][]. */
export function jacobiEigen(a0: number[][]): { values: number[]; vectors: number[][] } {
  const n = a0.length;
  const a = a0.map((r) => [...r]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  // vectors[j] = column j of v
  return { values: a.map((r, i) => r[i]!), vectors: Array.from({ length: n }, (_, j) => v.map((r) => r[j]!)) };
}

export function matmul(a: number[][], b: number[][]): number[][] {
  return a.map((r) => b[0]!.map((_, j) => r.reduce((s, x, k) => s + x * b[k]![j]!, 0)));
}

/** Mean and unbiased covariance by naive loops. */
export function meanCov(x: number[][]): { mu: number[]; cov: number[][] } {
  const n = x.length;
  const d = x[0]!.length;
  const mu = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + r[j]!, 0) / n);
  const cov = Array.from({ length: d }, (_, p) => Array.from({ length: d }, (_, q) => x.reduce((s, r) => s + (r[p]! - mu[p]!) * (r[q]! - mu[q]!), 0) / (n - 1)));
  return { mu, cov };
}

/** Textbook FID: S = Σ1^{1/2} (Jacobi), Tr sqrt(S Σ2 S) (Jacobi), eigenvalues clamped at 0. */
export function referenceFrechet(mu1: number[], s1: number[][], mu2: number[], s2: number[][]): number {
  const { values, vectors } = jacobiEigen(s1);
  const d = mu1.length;
  const sq = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => vectors.reduce((s, v, k) => s + Math.sqrt(Math.max(values[k]!, 0)) * v[i]! * v[j]!, 0)));
  const c = matmul(matmul(sq, s2), sq);
  const tr = jacobiEigen(c).values.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
  let m = 0;
  for (let j = 0; j < d; j++) m += (mu1[j]! - mu2[j]!) ** 2;
  let t = 0;
  for (let j = 0; j < d; j++) t += s1[j]![j]! + s2[j]![j]!;
  return m + t - 2 * tr;
}

export function referenceFid(x: number[][], y: number[][]): number {
  const a = meanCov(x);
  const b = meanCov(y);
  return referenceFrechet(a.mu, a.cov, b.mu, b.cov);
}

/** Seeded uniform and Gaussian numbers (mulberry32 + Box–Muller). */
export function rng(seed: number): { uniform: () => number; normal: () => number } {
  const uniform = mulberry32(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

export function randomRows(n: number, d: number, seed: number, scale = 1, shift = 0): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => shift + scale * r.normal()));
}
