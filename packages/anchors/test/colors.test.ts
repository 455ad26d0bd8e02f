import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeaks } from '@disco/runtime/testing';
import { anchorHints, groundTruthAnchorColors, nearestBins, sampleAnchorColors } from '../src/index.js';
import { binOf, loadBins } from './bins.js';

const points = loadBins();

/** Logits `[1, T, 313]`: token `tok` gets the given (ab → logit) entries, everything else 0. */
function logitsWith(T: number, tok: number, entries: [number, number, number][]): tf.Tensor3D {
  const v = new Float32Array(T * 313);
  for (const [a, b, l] of entries) v[tok * 313 + binOf(points, a, b)] = l;
  return tf.tensor3d(v, [1, T, 313]);
}

describeBackends(describe, beforeAll, 'anchor colors', () => {
  let bins: tf.Tensor2D;
  beforeAll(() => {
    bins = tf.tensor2d(points);
  });

  it('nearestBins maps ab to the nearest of the 313 bins (hand-derived), [2,2,2]', () => {
    const ab = tf.tensor3d([[[0, 0], [4, 4]], [[-88, 52], [6, -6]]]);
    const r = nearestBins(ab, bins);
    expect(r.shape).toEqual([2, 2]);
    expect(r.dtype).toBe('int32');
    expect((r.arraySync() as number[][]).flat().map((i) => points[i])).toEqual([[0, 0], [0, 0], [-90, 50], [10, -10]]);
    tf.dispose([ab, r]);
  });

  it('samples T=0/1/2 by the documented rules on a hand-built distribution, 313 bins, topK 10', () => {
    const top = [
      [0, 0, 10], [50, 0, 9], [-40, 0, 8], [0, 60, 7], [60, 60, 6],
      [10, 10, 5], [-10, 10, 4.9], [10, -10, 4.8], [-10, -10, 4.7], [20, 0, 4.6],
      [-90, 50, 4.5], // 11th: far away but outside the top 10
    ] as [number, number, number][];
    const logits = logitsWith(4, 2, top);
    const idx = tf.tensor2d([[2]], [1, 1], 'int32');
    const pick = (variant: 0 | 1 | 2) => {
      const c = sampleAnchorColors(logits, bins, idx, { variant });
      const p = points[c.dataSync()[0]!];
      c.dispose();
      return p;
    };
    expect(pick(0)).toEqual([0, 0]); // most probable
    expect(pick(1)).toEqual([60, 60]); // 84.9 from [0,0], the farthest of the top 10
    // min distance to [0,0] and [60,60]: [50,0] 50, [-40,0] 40, [0,60] 60, near ones ≤ 20.
    expect(pick(2)).toEqual([0, 60]);
    // The published rule sums them: [-40,0] 40 + 116.6 = 156.6 beats [0,60] 60 + 60 and [-10,-10] 14.1 + 99.0.
    const sum = sampleAnchorColors(logits, bins, idx, { variant: 2, diverse: 'sum' });
    expect(points[sum.dataSync()[0]!]).toEqual([-40, 0]);
    sum.dispose();
    // topK 1 degenerates to the most probable for every variant.
    const c = sampleAnchorColors(logits, bins, idx, { variant: 2, topK: 1 });
    expect(points[c.dataSync()[0]!]).toEqual([0, 0]);
    tf.dispose([logits, idx, c]);
  });

  it('breaks distance ties towards the more probable bin; works on [B,h,w,313] logits', () => {
    const flat = logitsWith(4, 3, [[0, 0, 10], [30, 0, 9], [0, 30, 8], [10, 0, 7], [0, 10, 6], [-10, 0, 5], [0, -10, 4], [10, 10, 3], [-10, -10, 2], [10, -10, 1]]);
    const logits = tf.reshape(flat, [1, 2, 2, 313]);
    const idx = tf.tensor2d([[3, 0]], [1, 2], 'int32');
    const c1 = sampleAnchorColors(logits, bins, idx, { variant: 1 });
    const c2 = sampleAnchorColors(logits, bins, idx, { variant: 2 });
    expect(points[c1.dataSync()[0]!]).toEqual([30, 0]); // [30,0] and [0,30] both 30 away: the more probable
    expect(points[c2.dataSync()[0]!]).toEqual([0, 30]); // min(30, 42.4) = 30 beats every near bin
    // Token 0 has all-equal logits: the top 10 are bins 0..9 (ties to the lower index), bin 0 is
    // [-90,50] and the farthest of bins 1..9 from it is bin 4, [-90,90] (40 away).
    expect(c1.dataSync()[1]).toBe(4);
    tf.dispose([flat, logits, idx, c1, c2]);
  });

  it('ground-truth mode gathers each anchor token’s own bin, [1,2,2]', () => {
    const cls = tf.tensor3d([[[5, 7], [9, 11]]], [1, 2, 2], 'int32');
    const idx = tf.tensor2d([[3, 0]], [1, 2], 'int32');
    const r = groundTruthAnchorColors(cls, idx);
    expect(r.dtype).toBe('int32');
    expect(r.arraySync()).toEqual([[11, 5]]);
    tf.dispose([cls, idx, r]);
  });

  it('a repeated anchor (the published locator, an empty cluster) counts twice: mask 2 and its bin 2, h=1 w=3 bins=5', () => {
    const idx = tf.tensor2d([[1, 1]], [1, 2], 'int32');
    const cls = tf.tensor2d([[3, 3]], [1, 2], 'int32');
    const h = anchorHints(idx, cls, 1, 3, 5);
    expect(Array.from(h.mask.dataSync())).toEqual([0, 2, 0]);
    expect(Array.from(h.colors.dataSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
    tf.dispose([idx, cls, h.mask, h.colors]);
  });

  it('anchorHints: mask and one-hot colors at the anchors, zeros elsewhere, h=1 w=3 bins=5', () => {
    const idx = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    const cls = tf.tensor2d([[4, 0]], [1, 2], 'int32');
    const { mask, colors } = anchorHints(idx, cls, 1, 3, 5);
    expect(mask.shape).toEqual([1, 1, 3, 1]);
    expect(Array.from(mask.dataSync())).toEqual([0, 1, 1]);
    expect(colors.shape).toEqual([1, 1, 3, 5]);
    expect(Array.from(colors.dataSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]);
    tf.dispose([idx, cls, mask, colors]);
  });

  it('does not leak tensors', async () => {
    const logits = tf.randomNormal([2, 16, 313], 0, 1, 'float32', 3);
    const idx = tf.tensor2d([[0, 5, 9], [1, 2, 15]], [2, 3], 'int32');
    for (const variant of [0, 1, 2] as const) await expectNoLeaks(() => sampleAnchorColors(logits, bins, idx, { variant }), `sampleAnchorColors ${variant}`);
    const cls = tf.zeros([2, 16], 'int32');
    await expectNoLeaks(() => groundTruthAnchorColors(cls, idx), 'groundTruthAnchorColors');
    await expectNoLeaks(() => anchorHints(idx, idx, 4, 4), 'anchorHints');
    const ab = tf.zeros([2, 2]);
    await expectNoLeaks(() => nearestBins(ab, bins), 'nearestBins');
    tf.dispose([logits, idx, cls, ab]);
  });

  it('rejects bad inputs with one-line errors naming the argument', () => {
    const logits = tf.zeros([1, 4, 313]);
    const idx = tf.tensor2d([[0, 1]], [1, 2], 'int32');
    expect(() => sampleAnchorColors(logits, bins, tf.tensor2d([[0, 4]], [1, 2], 'int32'))).toThrow(/sampleAnchorColors: indices must be token indices in \[0, 4\), got 4 in image 0/);
    expect(() => sampleAnchorColors(logits, bins, idx, { diverse: 'max' as never })).toThrow(/diverse must be one of sum, min/);
    expect(() => sampleAnchorColors(tf.zeros([1, 4, 10]), bins, idx)).toThrow(/sampleAnchorColors: logits have 10 bins but binCentres has 313/);
    expect(() => sampleAnchorColors(logits, bins, idx, { variant: 3 as never })).toThrow(/variant must be one of 0, 1, 2/);
    expect(() => sampleAnchorColors(logits, bins, idx, { topK: 400 })).toThrow(/topK \(400\) must be <= the number of bins \(313\)/);
    expect(() => nearestBins(tf.zeros([3]), bins)).toThrow(/nearestBins: ab must be \[\.\.\., 2\]/);
    expect(() => groundTruthAnchorColors(tf.zeros([1, 4]), idx)).toThrow(/groundTruthAnchorColors: targetClasses must be int32/);
    expect(() => anchorHints(idx, tf.tensor2d([[0, 313]], [1, 2], 'int32'), 2, 2)).toThrow(/anchorHints: classes must lie in \[0, 313\)/);
    tf.dispose([logits, idx]);
  });
});
