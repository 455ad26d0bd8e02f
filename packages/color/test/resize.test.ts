import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeBackends, expectNoLeaks } from '@disco/runtime/testing';
import { resizeArea } from '../src/index.js';

describeBackends(describe, beforeAll, 'resizeArea', () => {
  it('period-3 stripes [1,256,256,1] to [1,16,16,1] stay within 0.05 of their mean 1/3; bilinear sampling aliases (off by > 0.15)', () => {
    const n = 256;
    const v = new Float32Array(n * n).map((_, i) => ((i % n) % 3 === 0 ? 1 : 0));
    const x = tf.tensor4d(v, [1, n, n, 1]);
    const area = resizeArea(x, 16, 16);
    const bilinear = tf.image.resizeBilinear(x, [16, 16], false, true);
    expect(area.shape).toEqual([1, 16, 16, 1]);
    const worst = (t: tf.Tensor) => Math.max(...Array.from(t.dataSync(), (p) => Math.abs(p - 1 / 3)));
    expect(worst(area)).toBeLessThan(0.05);
    expect(worst(bilinear)).toBeGreaterThan(0.15);
    tf.dispose([x, area, bilinear]);
  });

  it('keeps a constant image [1,37,53,2] constant at [1,8,8,2] and returns a new tensor at equal size', async () => {
    const x = tf.fill([1, 37, 53, 2], 0.25) as tf.Tensor4D;
    const y = resizeArea(x, 8, 8);
    expect(y.shape).toEqual([1, 8, 8, 2]);
    for (const p of y.dataSync()) expect(p).toBeCloseTo(0.25, 6);
    const same = resizeArea(x, 37, 53);
    expect(same).not.toBe(x);
    same.dispose();
    await expectNoLeaks(() => resizeArea(x, 8, 8).dispose(), 'resizeArea');
    tf.dispose([x, y]);
  });
});
