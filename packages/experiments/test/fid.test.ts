import { describe, expect, it } from 'vitest';
import { featureMatrix, featureStatistics, frechetDistance, frechetInceptionDistance, resolveFidOptions } from '../src/index.js';
import { meanCov, randomRows, referenceFid, rng } from './reference.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('frechetDistance (closed forms for Gaussians)', () => {
  it('diagonal covariances [d=3]: ‖μ1-μ2‖² + Σ (a + b - 2√(ab))', () => {
    const a = [1, 4, 9];
    const b = [4, 1, 0];
    const mu1 = [0, 1, 2];
    const mu2 = [1, 1, 0];
    const diag = (v: number[]): number[] => v.flatMap((x, i) => v.map((_, j) => (i === j ? x : 0)));
    // means: 1 + 0 + 4 = 5; traces: (1+4-2*2) + (4+1-2*2) + (9+0-0) = 1 + 1 + 9 = 11
    const r = frechetDistance(mu1, diag(a), mu2, diag(b));
    expect(r.meanTerm).toBeCloseTo(5, 12);
    expect(r.fid).toBeCloseTo(16, 12);
  });

  it('non-commuting covariances [d=2]: Σ1 = s²I gives Tr sqrt(Σ1Σ2) = s·Σ√λ(Σ2)', () => {
    // Σ2 = [[2,1],[1,2]] has eigenvalues 1 and 3.
    const r = frechetDistance([0, 0], [4, 0, 0, 4], [0, 0], [2, 1, 1, 2]);
    expect(r.traceSqrt).toBeCloseTo(2 * (1 + Math.sqrt(3)), 12);
    expect(r.fid).toBeCloseTo(8 + 4 - 4 * (1 + Math.sqrt(3)), 12);
  });

  it('a rotated rank-1 pair [d=2]: Σ1 = e1e1ᵀ, Σ2 = e2e2ᵀ gives Tr sqrt = 0, FID = 2', () => {
    const r = frechetDistance([0, 0], [1, 0, 0, 0], [0, 0], [0, 0, 0, 1]);
    expect(r.traceSqrt).toBe(0);
    expect(r.fid).toBeCloseTo(2, 14);
  });

  it('identical Gaussians give exactly 0, never negative', () => {
    const x = randomRows(50, 6, 3);
    const { mu, cov } = meanCov(x);
    const r = frechetDistance(mu, cov.flat(), mu, cov.flat());
    expect(r.fid).toBeGreaterThanOrEqual(0);
    expect(r.fid).toBeLessThan(1e-12);
  });

  it('rejects mismatched sizes', () => {
    expect(() => frechetDistance([0, 0], [1, 0, 0, 1], [0], [1])).toThrow(/frechetDistance: mu2 has length 1/);
    expect(() => frechetDistance([0, 0], [1, 0, 0], [0, 0], [1, 0, 0, 1])).toThrow(/frechetDistance: sigma1 has 3 entries/);
  });
});

describe('frechetInceptionDistance (from features)', () => {
  it.each([
    [40, 40, 8],
    [10, 10, 16],
    [5, 40, 16],
    [30, 12, 20],
  ])('agrees with a plain float64 reference within 1e-6 relative [n1=%i, n2=%i, d=%i]', (n1, n2, d) => {
    const x = randomRows(n1, d, n1 * 100 + d);
    const y = randomRows(n2, d, n2 * 7 + d, 1.3, 0.2);
    const ref = referenceFid(x, y);
    for (const method of ['auto', 'dense', 'gram'] as const) {
      const r = frechetInceptionDistance(featureMatrix(x), featureMatrix(y), { method });
      expect(rel(r.fid, ref), `${method}: ${r.fid} vs ${ref}`).toBeLessThan(1e-6);
    }
  });

  it('routes: auto takes gram for n ≤ d and dense for n > d', () => {
    const small = featureMatrix(randomRows(4, 8, 1));
    const big = featureMatrix(randomRows(20, 8, 2));
    expect(frechetInceptionDistance(small, big).routes).toEqual(['gram', 'dense']);
    expect(frechetInceptionDistance(big, big, { method: 'gram' }).routes).toEqual(['gram', 'gram']);
  });

  it('identical sets give 0 (rank-deficient n=6 < d=64, and n=80 > d=8), never NaN', () => {
    for (const [n, d] of [[6, 64], [80, 8]] as const) {
      const x = featureMatrix(randomRows(n, d, n + d));
      for (const method of ['auto', 'dense', 'gram'] as const) {
        const r = frechetInceptionDistance(x, x, { method });
        expect(Number.isNaN(r.fid)).toBe(false);
        expect(r.fid).toBeGreaterThanOrEqual(0);
        expect(r.fid, `${method} n=${n} d=${d}`).toBeLessThan(1e-9 * r.traceSqrt + 1e-12);
      }
    }
  });

  it('constant features (zero covariance) give the squared mean distance', () => {
    const x = featureMatrix([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    const y = featureMatrix([[0, 2, 3], [0, 2, 3]]);
    expect(frechetInceptionDistance(x, y).fid).toBe(1);
  });

  it('samples of N(0, I) vs N(m, s²I) approach the closed form [d=3, n=20000]', () => {
    const r = rng(11);
    const d = 3;
    const x = Array.from({ length: 20000 }, () => Array.from({ length: d }, () => r.normal()));
    const y = Array.from({ length: 20000 }, () => Array.from({ length: d }, () => 1 + 2 * r.normal()));
    // closed form: d·1² + d·(1 + 4 - 2·2) = 3 + 3 = 6; sampling std of the estimate ≈ 0.1, so 3σ = 0.3
    const f = frechetInceptionDistance(featureMatrix(x), featureMatrix(y)).fid;
    expect(Math.abs(f - 6)).toBeLessThan(0.3);
  });

  it('matches featureStatistics + frechetDistance', () => {
    const x = featureMatrix(randomRows(25, 5, 21));
    const y = featureMatrix(randomRows(30, 5, 22, 0.5));
    const a = featureStatistics(x);
    const b = featureStatistics(y);
    const viaStats = frechetDistance(a.mean, a.covariance, b.mean, b.covariance).fid;
    expect(rel(frechetInceptionDistance(x, y).fid, viaStats)).toBeLessThan(1e-10);
  });

  it('rejects bad inputs with one-line errors', () => {
    const x = featureMatrix(randomRows(4, 3, 1));
    expect(() => frechetInceptionDistance(x, featureMatrix(randomRows(4, 2, 1)))).toThrow(/frechetInceptionDistance: x2 has 2 features, x1 has 3/);
    expect(() => frechetInceptionDistance(featureMatrix([[1, 2, 3]]), x)).toThrow(/frechetInceptionDistance: x1 must have at least 2 row/);
    expect(() => frechetInceptionDistance({ rows: 2, cols: 3, data: [1, 2, 3, 4, 5, NaN] }, x)).toThrow(/x1.data\[5\] is not finite/);
    expect(() => frechetInceptionDistance({ rows: 2, cols: 3, data: [1, 2] }, x)).toThrow(/x1.data has 2 values/);
    expect(() => resolveFidOptions({ method: 'svd' as never })).toThrow(/method must be one of auto, dense, gram/);
    expect(() => resolveFidOptions({ eps: 1 } as never)).toThrow(/unknown option 'eps'; valid: method/);
  });
});
