import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeaks } from '@disco/runtime/testing';
import { kmeans, kmeansPublished, locateAnchors, selectAnchors } from '../src/index.js';

/** Five 1-D tokens 0, 1, 10, 11, 20 as `[1, 5, 1]`. */
const line = () => tf.tensor3d([0, 1, 10, 11, 20], [1, 5, 1]);

describeBackends(describe, beforeAll, 'kmeansPublished (the released code’s rules)', () => {
  it('runs the hand-derived passes from the given tokens and stops on (Σ‖Δc‖)² < tol: [1,5,1] K=2 init [0,1]', () => {
    const x = line();
    // pass 1: {0} | {1,10,11,20} → c = [0, 10.5], shift 9.5; pass 2: {0,1} | {10,11,20} → [0.5, 13.67];
    // pass 3: same clusters, shift 0 → stop.
    const r = kmeansPublished(x, { k: 2 }, [[0, 1]]);
    expect(r.assignments.arraySync()).toEqual([[0, 0, 1, 1, 1]]);
    expect(Array.from(r.centroids.dataSync())).toEqual([0.5, Math.fround(41 / 3)]);
    expect([r.iterations, r.converged, r.initIndices]).toEqual([[3], [true], [[0, 1]]]);
    tf.dispose([x, r.assignments, r.centroids]);
  });

  it('returns the assignment computed at the start of the last pass, not against the returned centres (maxIter 1)', () => {
    const x = line();
    const r = kmeansPublished(x, { k: 2, maxIter: 1 }, [[0, 1]]);
    // Token 1 (value 1) belonged to centre 1 at the start of the pass; the returned centres are [0, 10.5].
    expect(r.assignments.arraySync()).toEqual([[0, 1, 1, 1, 1]]);
    expect(Array.from(r.centroids.dataSync())).toEqual([0, 10.5]);
    expect([r.iterations, r.converged]).toEqual([[1], [false]]);
    // This project's k-means assigns against its final centres instead.
    const ours = kmeans(x, { k: 2, maxIter: 1 }, tf.tensor3d([0, 1], [1, 2, 1]));
    expect(ours.assignments.arraySync()).toEqual([[0, 0, 1, 1, 1]]);
    tf.dispose([x, r.assignments, r.centroids, ours.assignments, ours.centroids]);
  });

  it('draws K distinct initial tokens from the seed (same seed, same draw; images get their own streams), B=2', () => {
    const x = tf.tensor3d(Array.from({ length: 2 * 12 * 2 }, (_, i) => Math.sin(i * 1.7)), [2, 12, 2]);
    const a = kmeansPublished(x, { k: 4, seed: 9 });
    const b = kmeansPublished(x, { k: 4, seed: 9 });
    const c = kmeansPublished(x, { k: 4, seed: 10 });
    expect(a.initIndices).toEqual(b.initIndices);
    expect(a.initIndices).not.toEqual(c.initIndices);
    a.initIndices.forEach((row) => expect(new Set(row).size).toBe(4));
    expect(a.initIndices[0]).not.toEqual(a.initIndices[1]);
    tf.dispose([x, a.assignments, a.centroids, b.assignments, b.centroids, c.assignments, c.centroids]);
  });

  it('re-seeds an empty cluster with a drawn token, and the published selection then picks the globally largest token (a repeated anchor)', () => {
    // Three coincident tokens and one apart; both initial centres coincide, so cluster 1 is empty after pass 1.
    const x = tf.tensor3d([0, 0, 0, 5], [1, 4, 1]);
    const r = kmeansPublished(x, { k: 2, maxIter: 1 }, [[0, 1]]);
    expect(r.assignments.arraySync()).toEqual([[0, 0, 0, 0]]);
    expect([0, 5]).toContain(r.centroids.dataSync()[1]); // a token's value, not NaN
    const sizes = tf.tensor4d([1, 3, 2, 0.5], [1, 1, 4, 1]);
    const published = selectAnchors(r.assignments, sizes, 2, { emptyCluster: 'largest' });
    expect(published.indices.arraySync()).toEqual([[1, 1]]); // cluster 0's largest is token 1, and so is the global largest
    expect(Array.from(published.mask.dataSync())).toEqual([0, 2, 0, 0]);
    const distinct = selectAnchors(r.assignments, sizes, 2);
    expect(distinct.indices.arraySync()).toEqual([[1, 2]]);
    tf.dispose([x, r.assignments, r.centroids, sizes, published.indices, published.mask, distinct.indices, distinct.mask]);
  });

  it('locateAnchors with rules "published" uses the given initial tokens; bad options give one line', () => {
    const feats = tf.tensor4d([0, 1, 10, 11, 20, 21], [1, 2, 3, 1]);
    const sizes = tf.tensor4d([1, 2, 1, 3, 1, 0.5], [1, 2, 3, 1]);
    const r = locateAnchors(feats, sizes, { k: 2, rules: 'published', initIndices: [[0, 5]] });
    // From centres 0 and 21: {0, 1, 10} | {11, 20, 21} (10 is 10 from 0 and 11 from 21), unchanged in
    // pass 2; largest members: token 1 (size 2) and token 3 (size 3).
    expect(r.assignments!.arraySync()).toEqual([[0, 0, 0, 1, 1, 1]]);
    expect(r.indices.arraySync()).toEqual([[1, 3]]);
    expect(() => locateAnchors(feats, sizes, { k: 2, rules: 'published', metric: 'cosine' })).toThrow(/published rules cluster with the euclidean metric/);
    expect(() => locateAnchors(feats, sizes, { k: 2, initIndices: [[0, 5]] })).toThrow(/initIndices must be null or, with the published rules/);
    expect(() => kmeansPublished(tf.tensor3d([0, 1, 2], [1, 3, 1]), { k: 2 }, [[0, 0]])).toThrow(/initIndices\[0\] must be 2 distinct token indices in \[0, 3\), got \[0, 0\]/);
    expect(() => kmeansPublished(tf.tensor3d([0, NaN, 2], [1, 3, 1]), { k: 2 })).toThrow(/x contains NaN or Infinity/);
    tf.dispose([feats, sizes, r.indices, r.mask, r.assignments!]);
  });

  it('does not leak tensors', async () => {
    const x = line();
    await expectNoLeaks(() => {
      const r = kmeansPublished(x, { k: 2 });
      return [r.assignments, r.centroids];
    }, 'kmeansPublished');
    x.dispose();
  });
});
