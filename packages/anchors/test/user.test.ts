import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeaks } from '@disco/runtime/testing';
import { anchorHints, applyUserAnchors, type AnchorHints } from '../src/index.js';
import { binOf, loadBins } from './bins.js';

const points = loadBins();

/** Per image and token (h=2, w=3): the ab of the token's hint, or null without a hint. */
function read(h: AnchorHints): ([number, number] | null)[][] {
  const m = h.mask.dataSync();
  const c = h.colors.arraySync() as number[][][][];
  return [0, 1].map((b) =>
    Array.from({ length: 6 }, (_, t) => {
      const row = c[b]![Math.floor(t / 3)]![t % 3]!;
      const on = row.flatMap((v, i) => (v === 1 ? [i] : []));
      const rest = row.filter((v) => v !== 0 && v !== 1).length;
      if (rest > 0 || on.length > 1) throw new Error('colors not one-hot');
      expect(m[b * 6 + t]).toBe(on.length);
      return on.length ? (points[on[0]!] as [number, number]) : null;
    }),
  );
}

describeBackends(describe, beforeAll, 'applyUserAnchors', () => {
  let bins: tf.Tensor2D;
  let located: AnchorHints;
  beforeAll(() => {
    bins = tf.tensor2d(points);
    const idx = tf.tensor2d([[0, 5], [1, 4]], [2, 2], 'int32');
    const cls = tf.tensor2d([[binOf(points, 0, 0), binOf(points, 10, 10)], [binOf(points, 20, 20), binOf(points, -10, 0)]], [2, 2], 'int32');
    located = anchorHints(idx, cls, 2, 3);
    tf.dispose([idx, cls]);
  });

  it('merge: user anchors add to and override located ones (grid and pixel units), h=2 w=3', () => {
    const out = applyUserAnchors(
      located,
      [[{ row: 1, col: 2, ab: [52, -3] }, { row: 20, col: 5, units: 'pixel', ab: [-88, 51] }], []],
      bins,
      { cellSize: 16 },
    );
    expect(read(out)).toEqual([
      [[0, 0], null, null, [-90, 50], null, [50, 0]], // token 5 recolored, token 3 = pixel (20,5) added
      [null, [20, 20], null, null, [-10, 0], null], // no user anchors: unchanged
    ]);
    tf.dispose([out.mask, out.colors]);
  });

  it('replace: only the user anchors remain in images that have some; last of a cell wins', () => {
    const out = applyUserAnchors(located, [[], [{ row: 0, col: 0, ab: [0, 0] }, { row: 0, col: 0, ab: [31, 29] }]], bins, { mode: 'replace' });
    expect(read(out)).toEqual([
      [[0, 0], null, null, null, null, [10, 10]],
      [[30, 30], null, null, null, null, null],
    ]);
    tf.dispose([out.mask, out.colors]);
  });

  it('does not leak tensors', async () => {
    await expectNoLeaks(() => applyUserAnchors(located, [[{ row: 0, col: 1, ab: [0, 0] }], []], bins), 'applyUserAnchors');
  });

  it('rejects bad inputs with one-line errors naming the argument', () => {
    expect(() => applyUserAnchors(located, [[]], bins)).toThrow(/applyUserAnchors: userAnchors must hold one list per image \(2\), got 1/);
    expect(() => applyUserAnchors(located, [[{ row: 2, col: 0, ab: [0, 0] }], []], bins)).toThrow(/applyUserAnchors: userAnchors\[0\]\[0\]: position \(2, 0\) grid lies outside the 2×3 token grid/);
    expect(() => applyUserAnchors(located, [[], [{ row: 0.5, col: 0, ab: [0, 0] }]], bins)).toThrow(/userAnchors\[1\]\[0\]: row and col must be integers/);
    expect(() => applyUserAnchors(located, [[{ row: 40, col: 0, units: 'pixel', ab: [0, 0] }], []], bins, { cellSize: 16 })).toThrow(/outside the 2×3 token grid \(cell size 16\)/);
    expect(() => applyUserAnchors(located, [[{ row: 0, col: 0, ab: [0] as never }], []], bins)).toThrow(/userAnchors\[0\]\[0\]\.ab must be two finite numbers/);
    expect(() => applyUserAnchors(located, [[], []], tf.zeros([10, 2]) as tf.Tensor2D)).toThrow(/applyUserAnchors: binCentres must be \[313, 2\]/);
    expect(() => applyUserAnchors(located, [[], []], bins, { mode: 'add' as never })).toThrow(/mode must be one of merge, replace/);
  });
});
