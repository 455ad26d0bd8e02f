import { describe, expect, it } from 'vitest';
import { abAccuracy, colorShares, AUC_MAX_THRESHOLD } from '../src/index.js';

describe('abAccuracy (Zhang et al. 2016 AuC, t = 0…150)', () => {
  it('hand-derived: one pixel 5 units off gives error 5 and AuC 146/151', () => {
    const r = abAccuracy([0, 0], [3, 4]);
    expect(r.meanError).toBeCloseTo(5, 12);
    expect(r.auc).toBeCloseTo(146 / 151, 12);
    expect(r.pixels).toBe(1);
  });

  it('exact prediction gives AuC 1; an error beyond 150 counts at no threshold', () => {
    expect(abAccuracy([1, 2, 3, 4], [1, 2, 3, 4]).auc).toBe(1);
    const far = abAccuracy([0, 0, 0, 0], [200, 0, 0, 0]);
    expect(far.meanError).toBeCloseTo(100, 12);
    expect(far.auc).toBeCloseTo(0.5, 12);
  });

  it('agrees with a direct float64 evaluation of the curve on random data (1e-12)', () => {
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 120 - 60;
    const p = Array.from({ length: 2000 }, rnd);
    const t = Array.from({ length: 2000 }, rnd);
    const errs = Array.from({ length: 1000 }, (_, i) => Math.hypot(p[2 * i]! - t[2 * i]!, p[2 * i + 1]! - t[2 * i + 1]!));
    let area = 0;
    for (let th = 0; th <= AUC_MAX_THRESHOLD; th++) area += errs.filter((e) => e <= th).length / errs.length;
    const r = abAccuracy(p, t);
    expect(r.auc).toBeCloseTo(area / (AUC_MAX_THRESHOLD + 1), 12);
    expect(r.meanError).toBeCloseTo(errs.reduce((a, b) => a + b, 0) / errs.length, 10);
  });

  it('rejects odd, empty, mismatched and non-finite input', () => {
    expect(() => abAccuracy([1], [1])).toThrow(/pred must hold interleaved/);
    expect(() => abAccuracy([], [])).toThrow(/pred must hold/);
    expect(() => abAccuracy([1, 2], [1, 2, 3, 4])).toThrow(/pred has 1 pixels, truth 2/);
    expect(() => abAccuracy([NaN, 0], [0, 0])).toThrow(/non-finite value at pixel 0/);
    expect(() => abAccuracy([0, 0], [0, 0], 0)).toThrow(/maxThreshold/);
  });
});

describe('colorShares', () => {
  it('counts a < −10 as green and a > 15 as red (boundaries excluded)', () => {
    expect(colorShares([-20, 0, 30, 0, 0, 0, 5, 5])).toEqual({ green: 0.25, red: 0.25 });
    expect(colorShares([-10, 0, 15, 0])).toEqual({ green: 0, red: 0 });
    expect(() => colorShares([1, 2, 3])).toThrow(/ab must hold/);
  });
});
