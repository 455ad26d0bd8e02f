// The guided filter (He et al. 2010/2013) and its fast upsampling form (He & Sun 2015) against a
// direct float64 reference of Algorithm 1 (explicit loops over clipped windows), plus the
// properties the colorization relies on: a constant is unchanged, a step in the guide keeps a step
// in the output, no tensor leaks, and one-line errors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeaks, seededRandom } from '@disco/runtime/testing';
import { guidedCoefficients, guidedFilter, guidedUpsample } from '../src/model/guided.js';

/** Mean of `v` (`[H,W]`, one channel) over the `(2r+1)²` window around (y, x), clipped at the borders. */
function windowMean(v: number[][], y: number, x: number, r: number): number {
  let s = 0;
  let n = 0;
  for (let i = Math.max(0, y - r); i <= Math.min(v.length - 1, y + r); i++)
    for (let j = Math.max(0, x - r); j <= Math.min(v[0]!.length - 1, x + r); j++) {
      s += v[i]![j]!;
      n++;
    }
  return s / n;
}

/** He et al. (2013), Algorithm 1, grey guide I `[H,W]`, one channel p `[H,W]`, in float64. */
function referenceGuided(I: number[][], p: number[][], r: number, eps: number): number[][] {
  const map = (f: (y: number, x: number) => number) => I.map((row, y) => row.map((_, x) => f(y, x)));
  const II = map((y, x) => I[y]![x]! ** 2);
  const Ip = map((y, x) => I[y]![x]! * p[y]![x]!);
  const a = map((y, x) => {
    const mI = windowMean(I, y, x, r);
    return (windowMean(Ip, y, x, r) - mI * windowMean(p, y, x, r)) / (windowMean(II, y, x, r) - mI * mI + eps);
  });
  const b = map((y, x) => windowMean(p, y, x, r) - a[y]![x]! * windowMean(I, y, x, r));
  return map((y, x) => windowMean(a, y, x, r) * I[y]![x]! + windowMean(b, y, x, r));
}

/** Channel c of `[1,H,W,C]` values as `[H][W]`. */
function channel(t: tf.Tensor4D, c: number): number[][] {
  return (t.arraySync() as number[][][][])[0]!.map((row) => row.map((px) => px[c]!));
}

describeBackends(describe, beforeAll, 'guidedFilter', () => {
  it('equals the float64 reference of Algorithm 1 within 1e-5 (abs), [1,7,9,1] guide, [1,7,9,2] src, r = 2, ε = 0.05; and r = 0, ε = 1e-3', () => {
    const rnd = seededRandom(7);
    const guide = tf.tensor4d(Array.from({ length: 63 }, () => rnd() * 2 - 1), [1, 7, 9, 1]);
    const src = tf.tensor4d(Array.from({ length: 126 }, () => rnd() * 2 - 1), [1, 7, 9, 2]);
    for (const [r, eps] of [[2, 0.05], [0, 1e-3], [5, 0.01]] as const) {
      const q = guidedFilter(guide, src, { radius: r, eps });
      expect(q.shape).toEqual([1, 7, 9, 2]);
      expect(q.dtype).toBe('float32');
      for (const c of [0, 1]) expectClose(channel(q, c).flat(), referenceGuided(channel(guide, 0), channel(src, c), r, eps).flat(), { rtol: 0, atol: 1e-5, what: `r = ${r}, channel ${c}` });
      q.dispose();
    }
    tf.dispose([guide, src]);
  });

  it('a batch of two equals two batches of one, [2,6,5,·]', () => {
    const rnd = seededRandom(3);
    const guide = tf.tensor4d(Array.from({ length: 60 }, () => rnd()), [2, 6, 5, 1]);
    const src = tf.tensor4d(Array.from({ length: 120 }, () => rnd()), [2, 6, 5, 2]);
    const both = guidedFilter(guide, src, { radius: 1, eps: 0.01 });
    for (const i of [0, 1]) {
      const one = guidedFilter(tf.slice(guide, [i, 0, 0, 0], [1, 6, 5, 1]), tf.slice(src, [i, 0, 0, 0], [1, 6, 5, 2]), { radius: 1, eps: 0.01 });
      expectClose(tf.slice(both, [i, 0, 0, 0], [1, 6, 5, 2]), one, { rtol: 0, atol: 1e-6 });
    }
  });

  it('leaves a constant ab unchanged (1e-5) over a random guide, [1,16,12,2]', () => {
    const rnd = seededRandom(11);
    const guide = tf.tensor4d(Array.from({ length: 192 }, () => rnd() * 2 - 1), [1, 16, 12, 1]);
    const src = tf.add(tf.zeros([1, 16, 12, 2]), tf.tensor1d([0.3, -0.2])) as tf.Tensor4D;
    expectClose(guidedFilter(guide, src, { radius: 3, eps: 0.01 }), src, { rtol: 0, atol: 1e-5 });
    const big = guidedUpsample(guide, src, tf.tensor4d(Array.from({ length: 4 * 192 }, () => rnd() * 2 - 1), [1, 32, 24, 1]), { radius: 3, eps: 0.01 });
    expect(big.shape).toEqual([1, 32, 24, 2]);
    expectClose(big, tf.add(tf.zeros([1, 32, 24, 2]), tf.tensor1d([0.3, -0.2])), { rtol: 0, atol: 1e-5 });
  });

  it('keeps a step: a step of L at column 16 keeps a step of ab there (≥ 90 % of it), where a box mean of the same radius leaves < 25 %, [1,8,32,·]', () => {
    const step = (lo: number, hi: number, C: number) => tf.tensor4d(Array.from({ length: 8 * 32 }, (_, i) => Array(C).fill(i % 32 < 16 ? lo : hi)).flat(), [1, 8, 32, C]);
    const L = step(-0.5, 0.5, 1);
    const ab = step(0.3, -0.3, 2);
    const q = channel(guidedFilter(L, ab, { radius: 6, eps: 0.01 }), 0);
    expect(q[4]![15]! - q[4]![16]!).toBeGreaterThan(0.9 * 0.6);
    // A box mean of radius 6 (what the filter does where L is flat) nearly erases it.
    const box = channel(tf.avgPool(ab, [13, 13], 1, 'same') as tf.Tensor4D, 0);
    expect(box[4]![15]! - box[4]![16]!).toBeLessThan(0.25 * 0.6);
  });

  it('upsampling keeps the full-resolution step: [1,8,8] → [1,32,32], L step at column 13 (off the 4-pixel grid), ab follows it within one pixel, bilinear spreads it over ≥ 4', () => {
    const stepAt = (n: number, at: number, lo: number, hi: number, C: number) => tf.tensor4d(Array.from({ length: n * n }, (_, i) => Array(C).fill(i % n < at ? lo : hi)).flat(), [1, n, n, C]);
    const Lfull = stepAt(32, 13, -0.5, 0.5, 1);
    const Llow = tf.image.resizeBilinear(tf.avgPool(Lfull, 4, 4, 'valid') as tf.Tensor4D, [8, 8]) as tf.Tensor4D; // area downsampling
    const abLow = tf.mul(Llow, -0.6) as tf.Tensor4D; // ab follows L (blurred at the low resolution)
    const abLow2 = tf.concat([abLow, abLow], 3) as tf.Tensor4D;
    const q = channel(guidedUpsample(Llow, abLow2, Lfull, { radius: 2, eps: 0.01 }), 0)[16]!;
    const bil = channel(tf.image.resizeBilinear(abLow2, [32, 32], false, true) as tf.Tensor4D, 0)[16]!;
    // The guided result jumps between columns 12 and 13 (the full-resolution edge), by most of the 0.6 step.
    expect(q[12]! - q[13]!).toBeGreaterThan(0.45);
    expect(Math.abs(q[10]! - q[12]!)).toBeLessThan(0.05);
    expect(Math.abs(q[13]! - q[15]!)).toBeLessThan(0.05);
    // Bilinear moves by less than half of that in any one column.
    expect(Math.max(...bil.slice(1).map((v, i) => Math.abs(v - bil[i]!)))).toBeLessThan(0.25);
  });

  it('at equal sizes guidedUpsample equals guidedFilter; guidedCoefficients gives [meanA, meanB] with q = meanA·I + meanB, [1,5,6,·]', () => {
    const rnd = seededRandom(5);
    const guide = tf.tensor4d(Array.from({ length: 30 }, () => rnd()), [1, 5, 6, 1]);
    const src = tf.tensor4d(Array.from({ length: 60 }, () => rnd()), [1, 5, 6, 2]);
    const q = guidedFilter(guide, src, { radius: 1, eps: 0.02 });
    expectClose(guidedUpsample(guide, src, guide, { radius: 1, eps: 0.02 }), q, { rtol: 0, atol: 1e-6 });
    const ab = guidedCoefficients(guide, src, { radius: 1, eps: 0.02 });
    expect(ab.shape).toEqual([1, 5, 6, 4]);
    const [a, b] = tf.split(ab, 2, 3);
    expectClose(tf.add(tf.mul(a!, guide), b!), q, { rtol: 0, atol: 1e-6 });
  });

  it('does not leak tensors (guidedFilter, guidedUpsample, guidedCoefficients)', async () => {
    const guide = tf.randomUniform([1, 8, 8, 1]) as tf.Tensor4D;
    const src = tf.randomUniform([1, 8, 8, 2]) as tf.Tensor4D;
    const full = tf.randomUniform([1, 20, 24, 1]) as tf.Tensor4D;
    await expectNoLeaks(() => guidedFilter(guide, src, { radius: 2, eps: 0.01 }), 'guidedFilter');
    await expectNoLeaks(() => guidedUpsample(guide, src, full, { radius: 2, eps: 0.01 }), 'guidedUpsample');
    await expectNoLeaks(() => guidedCoefficients(guide, src, { radius: 2, eps: 0.01 }), 'guidedCoefficients');
    const bad = tf.zeros([1, 4, 8, 2]) as tf.Tensor4D;
    const n = tf.memory().numTensors;
    expect(() => guidedFilter(guide, bad, { radius: 2, eps: 0.01 })).toThrow();
    expect(tf.memory().numTensors).toBe(n); // nothing left behind by a rejected call
    tf.dispose([guide, src, full, bad]);
  });

  it('bad input is one line naming the op and the argument', () => {
    const g = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    const s = tf.zeros([1, 4, 8, 2]) as tf.Tensor4D;
    const msg = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg(() => guidedFilter(g, s, { radius: 2, eps: 0.01 }))).toBe('guidedFilter: guide [1,8,8,1] and src [1,4,8,2] must have the same batch, height and width');
    expect(msg(() => guidedUpsample(tf.slice(s, [0, 0, 0, 0], [1, 4, 8, 1]), s, tf.zeros([1, 8, 8, 2]) as tf.Tensor4D, { radius: 2, eps: 0.01 }))).toBe('guidedUpsample: guide must be [1, height, width, 1], got [1,8,8,2]');
    expect(msg(() => guidedFilter(g, tf.zeros([1, 8, 8, 2]) as tf.Tensor4D, { radius: 1.5, eps: 0.01 }))).toBe('guidedFilter: radius must be an integer ≥ 0, got 1.5');
    expect(msg(() => guidedFilter(g, tf.zeros([1, 8, 8, 2]) as tf.Tensor4D, { radius: 1, eps: 0 }))).toBe('guidedFilter: eps must be a number > 0, got 0');
  });
});
