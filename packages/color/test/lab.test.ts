import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, describeBackends, expectClose, expectNoLeaks, randomTensor, seededRandom } from '@disco/runtime/testing';
import {
  denormalizeAb,
  denormalizeL,
  labToRgb,
  normalizeAb,
  normalizeL,
  normalizedLabToRgb,
  rgbToLab,
  rgbToNormalizedLab,
} from '../src/index.js';

// Independent float64 reference straight from the formulas (IEC 61966-2-1, CIE 1976).
const EPS = 216 / 24389;
const KAPPA = 24389 / 27;
const WHITE = [0.95047, 1.0, 1.08883];
const M = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
];
function refLab(rgb: number[]): number[] {
  const lin = rgb.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const xyz = M.map((row) => row[0]! * lin[0]! + row[1]! * lin[1]! + row[2]! * lin[2]!);
  const f = xyz.map((v, i) => {
    const t = v / WHITE[i]!;
    return t > EPS ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
  });
  return [116 * f[1]! - 16, 500 * (f[0]! - f[1]!), 200 * (f[1]! - f[2]!)];
}

function refRgbClamped(lab: number[]): number[] {
  const fy = (lab[0]! + 16) / 116;
  const f = [fy + lab[1]! / 500, fy, fy - lab[2]! / 200];
  const xyz = f.map((v, i) => (v ** 3 > EPS ? v ** 3 : (116 * v - 16) / KAPPA) * WHITE[i]!);
  // invert M by Cramer's rule in float64
  const [a, b, c] = M[0]!;
  const [d, e, g] = M[1]!;
  const [h, i, j] = M[2]!;
  const det = a! * (e! * j! - g! * i!) - b! * (d! * j! - g! * h!) + c! * (d! * i! - e! * h!);
  const inv = [
    [e! * j! - g! * i!, c! * i! - b! * j!, b! * g! - c! * e!],
    [g! * h! - d! * j!, a! * j! - c! * h!, c! * d! - a! * g!],
    [d! * i! - e! * h!, b! * h! - a! * i!, a! * e! - b! * d!],
  ].map((r) => r.map((v) => v / det));
  return inv.map((r) => {
    const lin = Math.min(1, Math.max(0, r[0]! * xyz[0]! + r[1]! * xyz[1]! + r[2]! * xyz[2]!));
    return lin <= 0.0031308 ? 12.92 * lin : 1.055 * lin ** (1 / 2.4) - 0.055;
  });
}

const NAMED: [string, number[]][] = [
  ['red', [1, 0, 0]],
  ['green', [0, 1, 0]],
  ['blue', [0, 0, 1]],
  ['white', [1, 1, 1]],
  ['black', [0, 0, 0]],
  ['mid grey', [0.5, 0.5, 0.5]],
  ['dark (linear segment)', [0.02, 0.03, 0.01]],
  ['cyan', [0, 1, 1]],
  ['yellow', [1, 1, 0]],
];

describe('float64 reference (sanity of the test oracle)', () => {
  it('matches published Lab values of the sRGB primaries', () => {
    expectClose(refLab([1, 0, 0]), [53.2408, 80.0925, 67.2032], { rtol: 0, atol: 1e-3, what: 'red' });
    expectClose(refLab([0, 1, 0]), [87.7347, -86.1827, 83.1793], { rtol: 0, atol: 1e-3, what: 'green' });
    expectClose(refLab([0, 0, 1]), [32.297, 79.1875, -107.8602], { rtol: 0, atol: 1e-3, what: 'blue' });
    expectClose(refLab([1, 1, 1]), [100, 0, 0], { rtol: 0, atol: 1e-3, what: 'white' });
  });
});

describeBackends(describe, beforeAll, 'rgbToLab / labToRgb', () => {
  it('named colors [9,1,1,3] agree with the formulas within 1e-3', () => {
    const rgb = tf.tensor4d(NAMED.flatMap(([, c]) => c), [NAMED.length, 1, 1, 3]);
    const lab = rgbToLab(rgb);
    expect(lab.shape).toEqual([NAMED.length, 1, 1, 3]);
    expect(lab.dtype).toBe('float32');
    expectClose(lab, NAMED.flatMap(([, c]) => refLab(c)), { rtol: 0, atol: 1e-3, what: 'Lab of named colors' });
    expectClose(tf.slice(lab, [0, 0, 0, 0], [1, 1, 1, 3]), [53.24, 80.09, 67.2], { rtol: 0, atol: 0.01, what: 'pure red' });
    tf.dispose([rgb, lab]);
  });

  it('random colors [2,8,8,3] agree with the formulas within 1e-3', () => {
    const rgb = randomTensor([2, 8, 8, 3], 7, 0, 1) as tf.Tensor4D;
    const v = Array.from(rgb.dataSync());
    const expected: number[] = [];
    for (let i = 0; i < v.length; i += 3) expected.push(...refLab(v.slice(i, i + 3)));
    expectClose(rgbToLab(rgb), expected, { rtol: 0, atol: 1e-3, what: 'Lab of random colors' });
  });

  it('round trip RGB→Lab→RGB [2,16,16,3] within 1e-4 (including 0, 1 and the linear segment)', () => {
    const rnd = seededRandom(3);
    const v = new Float32Array(2 * 16 * 16 * 3).map((_, i) => (i < 6 ? [0, 1, 0.001, 0.04, 0.05, 0.9999][i]! : rnd()));
    const rgb = tf.tensor4d(v, [2, 16, 16, 3]);
    const back = labToRgb(rgbToLab(rgb));
    expectClose(back, rgb, { rtol: 0, atol: 1e-4, what: 'round trip' });
  });

  it('labToRgb inverts the float64 formulas on named colors [9,1,1,3]', () => {
    const lab = tf.tensor4d(NAMED.flatMap(([, c]) => refLab(c)), [NAMED.length, 1, 1, 3]);
    expectClose(labToRgb(lab), NAMED.flatMap(([, c]) => c), { rtol: 0, atol: 1e-4, what: 'RGB of named Lab' });
  });

  it('clamps out-of-gamut Lab [1,1,3,3] to [0,1]', () => {
    // L 50 with a = 127 is far outside sRGB; L 120 is brighter than white; L −10 darker than black.
    const lab = tf.tensor4d([50, 127, -127, 120, 0, 0, -10, 0, 0], [1, 1, 3, 3]);
    const rgb = labToRgb(lab);
    const v = Array.from(rgb.dataSync());
    expect(v.every((x) => x >= 0 && x <= 1 && Number.isFinite(x))).toBe(true);
    expectClose(v.slice(3), [1, 1, 1, 0, 0, 0], { rtol: 0, atol: 1e-6, what: 'super-white and sub-black' });
    expectClose(v.slice(0, 3), refRgbClamped([50, 127, -127]), { rtol: 0, atol: 1e-4, what: 'clamped magenta' });
    expect(v[1]).toBe(0); // green channel clipped at 0
  });

  it('gradients of rgbToLab and labToRgb [1,2,2,3] match central differences', () => {
    const rgb = tf.tensor4d([0.2, 0.5, 0.8, 0.9, 0.1, 0.3, 0.6, 0.6, 0.1, 0.3, 0.7, 0.4], [1, 2, 2, 3]);
    const wl = randomTensor([1, 2, 2, 3], 11);
    checkGradients((x) => tf.sum(tf.mul(rgbToLab(x as tf.Tensor4D), wl)), [rgb], { eps: 1e-3, rtol: 2e-2, atol: 2e-2 });
    const lab = tf.tensor4d([50, 10, -20, 70, -30, 40, 30, 5, 5, 60, 20, 20], [1, 2, 2, 3]);
    checkGradients((x) => tf.sum(tf.mul(labToRgb(x as tf.Tensor4D), wl)), [lab], { eps: 1e-2, rtol: 2e-2, atol: 1e-4 });
  });

  it('gradients are finite at 0, at 1 and at black (no NaN from the unused branch)', () => {
    const rgb = tf.tensor4d([0, 0, 0, 1, 1, 1], [1, 1, 2, 3]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(rgbToLab(x as tf.Tensor4D)))(rgb);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    const lab = tf.tensor4d([0, 0, 0, 100, 0, 0], [1, 1, 2, 3]);
    const g2 = tf.grad((x: tf.Tensor) => tf.sum(labToRgb(x as tf.Tensor4D)))(lab);
    expect(Array.from(g2.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it('normalisation [1,2,2,1]/[1,2,2,2]: L → (L−50)/50, ab → ab/110, and back', () => {
    const l = tf.tensor4d([0, 50, 100, 25], [1, 2, 2, 1]);
    expectClose(normalizeL(l), [-1, 0, 1, -0.5], { what: 'normalizeL' });
    expectClose(denormalizeL(normalizeL(l)), l, { what: 'L round trip' });
    const ab = tf.tensor4d([110, -110, 55, 0, -22, 11, 0, 0], [1, 2, 2, 2]);
    expectClose(normalizeAb(ab), [1, -1, 0.5, 0, -0.2, 0.1, 0, 0], { what: 'normalizeAb' });
    expectClose(denormalizeAb(normalizeAb(ab)), ab, { what: 'ab round trip' });
  });

  it('rgbToNormalizedLab / normalizedLabToRgb [1,1,1,3]: pure red ↦ L 0.0648, ab (0.7281, 0.6109)', () => {
    const rgb = tf.tensor4d([1, 0, 0], [1, 1, 1, 3]);
    const { L, ab } = rgbToNormalizedLab(rgb);
    expect(L.shape).toEqual([1, 1, 1, 1]);
    expect(ab.shape).toEqual([1, 1, 1, 2]);
    const r = refLab([1, 0, 0]);
    expectClose(L, [(r[0]! - 50) / 50], { rtol: 0, atol: 2e-5, what: 'L' });
    expectClose(ab, [r[1]! / 110, r[2]! / 110], { rtol: 0, atol: 2e-5, what: 'ab' });
    expectClose(normalizedLabToRgb(L, ab), rgb, { rtol: 0, atol: 1e-4, what: 'back to RGB' });
  });

  it('rejects bad inputs with one-line errors naming op and argument', () => {
    expect(() => rgbToLab(tf.zeros([1, 2, 2, 4]) as tf.Tensor4D)).toThrow(/^rgbToLab: rgb must have shape \[batch, height, width, 3\]/);
    expect(() => labToRgb(tf.zeros([2, 2, 3]) as unknown as tf.Tensor4D)).toThrow(/^labToRgb: lab must have shape/);
    expect(() => rgbToLab(tf.zeros([1, 1, 1, 3], 'int32') as tf.Tensor4D)).toThrow(/^rgbToLab: rgb must be float32/);
    expect(() => normalizeAb(tf.zeros([1, 1, 1, 3]) as tf.Tensor4D)).toThrow(/^normalizeAb: ab must have shape/);
    expect(() => normalizedLabToRgb(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, tf.zeros([1, 3, 2, 2]) as tf.Tensor4D)).toThrow(/^normalizedLabToRgb: l/);
  });

  it('does not leak tensors', async () => {
    const rgb = randomTensor([1, 4, 4, 3], 5, 0, 1) as tf.Tensor4D;
    await expectNoLeaks(() => tf.tidy(() => labToRgb(rgbToLab(rgb))), 'rgbToLab∘labToRgb');
    await expectNoLeaks(() => {
      const { L, ab } = rgbToNormalizedLab(rgb);
      const out = normalizedLabToRgb(L, ab);
      tf.dispose([L, ab]);
      return out;
    }, 'normalized round trip');
  });
});
