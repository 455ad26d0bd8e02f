import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbQuantizer } from '@disco/color';
import { selectBackend } from '@disco/runtime';
import { loadPretrained } from '../src/node.js';
import type { DiscoModel } from '../src/model/disco.js';
import { asDiscoModel } from '../src/model/baseline.js';

let model: DiscoModel;
let L: tf.Tensor4D;
const q = () => new AbQuantizer();

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  model = asDiscoModel(await loadPretrained('tiny'), 'tiny');
  L = tf.tidy(() => tf.reshape(tf.add(tf.mul(tf.sin(tf.mul(tf.linspace(0, 12, 64 * 64), 1)), 0.6), 0), [1, 64, 64, 1]) as tf.Tensor4D);
});
afterAll(() => {
  model.dispose();
  L.dispose();
});

/** The anchors' bins and the modeler's logits of one forward pass. */
function run(alpha?: number): { bins: number[]; logits: Float32Array; indices: number[] } {
  const out = model.forward(L, null, { colors: { kind: 'sampled', variant: 0 }, ...(alpha !== undefined ? { anchorRebalance: alpha } : {}) });
  const T = out.modelerLogits.shape[1] * out.modelerLogits.shape[2];
  const indices = Array.from(out.anchorIndices.dataSync());
  const onehot = tf.tidy(() => tf.argMax(tf.reshape(out.anchorColors, [T, 313]), 1).dataSync());
  const r = { bins: indices.map((i) => onehot[i]!), logits: out.modelerLogits.dataSync() as Float32Array, indices };
  tf.dispose(Object.values(out).filter((t) => t instanceof tf.Tensor) as tf.Tensor[]);
  return r;
}

describe('anchorRebalance (post-hoc rebalancing of predicted anchor colors)', () => {
  it('α = 0 is the plain most probable bin; any α ≥ −1 picks argmax(logits + α·log w) at every anchor (w: the λ 0.5 rebalancing weights)', () => {
    const plain = run();
    expect(run(0).bins).toEqual(plain.bins);
    const quant = q();
    const logW = Array.from(tf.tidy(() => tf.log(quant.weights).dataSync()));
    for (const alpha of [-1, -0.5, 0.5, 2]) {
      const r = run(alpha);
      expect(r.indices).toEqual(plain.indices); // anchors are located on modeler features, untouched
      const expected = r.indices.map((t) => {
        let best = -Infinity;
        let arg = -1;
        for (let c = 0; c < 313; c++) {
          const v = r.logits[t * 313 + c]! + alpha * logW[c]!;
          if (v > best) [best, arg] = [v, c];
        }
        return arg;
      });
      expect(r.bins).toEqual(expected);
    }
    quant.dispose();
  });

  it('raises the chroma of the chosen anchor colors as α grows, lowers it below 0, and rejects α < −1', () => {
    const quant = q();
    const bins = quant.bins.arraySync();
    const chroma = (b: number[]) => b.reduce((s, c) => s + Math.hypot(bins[c]![0]!, bins[c]![1]!), 0) / b.length;
    const c0 = chroma(run(0).bins);
    const c2 = chroma(run(3).bins);
    expect(c2).toBeGreaterThan(c0 + 5);
    expect(chroma(run(-1).bins)).toBeLessThan(c0);
    expect(() => run(-1.5)).toThrow(/anchorRebalance must be a number ≥ −1, got -1.5/);
    quant.dispose();
  });
});
