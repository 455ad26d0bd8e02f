// Issue 27 #14: a failed library call frees what it made, and a NaN input is refused at the entry point.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { colorize } from '../src/node.js';

describe('colorize(tensor) failures [wasm, tiny]', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    const warm = tf.fill([32, 40, 3], 0.5) as tf.Tensor3D;
    (await colorize(warm)).dispose();
    warm.dispose();
  });

  it('an unknown variant is refused by name and leaks no tensor', async () => {
    const img = tf.fill([32, 40, 3], 0.5) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await expect(colorize(img, { variant: 7 as 0 })).rejects.toThrow(/variant must be 0, 1 or 2; got 7/);
    expect(tf.memory().numTensors).toBe(before);
    img.dispose();
  });

  it('a NaN input is refused at the entry point (not blamed on the anchors) and leaks no tensor', async () => {
    const img = tf.tidy(() => tf.where(tf.greater(tf.randomUniform([32, 40, 3], 0, 1, 'float32', 1), 0.99), tf.scalar(NaN), tf.fill([32, 40, 3], 0.5))) as unknown as tf.Tensor3D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await expect(colorize(img)).rejects.toThrow(/^colorize: the image contains NaN or Infinity/);
    expect(tf.memory().numTensors).toBe(before);
    img.dispose();
  });
});
