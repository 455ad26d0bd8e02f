import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32Uint32 } from '@disco/random';
import { selectBackend } from '@disco/runtime';
import { attentionDropoutMultiplier, dropoutMultiplier } from '../src/internal/dropout.js';

describe('dropout masks', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });
  it('are the mulberry32 stream of @disco/random, thresholded [1000] (drawn through uniformDraws)', () => {
    const rate = 0.3;
    const m = dropoutMultiplier([1000], rate, 7);
    const next = mulberry32Uint32(7);
    const threshold = Math.ceil(rate * 4294967296);
    const expected = Float32Array.from({ length: 1000 }, () => (next() >= threshold ? 1 / (1 - rate) : 0));
    expect(m.shape).toEqual([1000]);
    expect(Array.from(m.dataSync())).toEqual(Array.from(expected));
    m.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('attention dropout masks', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });
  it('give (batch, head) pair i the [T, S] mask of seed + i, independent of the batch size ([2,3,4,5])', () => {
    const rate = 0.25;
    const m = attentionDropoutMultiplier([2, 3, 4, 5], rate, 11);
    expect(m.shape).toEqual([2, 3, 4, 5]);
    const all = m.dataSync();
    for (let i = 0; i < 6; i++) {
      const pair = dropoutMultiplier([4, 5], rate, 11 + i);
      expect(Array.from(all.subarray(i * 20, (i + 1) * 20))).toEqual(Array.from(pair.dataSync()));
      pair.dispose();
    }
    // the first image's masks are the same in a batch of one
    const one = attentionDropoutMultiplier([1, 3, 4, 5], rate, 11);
    expect(Array.from(one.dataSync())).toEqual(Array.from(all.subarray(0, 60)));
    tf.dispose([m, one]);
    expect(tf.memory().numTensors).toBe(0);
  });
});
