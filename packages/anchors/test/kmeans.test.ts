import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeaks, randomTensor, seededRandom } from '@disco/runtime/testing';
import { initCentroids, kmeans } from '../src/index.js';
import { referenceKMeans } from './reference.js';

/** Four well-separated Gaussian-ish blobs in 3-D, 16 points each, shuffled; returns points and true labels. */
function blobs(seed: number): { x: number[][]; labels: number[] } {
  const rnd = seededRandom(seed);
  const centres = [[10, 0, 0], [-10, 0, 0], [0, 10, 0], [0, -10, 10]];
  const items: { p: number[]; l: number }[] = [];
  centres.forEach((c, l) => {
    for (let i = 0; i < 16; i++) items.push({ p: c.map((v) => v + (rnd() - 0.5)), l });
  });
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return { x: items.map((it) => it.p), labels: items.map((it) => it.l) };
}

/** True when `a` and `b` are the same partition up to renaming the clusters. */
function samePartition(a: number[], b: number[]): boolean {
  const f = new Map<number, number>();
  const g = new Map<number, number>();
  return a.every((v, i) => {
    if ((f.get(v) ?? b[i]) !== b[i] || (g.get(b[i]!) ?? v) !== v) return false;
    f.set(v, b[i]!);
    g.set(b[i]!, v);
    return true;
  });
}

describeBackends(describe, beforeAll, 'kmeans', () => {
  for (const metric of ['euclidean', 'cosine'] as const) {
    it(`matches the float64 reference from the same init, [2,48,5] K=5, ${metric}`, () => {
      const x = randomTensor([2, 48, 5], 11) as tf.Tensor3D;
      const init = initCentroids(x, { k: 5, seed: 4, metric, init: 'random' });
      const r = kmeans(x, { k: 5, maxIter: 30, tol: 1e-6, metric }, init);
      const xs = x.arraySync();
      const inits = init.arraySync();
      const a = r.assignments.arraySync();
      const c = r.centroids.arraySync();
      expect(r.assignments.shape).toEqual([2, 48]);
      expect(r.assignments.dtype).toBe('int32');
      expect(r.centroids.shape).toEqual([2, 5, 5]);
      for (let b = 0; b < 2; b++) {
        const ref = referenceKMeans(xs[b]!, inits[b]!, 30, 1e-6, metric === 'cosine');
        expect(a[b]).toEqual(ref.assignments);
        expectClose(c[b]!.flat(), ref.centroids.flat(), { rtol: 0, atol: 1e-5, what: `centroids of image ${b}` });
        expect(r.iterations[b]).toBe(ref.iterations);
        expect(r.converged[b]).toBe(true);
      }
      tf.dispose([x, init, r.assignments, r.centroids]);
    });
  }

  it('re-seeds an empty cluster with the farthest point, like the reference, [1,30,2] K=3', () => {
    const rnd = seededRandom(5);
    const pts = Array.from({ length: 30 }, (_, i) => [i < 20 ? rnd() : 8 + rnd(), rnd()]);
    const init = [[0.5, 0.5], [0.6, 0.4], [100, 100]]; // cluster 2 starts empty
    const x = tf.tensor3d([pts]);
    const r = kmeans(x, { k: 3, maxIter: 20, tol: 0 }, tf.tensor3d([init]));
    const ref = referenceKMeans(pts, init, 20, 0);
    expect(r.assignments.arraySync()[0]).toEqual(ref.assignments);
    expectClose(r.centroids.arraySync()[0]!.flat(), ref.centroids.flat(), { rtol: 0, atol: 1e-5 });
    expect(new Set(ref.assignments).size).toBe(3); // every cluster ends non-empty
    tf.dispose([x, r.assignments, r.centroids]);
  });

  it('recovers four well-separated blobs exactly, [3,64,3] K=4, every seed', () => {
    const data = [blobs(1), blobs(2), blobs(3)];
    const x = tf.tensor3d(data.map((d) => d.x));
    for (const seed of [0, 1, 2, 3]) {
      for (const init of ['kmeans++', 'random'] as const) {
        const r = kmeans(x, { k: 4, seed, init });
        const a = r.assignments.arraySync();
        if (init === 'kmeans++') data.forEach((d, b) => expect(samePartition(a[b]!, d.labels), `seed ${seed} image ${b}`).toBe(true));
        tf.dispose([r.assignments, r.centroids]);
      }
    }
    // k-means++ with the blob means: centroids are the exact member means.
    const r = kmeans(x, { k: 4, seed: 9 });
    const a = r.assignments.arraySync()[0]!;
    const c = r.centroids.arraySync()[0]!;
    for (let k = 0; k < 4; k++) {
      const members = data[0]!.x.filter((_, t) => a[t] === k);
      const mean = [0, 1, 2].map((q) => members.reduce((s, p) => s + p[q]!, 0) / members.length);
      expectClose(c[k]!, mean, { rtol: 0, atol: 1e-5, what: `centroid ${k}` });
    }
    tf.dispose([x, r.assignments, r.centroids]);
  });

  it('is deterministic per seed and differs between seeds, [2,64,8] K=6', () => {
    const x = randomTensor([2, 64, 8], 3) as tf.Tensor3D;
    const run = (seed: number) => {
      const r = kmeans(x, { k: 6, seed });
      const out = { a: r.assignments.arraySync(), c: Array.from(r.centroids.dataSync()) };
      tf.dispose([r.assignments, r.centroids]);
      return out;
    };
    expect(run(7)).toEqual(run(7));
    const i1 = initCentroids(x, { k: 6, seed: 7 });
    const i2 = initCentroids(x, { k: 6, seed: 8 });
    expect(Array.from(i1.dataSync())).not.toEqual(Array.from(i2.dataSync()));
    tf.dispose([x, i1, i2]);
  });

  it('a batch of two equals two batches of one from the same init, [2,40,4] K=4', () => {
    const x = randomTensor([2, 40, 4], 21) as tf.Tensor3D;
    const init = initCentroids(x, { k: 4, seed: 2 });
    const both = kmeans(x, { k: 4 }, init);
    for (let b = 0; b < 2; b++) {
      const xb = tf.slice(x, [b, 0, 0], [1, 40, 4]) as tf.Tensor3D;
      const ib = tf.slice(init, [b, 0, 0], [1, 4, 4]) as tf.Tensor3D;
      const one = kmeans(xb, { k: 4 }, ib);
      expect(one.assignments.arraySync()[0]).toEqual(both.assignments.arraySync()[b]);
      expectClose(one.centroids.arraySync()[0]!.flat(), both.centroids.arraySync()[b]!.flat(), { rtol: 0, atol: 1e-6 });
      expect(one.iterations[0]).toBe(both.iterations[b]);
      tf.dispose([xb, ib, one.assignments, one.centroids]);
    }
    tf.dispose([x, init, both.assignments, both.centroids]);
  });

  it('handles K > number of distinct points: no NaN, surplus clusters empty, [1,12,2] K=6', () => {
    const pts = Array.from({ length: 12 }, (_, i) => [[0, 0], [1, 0], [0, 5]][i % 3]!);
    const x = tf.tensor3d([pts]);
    for (const init of ['kmeans++', 'random'] as const) {
      const r = kmeans(x, { k: 6, init, seed: 1 });
      const a = r.assignments.arraySync()[0]!;
      const c = r.centroids.arraySync()[0]!;
      expect(c.flat().every(Number.isFinite)).toBe(true);
      expect(new Set(a).size).toBe(3);
      // Each point sits exactly on its centroid; equal points share a cluster.
      a.forEach((k, t) => expectClose(c[k]!, pts[t]!, { rtol: 0, atol: 1e-6 }));
      for (let t = 3; t < 12; t++) expect(a[t]).toBe(a[t % 3]);
      expect(r.converged[0]).toBe(true);
      tf.dispose([r.assignments, r.centroids]);
    }
    x.dispose();
  });

  it('maxIter 0 assigns to the initial centroids (hand-derived), [1,4,1] K=2', () => {
    const x = tf.tensor3d([[[0], [1], [3], [4]]]);
    const r = kmeans(x, { k: 2, maxIter: 0 }, tf.tensor3d([[[0.9], [3.1]]]));
    expect(r.assignments.arraySync()).toEqual([[0, 0, 1, 1]]);
    expectClose(r.centroids, tf.tensor3d([[[0.9], [3.1]]]));
    expect(r.iterations).toEqual([0]);
    const r2 = kmeans(x, { k: 2 }, tf.tensor3d([[[0.9], [3.1]]]));
    expectClose(r2.centroids, tf.tensor3d([[[0.5], [3.5]]]));
    expect(r2.iterations).toEqual([2]); // move, then a zero shift
    tf.dispose([x, r.assignments, r.centroids, r2.assignments, r2.centroids]);
  });

  it('lets no gradient through its outputs (they are constants)', () => {
    const x = randomTensor([1, 16, 3], 2) as tf.Tensor3D;
    const viaCentroids = tf.grad((v: tf.Tensor) => tf.sum(kmeans(v as tf.Tensor3D, { k: 3 }).centroids));
    const viaAssign = tf.grad((v: tf.Tensor) => tf.sum(tf.cast(kmeans(v as tf.Tensor3D, { k: 3 }).assignments, 'float32')));
    expect(() => viaCentroids(x)).toThrow(/Cannot compute gradient/);
    expect(() => viaAssign(x)).toThrow(/Cannot compute gradient/);
    x.dispose();
  });

  it('does not leak tensors', async () => {
    const x = randomTensor([2, 32, 4], 8) as tf.Tensor3D;
    await expectNoLeaks(() => kmeans(x, { k: 4 }), 'kmeans');
    await expectNoLeaks(() => kmeans(x, { k: 4, metric: 'cosine', init: 'random' }), 'kmeans cosine');
    await expectNoLeaks(() => initCentroids(x, { k: 4 }), 'initCentroids');
    const dup = tf.tensor3d([[[0, 0], [0, 0], [1, 1], [1, 1]]]);
    await expectNoLeaks(() => kmeans(dup, { k: 4 }), 'kmeans with empty clusters');
    tf.dispose([x, dup]);
  });

  it('rejects bad inputs with one-line errors naming the argument', () => {
    const x = randomTensor([1, 4, 2], 1) as tf.Tensor3D;
    expect(() => kmeans(tf.zeros([4, 2]) as unknown as tf.Tensor3D)).toThrow(/^kmeans: x must be \[batch, tokens, channels\]/);
    expect(() => kmeans(tf.zeros([1, 4, 2], 'int32') as tf.Tensor3D)).toThrow(/kmeans: x must be float32/);
    expect(() => kmeans(tf.tensor3d([[[NaN, 0]]]), { k: 1 })).toThrow(/kmeans: x contains NaN/);
    expect(() => kmeans(x, { k: 5 })).toThrow(/kmeans: k \(5\) must be <= the number of tokens \(4\)/);
    expect(() => kmeans(x, { k: 0 })).toThrow(/k must be an integer >= 1, got 0/);
    expect(() => kmeans(x, { init: 'foo' as never })).toThrow(/init must be one of kmeans\+\+, random/);
    expect(() => kmeans(x, { kk: 2 } as never)).toThrow(/unknown option 'kk'/);
    expect(() => kmeans(x, { k: 2 }, tf.zeros([1, 3, 2]) as tf.Tensor3D)).toThrow(/kmeans: initial must be \[1, 2, 2\]/);
    x.dispose();
  });
});
