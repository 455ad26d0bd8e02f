import { describe, expect, it } from 'vitest';
import { mulberry32, mulberry32Uint32, permutation, uniformDraws } from '../src/index.js';

describe('mulberry32', () => {
  it('matches the reference stream of mulberry32 (seeds 0 and 42, first 5 draws)', () => {
    // The published algorithm's outputs; seed 0 starts 0.26642920868471265, the value quoted with it.
    const ref: Record<number, number[]> = {
      0: [1144304738, 1416247, 958946056, 627933444, 2007157716],
      42: [2581720956, 1925393290, 3661312704, 2876485805, 750819978],
    };
    for (const [seed, values] of Object.entries(ref)) {
      const next = mulberry32Uint32(Number(seed));
      const rnd = mulberry32(Number(seed));
      expect(values.map(() => next())).toEqual(values);
      expect(values.map(() => rnd())).toEqual(values.map((u) => u / 4294967296));
    }
    expect(mulberry32(0)()).toBe(0.26642920868471265);
    // Seeds are taken modulo 2³², as `>>> 0` does.
    expect(mulberry32Uint32(2 ** 32 + 42)()).toBe(ref[42]![0]);
  });
  it('gives floats in [0, 1) with a mean near 1/2 over 10⁵ draws', () => {
    const rnd = mulberry32(1);
    let s = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 1e5; i++) {
      const x = rnd();
      s += x;
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(Math.abs(s / 1e5 - 0.5)).toBeLessThan(0.005);
  });
  it('permutation(n) holds every index once and depends only on the seed', () => {
    const p = permutation(100, mulberry32(3));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(permutation(100, mulberry32(3))).toEqual(p);
    expect(permutation(100, mulberry32(4))).not.toEqual(p);
    expect(permutation(0, mulberry32(0))).toEqual([]);
  });
});

describe('uniformDraws', () => {
  it('equals the sequential stream at any offset (seed 0: the fixture draws 0–4 and 9,999,999; seed 42 windows)', () => {
    const first = uniformDraws(0, 0, 5);
    expect(Array.from(first)).toEqual([0.26642920868471265, 0.0003297457005828619, 0.2232720274478197, 0.1462021479383111, 0.46732782293111086]);
    expect(uniformDraws(0, 9_999_999, 1)[0]! * 4294967296).toBe(1388877212);
    const rnd = mulberry32(42);
    const seq = Array.from({ length: 300 }, () => rnd());
    expect(Array.from(uniformDraws(42, 0, 300))).toEqual(seq);
    expect(Array.from(uniformDraws(42, 137, 100))).toEqual(seq.slice(137, 237));
  });

  it('counts past 2³² draws exactly (the counter wraps mod 2³²) and rejects bad offsets', () => {
    // Draw 2³² + k has the same counter as draw k: γ·2³² ≡ 0 (mod 2³²).
    expect(Array.from(uniformDraws(5, 2 ** 32 + 3, 4))).toEqual(Array.from(uniformDraws(5, 3, 4)));
    expect(() => uniformDraws(0, -1, 1)).toThrow(/offset must be a non-negative integer \(got -1\)/);
    expect(() => uniformDraws(0, 0, 1.5)).toThrow(/count must be a non-negative integer/);
  });
});
