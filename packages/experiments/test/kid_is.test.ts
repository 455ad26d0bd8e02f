import { describe, expect, it } from 'vitest';
import { featureMatrix, inceptionScore, kernelInceptionDistance, polynomialMmd2, resolveInceptionScoreOptions, resolveKidOptions } from '../src/index.js';
import { randomRows } from './reference.js';

function naiveMmd2(x: number[][], y: number[][]): number {
  const d = x[0]!.length;
  const k = (a: number[], b: number[]): number => (a.reduce((s, v, i) => s + v * b[i]!, 0) / d + 1) ** 3;
  let xx = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < x.length; j++) if (i !== j) xx += k(x[i]!, x[j]!);
  let yy = 0;
  for (let i = 0; i < y.length; i++) for (let j = 0; j < y.length; j++) if (i !== j) yy += k(y[i]!, y[j]!);
  let xy = 0;
  for (const a of x) for (const b of y) xy += k(a, b);
  const m = x.length;
  const n = y.length;
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - (2 * xy) / (m * n);
}

describe('polynomialMmd2 / kernelInceptionDistance', () => {
  it('hand-derived value [d=1]: x={0,1}, y={0,2} → 1 + 1 - 15 = -13', () => {
    // k(a,b) = (ab + 1)³: Kxx off-diagonal 1, Kyy off-diagonal 1, Kxy sum = 1+1+1+27 = 30 → 2·30/4 = 15.
    expect(polynomialMmd2(featureMatrix([[0], [1]]), featureMatrix([[0], [2]]))).toBeCloseTo(-13, 12);
  });

  it('matches a naive double loop within 1e-12 relative [m=9, n=13, d=6]', () => {
    const x = randomRows(9, 6, 1);
    const y = randomRows(13, 6, 2, 1, 0.5);
    const ref = naiveMmd2(x, y);
    expect(Math.abs(polynomialMmd2(featureMatrix(x), featureMatrix(y)) - ref) / Math.abs(ref)).toBeLessThan(1e-12);
  });

  it('one subset of full size equals the full estimate (subset order does not matter)', () => {
    const x = featureMatrix(randomRows(12, 4, 3));
    const y = featureMatrix(randomRows(12, 4, 4, 2));
    const kid = kernelInceptionDistance(x, y, { subsets: 3, subsetSize: 12, seed: 5 });
    const full = polynomialMmd2(x, y);
    for (const v of kid.values) expect(v).toBeCloseTo(full, 10);
    expect(kid.std).toBeLessThan(1e-10);
    expect(kid.subsetSize).toBe(12);
  });

  it('is near 0 for two samples of one distribution and clearly positive for a shifted one [n=200, d=8]', () => {
    const x = featureMatrix(randomRows(200, 8, 10));
    const same = featureMatrix(randomRows(200, 8, 11));
    const shifted = featureMatrix(randomRows(200, 8, 12, 1, 0.7));
    const a = kernelInceptionDistance(x, same, { subsets: 20, subsetSize: 100 });
    const b = kernelInceptionDistance(x, shifted, { subsets: 20, subsetSize: 100 });
    expect(Math.abs(a.mean)).toBeLessThan(0.05);
    expect(b.mean).toBeGreaterThan(0.3);
    expect(b.mean).toBeGreaterThan(10 * Math.abs(a.mean));
  });

  it('is deterministic for a seed and clamps the subset size', () => {
    const x = featureMatrix(randomRows(30, 3, 1));
    const y = featureMatrix(randomRows(20, 3, 2));
    const a = kernelInceptionDistance(x, y, { subsets: 5, seed: 9 });
    expect(kernelInceptionDistance(x, y, { subsets: 5, seed: 9 }).values).toEqual(a.values);
    expect(a.subsetSize).toBe(20);
  });

  it('rejects bad options and inputs', () => {
    expect(() => resolveKidOptions({ subsets: 0 })).toThrow(/resolveKidOptions: subsets must be an integer in \[1, inf\], got 0/);
    expect(() => resolveKidOptions({ subsetSize: 1 })).toThrow(/subsetSize must be an integer in \[2/);
    expect(() => resolveKidOptions({ kernel: 'rbf' } as never)).toThrow(/unknown option 'kernel'; valid: subsets, subsetSize, seed/);
    expect(() => kernelInceptionDistance(featureMatrix([[1]]), featureMatrix([[1], [2]]))).toThrow(/kernelInceptionDistance: x must have at least 2 row/);
  });
});

describe('inceptionScore', () => {
  const onehot = (n: number, c: number, cls: (i: number) => number): number[][] =>
    Array.from({ length: n }, (_, i) => Array.from({ length: c }, (_, j) => (j === cls(i) ? 1 : 0)));

  it('uniform predictions give 1 in every split, std 0 [100x10]', () => {
    const r = inceptionScore(featureMatrix(Array.from({ length: 100 }, () => Array(10).fill(0.1))));
    expect(r.values).toHaveLength(10);
    for (const v of r.values) expect(v).toBeCloseTo(1, 12);
    expect(r.std).toBeCloseTo(0, 12);
  });

  it('confident predictions spread evenly over C classes give C [100x10, 10 splits]', () => {
    const r = inceptionScore(featureMatrix(onehot(100, 10, (i) => i % 10)));
    expect(r.mean).toBeCloseTo(10, 10);
    expect(r.std).toBeCloseTo(0, 10);
  });

  it('confident predictions of a single class give 1', () => {
    expect(inceptionScore(featureMatrix(onehot(20, 5, () => 2)), { splits: 2 }).mean).toBeCloseTo(1, 12);
  });

  it('hand-derived value: rows [1,0] and [0.5,0.5], one split', () => {
    // p(y) = [0.75, 0.25]; KL1 = log(1/0.75); KL2 = 0.5 log(0.5/0.75) + 0.5 log(0.5/0.25)
    const kl = (Math.log(1 / 0.75) + 0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(2)) / 2;
    expect(inceptionScore(featureMatrix([[1, 0], [0.5, 0.5]]), { splits: 1 }).mean).toBeCloseTo(Math.exp(kl), 12);
  });

  it('uses every row: splits of unequal size [n=7, 3 splits]', () => {
    const r = inceptionScore(featureMatrix(onehot(7, 7, (i) => i)), { splits: 3 });
    // splits hold rows 0-1, 2-3, 4-6: scores 2, 2, 3
    expect(r.values.map((v) => Number(v.toFixed(10)))).toEqual([2, 2, 3]);
  });

  it('rejects invalid probabilities and options', () => {
    expect(() => inceptionScore(featureMatrix([[0.5, 0.6]]), { splits: 1 })).toThrow(/inceptionScore: probs row 0 sums to 1.1/);
    expect(() => inceptionScore(featureMatrix([[1.5, -0.5]]), { splits: 1 })).toThrow(/inceptionScore: probs\[0\]\[1\] = -0.5 is negative/);
    expect(() => inceptionScore(featureMatrix([[1, 0]]))).toThrow(/inceptionScore: probs has 1 rows, fewer than splits = 10/);
    expect(() => resolveInceptionScoreOptions({ splits: 0 })).toThrow(/splits must be an integer/);
  });
});
