import { describe, expect, it } from 'vitest';
import { abAccuracy, blockiness, ClassErrorHistogram, colorShares, AUC_MAX_THRESHOLD } from '../src/index.js';

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

describe('ClassErrorHistogram (Zhang et al. 2016 class-rebalanced AuC)', () => {
  it('hand-derived: classes 5 (5 units off) and 7 (exact) → (146/151 + 1)/2, however many pixels class 7 has', () => {
    const h = new ClassErrorHistogram();
    expect(Number.isNaN(h.rebalancedAuc())).toBe(true);
    h.add([0, 0, 0, 0], [3, 4, 0, 0], [5, 7]);
    expect(h.rebalancedAuc()).toBeCloseTo((146 / 151 + 1) / 2, 12);
    // 98 more exact pixels of class 7 change the plain AuC, not the rebalanced one.
    h.add(new Array(196).fill(0), new Array(196).fill(0), new Array(98).fill(7));
    expect(h.rebalancedAuc()).toBeCloseTo((146 / 151 + 1) / 2, 12);
    expect(abAccuracy([0, 0, ...new Array(198).fill(0)], [3, 4, ...new Array(198).fill(0)]).auc).toBeCloseTo((146 / 151 + 99) / 100, 12);
  });

  it('equals the inverse-frequency weighted AuC on random data, and the plain AuC with one class (1e-12); bad input is one line', () => {
    let s = 7;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    const n = 3000;
    const p = Array.from({ length: 2 * n }, () => rnd() * 120 - 60);
    const t = Array.from({ length: 2 * n }, () => rnd() * 120 - 60);
    const cls = Array.from({ length: n }, () => Math.floor(rnd() ** 3 * 20)); // skewed class frequencies
    const h = new ClassErrorHistogram(20);
    h.add(p, t, cls);
    const freq = new Array(20).fill(0);
    for (const c of cls) freq[c]++;
    const errs = cls.map((_, i) => Math.hypot(p[2 * i]! - t[2 * i]!, p[2 * i + 1]! - t[2 * i + 1]!));
    const wsum = cls.reduce((a, c) => a + 1 / freq[c], 0);
    let area = 0;
    for (let th = 0; th <= AUC_MAX_THRESHOLD; th++) area += errs.reduce((a, e, i) => a + (e <= th ? 1 / freq[cls[i]!] : 0), 0) / wsum;
    expect(h.rebalancedAuc()).toBeCloseTo(area / (AUC_MAX_THRESHOLD + 1), 12);
    const one = new ClassErrorHistogram(1);
    one.add(p, t, new Array(n).fill(0));
    expect(one.rebalancedAuc()).toBeCloseTo(abAccuracy(p, t).auc, 12);
    expect(() => h.add([0, 0], [0, 0], [20])).toThrow(/^ClassErrorHistogram\.add: class 20 of pixel 0 is outside \[0, 20\)$/);
    expect(() => h.add([0, 0], [0, 0], [])).toThrow(/^ClassErrorHistogram\.add: pred, truth and classOf must cover the same pixels, got 1, 1, 0$/);
  });
});

describe('blockiness (ab steps across the token grid over steps within cells)', () => {
  const image = (H: number, W: number, f: (y: number, x: number) => [number, number]) => {
    const ab = new Float32Array(2 * H * W);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) ab.set(f(y, x), 2 * (y * W + x));
    return ab;
  };

  it('a smooth ramp scores 1 [32×32, 4×4 grid]; constant patches per cell plus a gentle ramp score far above 1; hand case', () => {
    expect(blockiness(image(32, 32, (y, x) => [x, y]), 32, 32, 4, 4)).toBeCloseTo(1, 12);
    // Per-cell constant color (steps of 8 at the lines) on a ramp of 0.5 per pixel.
    const blocky = blockiness(image(32, 32, (_y, x) => [8 * Math.floor(x / 8) + 0.5 * x, 0]), 32, 32, 4, 4);
    expect(blocky).toBeGreaterThan(3);
    // 1×4 image, 2 cells: steps 1 (within), 5 (across), 1 (within) → 5.
    expect(blockiness([0, 0, 1, 0, 6, 0, 7, 0], 1, 4, 1, 2)).toBeCloseTo(5, 12);
    expect(Number.isNaN(blockiness([0, 0, 0, 0], 1, 2, 1, 1))).toBe(true);
    expect(() => blockiness([0, 0], 1, 2, 1, 1)).toThrow(/^blockiness: ab holds 1 pixels, not 1×2$/);
  });
});
