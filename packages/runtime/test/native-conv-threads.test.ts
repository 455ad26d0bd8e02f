// Issue 27 #7 and #13: onnxruntime convolution threads are bounded and fixed: one thread per
// convolution by default (no pool, results independent of workers), DISCO_CONV_THREADS checked,
// and the process's thread count does not grow with the number of distinct shapes.
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/index.js';
import { disableNativeConvolutions, enableNativeConvolutions, nativeConvolutionState, resolveConvThreads } from '../src/node.js';

const threadsNow = (): number => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);

describe('onnxruntime convolution threads', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  afterAll(() => disableNativeConvolutions());

  it('DISCO_CONV_THREADS outside 1 … cores is refused with one line; the default is 1 on every thread', () => {
    const cores = availableParallelism();
    for (const v of ['1000', '0', '-2', 'abc', '1.5', String(cores + 1)])
      expect(() => resolveConvThreads(undefined, { DISCO_CONV_THREADS: v }), v).toThrow(new RegExp(`^DISCO_CONV_THREADS must be an integer from 1 to ${cores} \\(the cores of this machine\\); got '${v.replace('.', '\\.')}'`));
    expect(() => enableNativeConvolutions({}, { DISCO_CONV_THREADS: '1000' })).toThrow(/^DISCO_CONV_THREADS must be an integer from 1/);
    expect(resolveConvThreads(undefined, {})).toBe(1);
    expect(resolveConvThreads(undefined, { DISCO_CONV_THREADS: String(cores) })).toBe(cores);
  });

  it.skipIf(process.platform !== 'linux')('the thread count does not grow with the number of distinct convolution shapes', () => {
    const info = enableNativeConvolutions({}, {});
    if (!info.enabled) return;
    expect(info.threads).toBe(1);
    const conv = (s: number): void => {
      tf.tidy(() => tf.conv2d(tf.ones([1, s, s, 16]) as tf.Tensor4D, tf.ones([3, 3, 16, 16]) as tf.Tensor4D, 1, 'same').dataSync());
    };
    conv(8);
    const before = threadsNow();
    for (let s = 9; s < 41; s++) conv(s);
    expect(nativeConvolutionState().sessions).toBeGreaterThanOrEqual(32);
    expect(threadsNow()).toBe(before);
    // With more threads per convolution, the sessions (each with its own pool) are capped.
    if (availableParallelism() < 2) return;
    enableNativeConvolutions({ threads: 2 }, {});
    for (let s = 9; s < 41; s++) conv(s);
    expect(nativeConvolutionState().sessions).toBeLessThanOrEqual(8);
    expect(threadsNow()).toBeLessThanOrEqual(before + 8);
  });
});
