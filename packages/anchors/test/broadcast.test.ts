import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeaks, seededRandom } from '@disco/runtime/testing';
import { broadcastHints } from '../src/index.js';

/** Float64 reference: nearest anchor by squared Euclidean distance, ties to the lower index. */
function reference(f: number[][], mask: number[], colors: number[][]): number[][] {
  return f.map((ft) => {
    let best = -1;
    let bestD = Infinity;
    mask.forEach((m, s) => {
      if (!m) return;
      const d = ft.reduce((acc, v, c) => acc + (v - f[s]![c]!) ** 2, 0);
      if (d < bestD) [best, bestD] = [s, d];
    });
    return colors[best]!;
  });
}

describeBackends(describe, beforeAll, 'broadcastHints', () => {
  it('every token takes the color of its nearest anchor (float64 reference), anchors keep their own, [2,3,4,·]', () => {
    const r = seededRandom(3);
    const B = 2, h = 3, w = 4, C = 5, N = 7, T = h * w;
    const feats = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: C }, () => r() * 4 - 2)));
    const masks = [[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]];
    const colors = masks.map((m) => m.map((v) => Array.from({ length: N }, () => (v ? r() : 0))));
    const out = broadcastHints(tf.tensor4d(feats.flat(2), [B, h, w, C]), tf.tensor4d(masks.flat(), [B, h, w, 1]), tf.tensor4d(colors.flat(2), [B, h, w, N]));
    expect(out.shape).toEqual([B, h, w, N]);
    const got = out.arraySync() as number[][][][];
    for (let b = 0; b < B; b++) {
      const want = reference(feats[b]!, masks[b]!, colors[b]!);
      for (let t = 0; t < T; t++) got[b]![Math.floor(t / w)]![t % w]!.forEach((v, n) => expect(v).toBeCloseTo(want[t]![n]!, 6));
    }
    // The second image has one anchor: every token receives it.
    for (let t = 0; t < T; t++) expect(got[1]![Math.floor(t / w)]![t % w]).toEqual(got[1]![0]![2]);
    out.dispose();
  });

  it('rejects an image without anchors and mismatched shapes, naming the argument', () => {
    const f = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const c = tf.zeros([1, 2, 2, 5]) as tf.Tensor4D;
    expect(() => broadcastHints(f, tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, c)).toThrow(/image 0 has no anchor/);
    expect(() => broadcastHints(f, tf.ones([1, 2, 3, 1]) as tf.Tensor4D, c)).toThrow(/mask must be \[1, 2, 2, 1\]/);
    expect(() => broadcastHints(f, tf.ones([1, 2, 2, 1]) as tf.Tensor4D, tf.zeros([1, 3, 2, 5]) as tf.Tensor4D)).toThrow(/colors must be/);
    tf.dispose([f, c]);
  });

  it('leaks no tensors', async () => {
    const f = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const m = tf.tensor4d(Array.from({ length: 32 }, (_, i) => (i % 5 === 0 ? 1 : 0)), [2, 4, 4, 1]);
    const c = tf.randomUniform([2, 4, 4, 6], 0, 1, 'float32', 2) as tf.Tensor4D;
    await expectNoLeaks(() => broadcastHints(f, m, c).dispose(), 'broadcastHints');
    tf.dispose([f, m, c]);
  });
});
