import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeaks, seededRandom } from '@disco/runtime/testing';
import { locateAnchors, randomAnchors, selectAnchors } from '../src/index.js';

const mask1 = (m: tf.Tensor) => Array.from(m.dataSync());

describeBackends(describe, beforeAll, 'selectAnchors / randomAnchors / locateAnchors', () => {
  it('picks the largest member of each cluster (hand-derived), h=2 w=3 K=2', () => {
    // tokens:      0    1    2    3    4    5
    const a = tf.tensor2d([[0, 1, 0, 1, 1, 0], [1, 1, 1, 0, 0, 0]], [2, 6], 'int32');
    const s = tf.tensor4d([0.5, 2, 3, 1, 2.5, 0.2, 9, 0.1, 9, 4, 4, 5], [2, 2, 3, 1]);
    const { indices, mask } = selectAnchors(a, s, 2);
    // image 0: cluster 0 = {0,2,5} → 2 (3.0); cluster 1 = {1,3,4} → 4 (2.5).
    // image 1: cluster 0 = {3,4,5} → 5; cluster 1 = {0,1,2}, tie 9 = 9 → lower index 0.
    expect(indices.arraySync()).toEqual([[2, 4], [5, 0]]);
    expect(indices.dtype).toBe('int32');
    expect(mask.shape).toEqual([2, 2, 3, 1]);
    expect(mask1(mask)).toEqual([0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1]);
    tf.dispose([a, s, indices, mask]);
  });

  it('gives empty clusters the largest token not chosen yet, h=1 w=4 K=3', () => {
    const a = tf.tensor2d([[0, 0, 2, 2]], [1, 4], 'int32'); // cluster 1 empty
    const s = tf.tensor4d([[[[5], [1], [4], [3]]]]);
    const { indices, mask } = selectAnchors(a, s, 3);
    expect(indices.arraySync()).toEqual([[0, 3, 2]]); // cluster 2 → token 2 (4 > 3); empty cluster 1 → token 3
    expect(mask1(mask)).toEqual([1, 0, 1, 1]);
    tf.dispose([a, s, indices, mask]);
  });

  it('random mode: K distinct positions, seeded, uniform over positions, B=3 h=4 w=4 K=8', () => {
    const r1 = randomAnchors(3, 4, 4, 8, 5);
    const r2 = randomAnchors(3, 4, 4, 8, 5);
    const r3 = randomAnchors(3, 4, 4, 8, 6);
    const idx = r1.indices.arraySync();
    idx.forEach((row) => expect(new Set(row).size).toBe(8));
    expect(r2.indices.arraySync()).toEqual(idx);
    expect(r3.indices.arraySync()).not.toEqual(idx);
    expect(mask1(r1.mask).reduce((s, v) => s + v, 0)).toBe(24);
    for (const row of idx) for (const t of row) expect(r1.mask.dataSync()[idx.indexOf(row) * 16 + t]).toBe(1);
    tf.dispose([r1, r2, r3] as unknown as tf.TensorContainer);
    // Uniformity: each of 6 positions is chosen with probability 2/6 when K=2; 600 draws, ±5σ.
    const counts = new Array(6).fill(0);
    for (let seed = 0; seed < 300; seed++) {
      const r = randomAnchors(2, 2, 3, 2, seed);
      for (const t of r.indices.dataSync()) counts[t]++;
      tf.dispose([r.indices, r.mask]);
    }
    const sigma = Math.sqrt(600 * (1 / 3) * (2 / 3));
    counts.forEach((c) => expect(Math.abs(c - 200)).toBeLessThan(5 * sigma));
  });

  it('locates one anchor per color group at its largest superpixel, [1,4,4,2] K=2', () => {
    // Left half red-ish, right half blue-ish; the largest superpixel of each half is the anchor.
    const cs: number[][][] = [];
    const rnd = seededRandom(3);
    for (let r = 0; r < 4; r++) cs.push(Array.from({ length: 4 }, (_, c) => (c < 2 ? [0.5 + 0.01 * rnd(), 0.3] : [-0.2, -0.6 + 0.01 * rnd()])));
    const feats = tf.tensor4d([cs]);
    const sizeVals = Array.from({ length: 16 }, (_, t) => 1 + 0.01 * t);
    sizeVals[9] = 2; // left half (col 1, row 2)
    sizeVals[7] = 1.8; // right half (col 3, row 1)
    const sizes = tf.tensor4d(sizeVals, [1, 4, 4, 1]);
    for (const seed of [0, 1, 2]) {
      const r = locateAnchors(feats, sizes, { k: 2, seed });
      expect(new Set(r.indices.arraySync()[0])).toEqual(new Set([9, 7]));
      const a = r.assignments!.arraySync()[0]!;
      expect(a.filter((_, t) => t % 4 < 2).every((v) => v === a[0])).toBe(true);
      expect(a.filter((_, t) => t % 4 >= 2).every((v) => v === a[2] && v !== a[0])).toBe(true);
      tf.dispose([r.indices, r.mask, r.assignments!]);
    }
    const rr = locateAnchors(feats, sizes, { k: 3, placement: 'random', seed: 4 });
    expect(rr.assignments).toBeNull();
    const ref = randomAnchors(1, 4, 4, 3, 4);
    expect(rr.indices.arraySync()).toEqual(ref.indices.arraySync());
    tf.dispose([feats, sizes, rr.indices, rr.mask, ref.indices, ref.mask]);
  });

  it('handles K > distinct tokens: K distinct anchors, no NaN, [1,2,2,2] K=4', () => {
    const feats = tf.tensor4d([[[[1, 0], [1, 0]], [[1, 0], [0, 1]]]]);
    const sizes = tf.tensor4d([[[[1], [3]], [[2], [0.5]]]]);
    const r = locateAnchors(feats, sizes, { k: 4 });
    expect(new Set(r.indices.arraySync()[0]).size).toBe(4);
    expect(mask1(r.mask)).toEqual([1, 1, 1, 1]);
    tf.dispose([feats, sizes, r.indices, r.mask, r.assignments!]);
  });

  it('does not leak tensors', async () => {
    const feats = tf.randomUniform([2, 4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const sizes = tf.randomUniform([2, 4, 4, 1], 0, 2, 'float32', 2) as tf.Tensor4D;
    await expectNoLeaks(() => locateAnchors(feats, sizes, { k: 4 }), 'locateAnchors');
    await expectNoLeaks(() => locateAnchors(feats, sizes, { k: 4, placement: 'random' }), 'locateAnchors random');
    const a = tf.zeros([2, 16], 'int32') as tf.Tensor2D;
    await expectNoLeaks(() => selectAnchors(a, sizes, 3), 'selectAnchors');
    tf.dispose([feats, sizes, a]);
  });

  it('rejects bad inputs with one-line errors naming the argument', () => {
    const a = tf.zeros([1, 4], 'int32') as tf.Tensor2D;
    const s = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
    expect(() => selectAnchors(tf.zeros([1, 4]) as tf.Tensor2D, s, 2)).toThrow(/selectAnchors: assignments must be int32/);
    expect(() => selectAnchors(a, tf.ones([1, 2, 3, 1]) as tf.Tensor4D, 2)).toThrow(/selectAnchors: sizes .* must have batch 1 and h·w = 4/);
    expect(() => selectAnchors(a, tf.fill([1, 2, 2, 1], 100) as tf.Tensor4D, 2)).toThrow(/selectAnchors: sizes must lie in \[0, 100\)/);
    expect(() => selectAnchors(a, s, 5)).toThrow(/selectAnchors: k must be an integer in \[1, 4\]/);
    expect(() => selectAnchors(tf.tensor2d([[0, 3, 0, 0]], [1, 4], 'int32'), s, 2)).toThrow(/selectAnchors: assignments must lie in \[0, 2\)/);
    expect(() => randomAnchors(1, 2, 2, 5)).toThrow(/randomAnchors: k must be an integer in \[1, 4\]/);
    expect(() => randomAnchors(1, 2, 2, 2, -1)).toThrow(/randomAnchors: seed/);
    expect(() => locateAnchors(tf.ones([1, 2, 2, 2]) as tf.Tensor4D, s, { placement: 'grid' as never })).toThrow(/placement must be one of cluster, random/);
    expect(() => locateAnchors(tf.ones([1, 2, 2, 2]) as tf.Tensor4D, s, { k: 8 })).toThrow(/locateAnchors: k \(8\) must be <= h·w \(4\)/);
    tf.dispose([a, s]);
  });
});
