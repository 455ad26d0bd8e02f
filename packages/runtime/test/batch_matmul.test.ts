import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/index.js';
import { wasmOwnBatchMatMul, XNN_MIN_MACS } from '../src/internal/batch_matmul.js';
import { maxRelativeError, randomTensor } from '../src/testing.js';

/** [name, a shape, b shape, transposeA, transposeB]: every path of the wasm kernel. */
const CASES: Array<[string, number[], number[], boolean, boolean]> = [
  ['2-D, b transposed (linear backward dx)', [96, 70], [50, 70], false, true],
  ['2-D, a transposed (linear backward dW)', [96, 70], [96, 50], true, false],
  ['2-D, both transposed', [70, 96], [50, 70], true, true],
  ['batched a, shared 2-D b', [6, 40, 33], [33, 50], false, false],
  ['batched a, shared b with batch 1, b transposed', [6, 40, 33], [1, 50, 33], false, true],
  ['shared a (batch 1), batched b', [1, 40, 33], [5, 33, 50], false, false],
  ['shared 2-D a transposed, batched b', [33, 40], [5, 33, 50], true, false],
  ['both batched, large entries (one product per entry)', [3, 64, 64], [3, 64, 64], false, false],
  ['both batched, rank 4, transposed b (attention q·kᵀ)', [2, 2, 96, 64], [2, 2, 96, 64], false, true],
  ['both batched, rank 4, transposed a (attention dv = wᵀ·dy)', [2, 2, 96, 96], [2, 2, 96, 32], true, false],
  ['both batched, small entries (wasm kernel kept)', [16, 8, 9], [16, 9, 12], false, false],
  ['tiny 2-D (wasm kernel kept)', [4, 5], [3, 5], false, true],
];

describe('BatchMatMul on wasm (DISCO kernel)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('captured wasm’s own kernel, and the size thresholds are ordered', () => {
    expect(wasmOwnBatchMatMul()).not.toBeNull();
    expect(XNN_MIN_MACS.perEntry).toBeGreaterThan(XNN_MIN_MACS.single);
  });

  for (const [name, sa, sb, ta, tb] of CASES) {
    it(`${name}: equals cpu (≤ 1e-5 relative), frees its intermediates`, () => {
      tf.setBackend('cpu');
      const want = tf.tidy(() => tf.matMul(randomTensor(sa, 1), randomTensor(sb, 2), ta, tb));
      const wantShape = want.shape;
      const wantData = want.dataSync().slice();
      want.dispose();
      tf.setBackend('wasm');
      const a = randomTensor(sa, 1);
      const b = randomTensor(sb, 2);
      const before = tf.memory().numTensors;
      const beforeData = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
      const got = tf.matMul(a, b, ta, tb);
      expect(got.shape).toEqual(wantShape);
      expect(maxRelativeError(got.dataSync(), wantData)).toBeLessThanOrEqual(1e-5);
      got.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(beforeData);
      tf.dispose([a, b]);
    });
  }

  it('gradients through the new paths equal cpu (≤ 1e-4 relative)', () => {
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b, false, true), tf.matMul(a, b, false, true)));
    const g = tf.grads(f);
    const run = () => tf.tidy(() => g([randomTensor([2, 3, 64, 48], 3), randomTensor([2, 3, 80, 48], 4)]).map((t) => t.dataSync().slice()));
    const wasm = run();
    tf.setBackend('cpu');
    const cpu = run();
    tf.setBackend('wasm');
    expect(maxRelativeError(wasm[0]!, cpu[0]!)).toBeLessThanOrEqual(1e-4);
    expect(maxRelativeError(wasm[1]!, cpu[1]!)).toBeLessThanOrEqual(1e-4);
  });
});
