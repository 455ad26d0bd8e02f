// Bounded-memory full-resolution steps of `disco colorize`: equal to the whole-image tfjs
// computations they replace, independent of the band size, and free of full-resolution tensors.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { seededRandom } from '@disco/runtime/testing';
import { normalizedLabToRgb, resizeArea, rgbToNormalizedLab } from '@disco/color';
import { normalizedLabToSrgb8, srgb8ToNormalizedLab } from '@disco/color';
import { composeRgb8, labAtModelSize, type Rgb8Image } from '../src/io/banded.js';
import { guidedUpsample } from '../src/model/guided.js';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

/** A smooth random photo-like image (gradients plus noise), `W×H`. */
function photo(W: number, H: number, seed: number): Rgb8Image {
  const r = seededRandom(seed);
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      data[i] = Math.min(255, Math.floor((255 * x) / W + 30 * r()));
      data[i + 1] = Math.min(255, Math.floor((255 * y) / H + 30 * r()));
      data[i + 2] = Math.floor(255 * r());
    }
  return { data, width: W, height: H };
}
const asTensor = (img: Rgb8Image): tf.Tensor4D => tf.tensor4d(Float32Array.from(img.data, (v) => v / 255), [1, img.height, img.width, 3]);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('plain-array color conversions', () => {
  it('srgb8ToNormalizedLab equals rgbToNormalizedLab within 2e-6 ([4096 pixels, every byte value])', () => {
    const img = photo(64, 64, 1);
    for (let v = 0; v < 256; v++) img.data.set([v, 255 - v, (v * 7) & 255], v * 3);
    const L = new Float32Array(4096);
    const ab = new Float32Array(8192);
    srgb8ToNormalizedLab(img.data, L, ab);
    const ref = rgbToNormalizedLab(asTensor(img));
    expect(maxAbs(L, ref.L.dataSync())).toBeLessThan(2e-6);
    expect(maxAbs(ab, ref.ab.dataSync())).toBeLessThan(2e-6);
    tf.dispose([ref.L, ref.ab]);
  });

  it('normalizedLabToSrgb8 equals quantised normalizedLabToRgb: at most 1 level apart, 99.9 % identical ([4096 pixels], out-of-gamut included)', () => {
    const r = seededRandom(2);
    const L = Float32Array.from({ length: 4096 }, () => 2 * r() - 1);
    const ab = Float32Array.from({ length: 8192 }, () => 1.6 * r() - 0.8);
    const out = new Uint8Array(4096 * 3);
    normalizedLabToSrgb8(L, ab, out);
    const ref = tf.tidy(() => normalizedLabToRgb(tf.tensor4d(L, [1, 64, 64, 1]), tf.tensor4d(ab, [1, 64, 64, 2])).dataSync());
    const q = Uint8Array.from(ref, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    expect(maxAbs(out, q)).toBeLessThanOrEqual(1);
    expect(out.filter((v, i) => v !== q[i]).length / out.length).toBeLessThan(1e-3);
  });
});

describe('labAtModelSize (band by band) = resizeArea(rgbToNormalizedLab(rgb)) ', () => {
  for (const [W, H] of [
    [300, 200],
    [333, 257],
    [1030, 700],
    [50, 40],
    [2000, 60],
  ] as const) {
    it(`[${H}, ${W}] → [64, 64]: L and ab within 2e-6; bands of 4096 px give the same bits as one band`, () => {
      const img = photo(W, H, W);
      const ref = tf.tidy(() => {
        const lab = rgbToNormalizedLab(asTensor(img));
        return [resizeArea(lab.L, 64, 64).dataSync(), resizeArea(lab.ab, 64, 64).dataSync()];
      });
      const L = labAtModelSize(img, 'L', 64, 64, 4096);
      const ab = labAtModelSize(img, 'ab', 64, 64, 4096);
      const whole = labAtModelSize(img, 'L', 64, 64, Infinity);
      expect(L.shape).toEqual([1, 64, 64, 1]);
      expect(ab.shape).toEqual([1, 64, 64, 2]);
      expect(maxAbs(L.dataSync(), ref[0]!)).toBeLessThan(2e-6);
      expect(maxAbs(ab.dataSync(), ref[1]!)).toBeLessThan(2e-6);
      expect(Buffer.from(whole.dataSync().buffer).equals(Buffer.from(L.dataSync().buffer))).toBe(true);
      tf.dispose([L, ab, whole]);
    });
  }
});

describe('composeRgb8 (band by band) = quantised normalizedLabToRgb(L, resizeBilinear(ab))', () => {
  it('[333, 517] from ab [1, 64, 64, 2]: at most 1 level apart, 99.9 % identical; any band size gives the same bytes', () => {
    const img = photo(517, 333, 3);
    const r = seededRandom(4);
    const ab = tf.tensor4d(Float32Array.from({ length: 64 * 64 * 2 }, () => 0.8 * r() - 0.4), [1, 64, 64, 2]);
    const got = composeRgb8(img, ab, { bandPixels: 5000 });
    const ref = tf.tidy(() => {
      const { L } = rgbToNormalizedLab(asTensor(img));
      const rgb = normalizedLabToRgb(L, tf.image.resizeBilinear(ab, [333, 517], false, true) as tf.Tensor4D).dataSync();
      return Uint8Array.from(rgb, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    });
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(1);
    expect(got.filter((v, i) => v !== ref[i]).length / got.length).toBeLessThan(1e-3);
    expect(Buffer.from(composeRgb8(img, ab)).equals(Buffer.from(got))).toBe(true);
    ab.dispose();
  });

  it('with a guide = quantised normalizedLabToRgb(L, guidedUpsample(Lsmall, ab, L)), [333, 517] from [1, 64, 64, 2], r = 8, ε = 0.01: at most 1 level apart, 99.9 % identical, any band size', () => {
    const img = photo(517, 333, 6);
    const r = seededRandom(8);
    const ab = tf.tensor4d(Float32Array.from({ length: 64 * 64 * 2 }, () => 0.8 * r() - 0.4), [1, 64, 64, 2]);
    const Lsmall = labAtModelSize(img, 'L', 64, 64);
    const guide = { L: Lsmall, radius: 8, eps: 0.01 };
    const before = tf.memory().numTensors;
    const got = composeRgb8(img, ab, { bandPixels: 5000, guide });
    expect(tf.memory().numTensors).toBe(before);
    const ref = tf.tidy(() => {
      const { L } = rgbToNormalizedLab(asTensor(img));
      const rgb = normalizedLabToRgb(L, guidedUpsample(Lsmall, ab, L, guide)).dataSync();
      return Uint8Array.from(rgb, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    });
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(1);
    expect(got.filter((v, i) => v !== ref[i]).length / got.length).toBeLessThan(1e-3);
    expect(Buffer.from(composeRgb8(img, ab, { guide })).equals(Buffer.from(got))).toBe(true);
    tf.dispose([ab, Lsmall]);
  });

  it('holds no full-resolution tensor: peak tfjs memory of a [800, 1200] image stays below one float per pixel', async () => {
    const img = photo(1200, 800, 5);
    const ab = tf.zeros([1, 64, 64, 2]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const prof = await tf.profile(() => {
      const L = labAtModelSize(img, 'L', 64, 64);
      composeRgb8(img, ab);
      return L;
    });
    (prof.result as tf.Tensor).dispose();
    expect(prof.peakBytes).toBeLessThan(1200 * 800 * 4);
    expect(tf.memory().numTensors).toBe(before);
    ab.dispose();
  });
});
