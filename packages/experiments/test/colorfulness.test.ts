import { describe, expect, it } from 'vitest';
import { colorfulness, meanColorfulness } from '../src/index.js';

describe('colorfulness (Hasler & Süsstrunk)', () => {
  it('a single red pixel: 0.3 · sqrt(255² + 127.5²)', () => {
    expect(colorfulness({ width: 1, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0]) })).toBeCloseTo(0.3 * Math.hypot(255, 127.5), 10);
  });

  it('red and green pixels [1x2]: σ_rg = 255, μ_yb = 127.5 → 255 + 0.3·127.5', () => {
    // rg = 255, -255 (μ 0, σ 255); yb = 127.5, 127.5 (μ 127.5, σ 0)
    expect(colorfulness({ width: 2, height: 1, channels: 3, data: [255, 0, 0, 0, 255, 0] })).toBeCloseTo(293.25, 10);
  });

  it('a blue/yellow checkerboard [2x2] by hand', () => {
    // blue: rg 0, yb -255; yellow: rg 0, yb 255 → σ_yb = 255, means 0
    const data = [0, 0, 255, 255, 255, 0, 255, 255, 0, 0, 0, 255];
    expect(colorfulness({ width: 2, height: 2, channels: 3, data })).toBeCloseTo(255, 10);
  });

  it('gray images score 0; alpha is ignored (RGBA)', () => {
    const gray = Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => Math.floor(i / 3) * 10);
    expect(colorfulness({ width: 4, height: 4, channels: 3, data: gray })).toBe(0);
    const rgba = [255, 0, 0, 0, 255, 0, 0, 255];
    const rgb = [255, 0, 0, 255, 0, 0];
    expect(colorfulness({ width: 2, height: 1, channels: 4, data: rgba })).toBe(colorfulness({ width: 2, height: 1, channels: 3, data: rgb }));
  });

  it('meanColorfulness averages per-image values', () => {
    const r = meanColorfulness([
      { width: 1, height: 1, channels: 3, data: [255, 0, 0] },
      { width: 1, height: 1, channels: 3, data: [9, 9, 9] },
    ]);
    const red = 0.3 * Math.hypot(255, 127.5);
    expect(r.values[0]).toBeCloseTo(red, 10);
    expect(r.values[1]).toBe(0);
    expect(r.mean).toBeCloseTo(red / 2, 10);
    expect(r.std).toBeCloseTo(red / 2, 10);
  });

  it('rejects bad images', () => {
    expect(() => colorfulness({ width: 2, height: 1, channels: 3, data: [1, 2, 3] })).toThrow(/colorfulness: image.data has 3 values, expected 6/);
    expect(() => colorfulness({ width: 1, height: 1, channels: 1 as never, data: [1] })).toThrow(/colorfulness: image.channels must be 3 or 4/);
    expect(() => meanColorfulness([])).toThrow(/meanColorfulness: images must not be empty/);
  });
});
