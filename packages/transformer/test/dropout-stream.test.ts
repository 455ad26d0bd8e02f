import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32Uint32 } from '@disco/random';
import { selectBackend } from '@disco/runtime';
import { dropoutMultiplier } from '../src/internal/dropout.js';

describe('dropout masks', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });
  it('are the mulberry32 stream of @disco/random, thresholded [1000] (the inlined generator is that generator)', () => {
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
