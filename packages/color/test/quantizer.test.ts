import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, describeBackends, expectClose, expectNoLeaks, randomTensor } from '@disco/runtime/testing';
import {
  AbQuantizer,
  GAMUT313_BIN_SIZE,
  GAMUT313_POINTS,
  GAMUT313_PRIOR,
  NUM_AB_BINS,
  QUANTIZER_DEFAULTS,
  rebalancingWeights,
  resolveQuantizerOptions,
} from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHIPPED = path.resolve(here, '../data/cielab-gamut-313.json');
/** sha256 of the gamut data as received (313 ab bins of size 10 and their ImageNet prior). */
const GAMUT_SHA256 = '00282eb33cf7f445ddfd0a509c00f4ba2747530c3b7013c994863f6b480e36da';

function nearestBinBruteForce(a: number, b: number): number {
  let best = -1;
  let bestD = Infinity;
  GAMUT313_POINTS.forEach(([pa, pb], i) => {
    const d = (a - pa) ** 2 + (b - pb) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

describe('gamut data shipped in the package', () => {
  it('data/cielab-gamut-313.json is the reference data byte for byte (sha256) and the module equals it exactly', () => {
    expect(createHash('sha256').update(fs.readFileSync(SHIPPED)).digest('hex')).toBe(GAMUT_SHA256);
    const shipped = JSON.parse(fs.readFileSync(SHIPPED, 'utf8'));
    expect(GAMUT313_POINTS.map((p) => [...p])).toEqual(shipped.points);
    expect([...GAMUT313_PRIOR]).toEqual(shipped.prior);
    expect(GAMUT313_BIN_SIZE).toBe(shipped.binSize);
    expect(GAMUT313_POINTS.length).toBe(NUM_AB_BINS);
  });
});

describe('rebalancingWeights (float64)', () => {
  it('λ = 0.5: Σ p·w = 1, min ≈ 0.0965 at the grey bin (0,0), max ≈ 6.17', () => {
    const w = rebalancingWeights(GAMUT313_PRIOR, 0.5);
    let s = 0;
    for (let i = 0; i < NUM_AB_BINS; i++) s += GAMUT313_PRIOR[i]! * w[i]!;
    expect(Math.abs(s - 1)).toBeLessThan(1e-12);
    const min = Math.min(...w);
    const max = Math.max(...w);
    expect(min).toBeCloseTo(0.0965, 4);
    expect(max).toBeCloseTo(6.17, 2);
    expect(GAMUT313_POINTS[w.indexOf(min)]).toEqual([0, 0]);
  });
  it('λ = 1 gives w = 1 everywhere (uniform mixing cancels after normalisation); λ = 0 gives w ∝ 1/p', () => {
    const w1 = rebalancingWeights([0.5, 0.25, 0.25], 1);
    expectClose(Array.from(w1), [1, 1, 1], { what: 'λ=1' });
    const w0 = rebalancingWeights([0.5, 0.25, 0.25], 0);
    // w ∝ 1/p = [2, 4, 4]; Σ p w = 3·c = 1 ⇒ c = 1/3
    expectClose(Array.from(w0), [2 / 3, 4 / 3, 4 / 3], { what: 'λ=0' });
  });
  it('rejects λ outside [0, 1]', () => {
    expect(() => rebalancingWeights([1], 1.5)).toThrow(/^rebalancingWeights: lambda/);
  });
});

describe('resolveQuantizerOptions', () => {
  it('fills defaults without mutating, validates ranges, rejects unknown keys', () => {
    const partial = { temperature: 0.5 };
    const o = resolveQuantizerOptions(partial);
    expect(o).toEqual({ ...QUANTIZER_DEFAULTS, temperature: 0.5 });
    expect(partial).toEqual({ temperature: 0.5 });
    expect(Object.isFrozen(QUANTIZER_DEFAULTS)).toBe(true);
    expect(QUANTIZER_DEFAULTS).toEqual({ rebalanceLambda: 0.5, softSigma: 5, softNeighbours: 5, temperature: 0.38 });
    expect(() => resolveQuantizerOptions({ temperature: 0 })).toThrow(/temperature = 0; valid: a number in \(0, 1\]/);
    expect(() => resolveQuantizerOptions({ softNeighbours: 2.5 })).toThrow(/softNeighbours/);
    expect(() => resolveQuantizerOptions({ rebalanceLambda: -0.1 })).toThrow(/rebalanceLambda/);
    expect(() => resolveQuantizerOptions({ sigma: 5 } as never)).toThrow(/unknown option 'sigma'; valid: rebalanceLambda, softSigma, softNeighbours, temperature/);
  });
});

describeBackends(describe, beforeAll, 'AbQuantizer', () => {
  let q: AbQuantizer;
  beforeAll(() => {
    q = new AbQuantizer();
  });
  afterAll(() => q.dispose());

  it('holds bins [313,2], prior [313] and weights [313] matching the float64 weights', () => {
    expect(q.bins.shape).toEqual([313, 2]);
    expect(q.prior.shape).toEqual([313]);
    expectClose(q.weights, Array.from(rebalancingWeights(GAMUT313_PRIOR, 0.5)), { rtol: 1e-6, what: 'weights' });
  });

  it('encode [2,3,2] → [2,3] int32 nearest bins (brute force reference)', () => {
    const pts = [0, 0, 4, -4, 80, 67, -86, 83, 79, -108, 13, 27];
    const ab = tf.tensor3d(pts, [2, 3, 2]);
    const ids = q.encode(ab);
    expect(ids.shape).toEqual([2, 3]);
    expect(ids.dtype).toBe('int32');
    const expected: number[] = [];
    for (let i = 0; i < pts.length; i += 2) expected.push(nearestBinBruteForce(pts[i]!, pts[i + 1]!));
    expect(Array.from(ids.dataSync())).toEqual(expected);
    expect(GAMUT313_POINTS[expected[0]!]).toEqual([0, 0]);
  });

  it('encode of every bin centre returns its own id [313,2] → [313]', () => {
    const ids = q.encode(q.bins);
    expect(Array.from(ids.dataSync())).toEqual(Array.from({ length: 313 }, (_, i) => i));
  });

  it('softEncode [1,2,2] → [1,2,313]: 5 nearest bins, Gaussian σ=5, sums to 1', () => {
    const pts = [3, 4, -47, 22];
    const soft = q.softEncode(tf.tensor3d(pts, [1, 2, 2]));
    expect(soft.shape).toEqual([1, 2, 313]);
    const v = soft.arraySync() as number[][][];
    for (let k = 0; k < 2; k++) {
      const [a, b] = [pts[2 * k]!, pts[2 * k + 1]!];
      const d = GAMUT313_POINTS.map(([pa, pb], i) => ({ i, d2: (a - pa) ** 2 + (b - pb) ** 2 })).sort((x, y) => x.d2 - y.d2);
      const top = d.slice(0, 5);
      const g = top.map((t) => Math.exp(-t.d2 / 50));
      const z = g.reduce((s, x) => s + x, 0);
      const expected = new Array(313).fill(0);
      top.forEach((t, j) => (expected[t.i] = g[j]! / z));
      expectClose(v[0]![k]!, expected, { rtol: 0, atol: 2e-6, what: `soft encoding of (${a},${b})` });
    }
  });

  it('classWeights [2,2] gathers the weight of each id', () => {
    const ids = tf.tensor2d([0, 5, 312, 100], [2, 2], 'int32');
    const w = rebalancingWeights(GAMUT313_PRIOR, 0.5);
    expectClose(q.classWeights(ids), [w[0]!, w[5]!, w[312]!, w[100]!], { rtol: 1e-6, what: 'class weights' });
    expect(() => q.classWeights(tf.zeros([2]))).toThrow(/^AbQuantizer.classWeights: ids must be int32/);
  });

  it('decodeTopK [1,313] → [1,2]: k=1 is the mode, k=2 the softmax-weighted mean of the top two', () => {
    const logits = tf.buffer([1, 313]);
    logits.set(3, 0, 10);
    logits.set(2, 0, 20);
    const t = logits.toTensor();
    expectClose(q.decodeTopK(t, 1), [...GAMUT313_POINTS[10]!], { what: 'mode' });
    const p = Math.exp(3) / (Math.exp(3) + Math.exp(2));
    const [a1, b1] = GAMUT313_POINTS[10]!;
    const [a2, b2] = GAMUT313_POINTS[20]!;
    expectClose(q.decodeTopK(t, 2), [p * a1 + (1 - p) * a2, p * b1 + (1 - p) * b2], { rtol: 1e-5, what: 'top-2' });
  });

  it('decodeAnnealedMean [2,313] → [2,2] equals softmax(logits/T)·bins; T→small tends to the mode', () => {
    const logits = randomTensor([2, 313], 9, -2, 2);
    const T = 0.38;
    const v = logits.arraySync() as number[][];
    const expected = v.flatMap((row) => {
      const m = Math.max(...row);
      const e = row.map((x) => Math.exp((x - m) / T));
      const z = e.reduce((s, x) => s + x, 0);
      let a = 0;
      let b = 0;
      e.forEach((x, i) => {
        a += (x / z) * GAMUT313_POINTS[i]![0];
        b += (x / z) * GAMUT313_POINTS[i]![1];
      });
      return [a, b];
    });
    expectClose(q.decodeAnnealedMean(logits), expected, { rtol: 1e-4, atol: 1e-4, what: 'annealed mean T=0.38' });
    const peaked = tf.mul(logits, 50);
    expectClose(q.decodeAnnealedMean(peaked, 0.01), q.decodeTopK(peaked, 1), { rtol: 0, atol: 1e-3, what: 'T→0 is the mode' });
    expect(() => q.decodeAnnealedMean(logits, 1.5)).toThrow(/^AbQuantizer.decodeAnnealedMean: temperature/);
    expect(() => q.decodeAnnealedMean(tf.zeros([2, 312]))).toThrow(/^AbQuantizer.decodeAnnealedMean: logits must have shape \[\.\.\., 313\]/);
  });

  it('decodeAnnealedMean is differentiable in logits [1,313]', () => {
    const logits = randomTensor([1, 313], 4, -1, 1);
    checkGradients((x) => tf.sum(tf.mul(q.decodeAnnealedMean(x), tf.tensor1d([1, -0.5]))), [logits], { eps: 1e-2, rtol: 2e-2, atol: 1e-3, maxEntries: 40 });
  });

  it('rejects ab without a last axis of 2', () => {
    expect(() => q.encode(tf.zeros([4, 3]))).toThrow(/^AbQuantizer.encode: ab must have shape \[\.\.\., 2\]/);
    expect(() => q.softEncode(tf.zeros([4, 3]))).toThrow(/^AbQuantizer.softEncode: ab/);
  });

  it('does not leak tensors', async () => {
    const ab = randomTensor([1, 4, 4, 2], 2, -100, 100);
    const logits = randomTensor([1, 4, 4, 313], 3);
    await expectNoLeaks(() => q.encode(ab), 'encode');
    await expectNoLeaks(() => q.softEncode(ab), 'softEncode');
    await expectNoLeaks(() => q.decodeTopK(logits, 3), 'decodeTopK');
    await expectNoLeaks(() => q.decodeAnnealedMean(logits), 'decodeAnnealedMean');
    const before = tf.memory().numTensors;
    new AbQuantizer({ rebalanceLambda: 0.3 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
