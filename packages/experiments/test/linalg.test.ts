import { describe, expect, it } from 'vitest';
import { symmetricEigen, traceSqrtPsd } from '../src/internal/linalg.js';
import { jacobiEigen, randomRows } from './reference.js';

function sym(n: number, seed: number): number[][] {
  const r = randomRows(n, n, seed);
  return r.map((row, i) => row.map((_, j) => 0.5 * (r[i]![j]! + r[j]![i]!)));
}

describe('symmetricEigen (Householder + QL)', () => {
  it.each([1, 2, 5, 17, 40])('matches Jacobi eigenvalues and reconstructs A for n=%i', (n) => {
    const a = sym(n, n);
    const flat = Float64Array.from(a.flat());
    const { values, vectors } = symmetricEigen(flat, n, true);
    const ref = [...jacobiEigen(a).values].sort((p, q) => p - q);
    for (let i = 0; i < n; i++) expect(values[i]).toBeCloseTo(ref[i]!, 10);
    // A = Σ λ_j v_j v_jᵀ
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += values[k]! * vectors![k * n + i]! * vectors![k * n + j]!;
        expect(Math.abs(s - a[i]![j]!)).toBeLessThan(1e-11);
      }
    }
    const only = symmetricEigen(flat, n, false);
    expect(only.vectors).toBeNull();
    for (let i = 0; i < n; i++) expect(Math.abs(only.values[i]! - values[i]!)).toBeLessThan(1e-11);
  });

  it('handles a rank-deficient PSD matrix with repeated zero eigenvalues [12x12, rank 3]', () => {
    const x = randomRows(3, 12, 7); // A = XᵀX has rank 3
    const a = new Float64Array(144);
    for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) a[i * 12 + j] = x.reduce((s, r) => s + r[i]! * r[j]!, 0);
    const { values } = symmetricEigen(a, 12, false);
    for (let i = 0; i < 9; i++) expect(Math.abs(values[i]!)).toBeLessThan(1e-12);
    const ref = jacobiEigen(Array.from({ length: 12 }, (_, i) => Array.from(a.slice(i * 12, i * 12 + 12))))
      .values.sort((p, q) => p - q);
    for (let i = 9; i < 12; i++) expect(values[i]).toBeCloseTo(ref[i]!, 10);
    expect(traceSqrtPsd(a, 12)).toBeCloseTo(ref.slice(9).reduce((s, l) => s + Math.sqrt(l), 0), 10);
  });

  it('diagonal input gives its sorted diagonal; identity gives orthonormal vectors', () => {
    const a = Float64Array.from([3, 0, 0, 0, -1, 0, 0, 0, 2]);
    expect(Array.from(symmetricEigen(a, 3).values)).toEqual([-1, 2, 3]);
    const id = symmetricEigen(Float64Array.from([1, 0, 0, 1]), 2);
    expect(Array.from(id.values)).toEqual([1, 1]);
  });

  it('rejects a matrix of the wrong size', () => {
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(/symmetricEigen: a has 5 entries/);
  });
});
