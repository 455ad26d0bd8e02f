import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../src/backend.js';
import {
  disableNativeConvolutions,
  enableNativeConvolutions,
  nativeConvolutionState,
  NATIVE_CONV_MIN_MACS,
  NATIVE_CONV_SELF_CHECK_TOLERANCE,
  setNativeConvSelfCheckFault,
} from '../src/node/native_conv.js';
import { nativeNetworkState } from '../src/node/native_graph.js';
import { setupBackendForCli } from '../src/node.js';
import { mulberry32 } from '@disco/random';

function rand(shape: number[], seed: number): tf.Tensor {
  const r = mulberry32(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1), shape);
}

/** Runs `f` on the wasm kernels and on onnxruntime; returns both results as arrays. */
function both(f: () => tf.Tensor | tf.Tensor[]): [Float32Array[], Float32Array[]] {
  const run = () => tf.tidy(() => [f()].flat()).map((t) => { const d = t.dataSync() as Float32Array; t.dispose(); return d; });
  disableNativeConvolutions();
  const ref = run();
  enableNativeConvolutions({ mode: 'onnxruntime' });
  const nat = run();
  return [ref, nat];
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let m = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); scale = Math.max(scale, Math.abs(a[i]!)); }
  return m / Math.max(scale, 1e-12);
}

describe('native convolutions (onnxruntime-node)', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });
  afterAll(() => disableNativeConvolutions());

  const cases: Array<{ name: string; x: number[]; f: number[]; strides: number; pad: 'same' | 'valid'; dilation?: number }> = [
    { name: '3×3 same', x: [2, 17, 16, 8], f: [3, 3, 8, 12], strides: 1, pad: 'same' },
    { name: '3×3 same stride 2, even', x: [2, 16, 16, 8], f: [3, 3, 8, 16], strides: 2, pad: 'same' },
    { name: '3×3 same stride 2, odd', x: [2, 15, 13, 8], f: [3, 3, 8, 16], strides: 2, pad: 'same' },
    { name: '1×3 valid', x: [2, 12, 12, 16], f: [1, 3, 16, 8], strides: 1, pad: 'valid' },
    { name: '3×3 valid stride 2', x: [2, 19, 20, 8], f: [3, 3, 8, 8], strides: 2, pad: 'valid' },
    { name: '3×3 same dilation 2', x: [2, 16, 16, 8], f: [3, 3, 8, 8], strides: 1, pad: 'same', dilation: 2 },
  ];
  for (const c of cases) {
    it(`forward, fused forward and both gradients agree with wasm: ${c.name}`, () => {
      const x = rand(c.x, 1);
      const w = rand(c.f, 2);
      const b = rand([c.f[3]!], 3);
      const [ref, nat] = both(() => {
        // Outside a gradient tape tfjs fuses bias and activation into one FusedConv2D kernel;
        // under one it runs Conv2D, and the gradients run the two backprop kernels.
        const fused = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: c.strides, pad: c.pad, dilations: c.dilation ?? 1, activation: 'leakyrelu', leakyreluAlpha: 0.2 });
        const plain = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilation ?? 1);
        const dy = rand(plain.shape, 4);
        const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilation ?? 1), dy)))([x, w]);
        return [fused, plain, value, ...grads];
      });
      for (let i = 0; i < ref.length; i++) expect(maxRel(ref[i]!, nat[i]!), `output ${i}`).toBeLessThan(1e-5);
      expect(nativeConvolutionState().sessions).toBeGreaterThanOrEqual(4); // conv, fused conv, dx, dW ran natively
    });
  }

  const products: Array<[string, number[], number[], boolean, boolean]> = [
    ['batched small entries (superpixel pooling [cells, pixels, 9]·[cells, 9, C])', [64, 64, 9], [64, 9, 32], false, false],
    ['batched, a transposed (its gradient)', [64, 64, 9], [64, 64, 32], true, false],
    ['rank 4, b transposed (attention q·kᵀ)', [2, 4, 64, 8], [2, 4, 64, 8], false, true],
    ['both transposed', [5, 33, 40], [5, 50, 33], true, true],
  ];
  for (const [name, sa, sb, ta, tb] of products) {
    it(`BatchMatMul agrees with wasm (≤ 1e-5 relative) and runs natively: ${name}`, () => {
      const [a, b] = [rand(sa, 11), rand(sb, 12)];
      const [ref, nat] = both(() => tf.matMul(a, b, ta, tb));
      expect(nat[0]!.length).toBe(ref[0]!.length);
      expect(maxRel(ref[0]!, nat[0]!)).toBeLessThan(1e-5);
      expect(nativeConvolutionState().sessions).toBeGreaterThanOrEqual(1);
      tf.dispose([a, b]);
    });
  }

  it('BatchMatMul below the size threshold, and with a shared operand (fully connected layers), stays on wasm: a batch of 2 rows equals 2 batches of 1', () => {
    const [a, b] = [rand([2, 4, 3], 13), rand([2, 3, 5], 14)];
    const [x, w] = [rand([2, 2048], 15), rand([2048, 256], 16)];
    const [ref, nat] = both(() => [tf.matMul(a, b), tf.matMul(x, w), tf.matMul(rand([6, 40, 33], 17), rand([33, 50], 18))]);
    for (let i = 0; i < ref.length; i++) expect(maxRel(ref[i]!, nat[i]!)).toBe(0);
    expect(nativeConvolutionState().sessions).toBe(0);
    const rows = tf.tidy(() => [0, 1].map((i) => tf.matMul(tf.slice(x, [i, 0], [1, 2048]), w).dataSync()));
    const pair = nat[1]!;
    for (let i = 0; i < 2; i++) expect(Array.from(pair.subarray(i * 256, (i + 1) * 256))).toEqual(Array.from(rows[i]!));
    tf.dispose([a, b, x, w]);
  });

  it('falls through to the wasm kernel for what it does not run: relu6, and products below the size threshold', () => {
    const x = rand([1, 4, 4, 2], 5);
    const w = rand([3, 3, 2, 2], 6);
    expect(1 * 4 * 4 * 2 * 2 * 9).toBeLessThan(NATIVE_CONV_MIN_MACS);
    const [ref, nat] = both(() => [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), tf.fused.conv2d({ x: rand([2, 16, 16, 8], 7) as tf.Tensor4D, filter: rand([3, 3, 8, 8], 8) as tf.Tensor4D, strides: 1, pad: 'same', activation: 'relu6' })]);
    for (let i = 0; i < ref.length; i++) expect(maxRel(ref[i]!, nat[i]!)).toBe(0); // the very same wasm kernel
    expect(nativeConvolutionState()).toMatchObject({ enabled: true, sessions: 0 });
    tf.dispose([x, w]);
  });

  it('DISCO_CONV and DISCO_CONV_THREADS: wasm keeps the kernels, a bad value is a one-line error naming the variable', () => {
    disableNativeConvolutions();
    expect(enableNativeConvolutions({}, { DISCO_CONV: 'wasm' })).toEqual({ enabled: false, detail: 'DISCO_CONV=wasm' });
    expect(nativeConvolutionState().enabled).toBe(false);
    expect(() => enableNativeConvolutions({}, { DISCO_CONV: 'gpu' })).toThrow(/^DISCO_CONV: unknown convolution engine 'gpu'; valid: auto, onnxruntime, wasm$/);
    expect(() => enableNativeConvolutions({}, { DISCO_CONV_THREADS: '0' })).toThrow(/^DISCO_CONV_THREADS must be an integer from 1 to \d+ \(the cores of this machine\); got '0'/);
    expect(enableNativeConvolutions({}, { DISCO_CONV_THREADS: '1' })).toEqual({ enabled: true, detail: expect.stringMatching(/^onnxruntime-node \S+, 1 thread$/), threads: 1, selfCheck: { passed: true, relativeError: expect.any(Number) } });
    disableNativeConvolutions();
  });

  it('setupBackendForCli puts the convolutions on onnxruntime on wasm and says so in its one backend line', async () => {
    const lines: string[] = [];
    const info = await setupBackendForCli('wasm', (l) => lines.push(l), { DISCO_CONV_THREADS: '2' });
    expect(info.convolutions).toMatch(/^onnxruntime-node \S+, 2 threads$/);
    // Whole networks at inference too (native_graph.ts), on the same line.
    expect(info.networks).toMatch(/^whole networks on onnxruntime-node \S+, \d+ threads?$/);
    expect(lines).toEqual([`backend: wasm (DISCO training kernels registered; convolutions on ${info.convolutions}; ${info.networks})`]);
    disableNativeConvolutions();
    const plain: string[] = [];
    expect((await setupBackendForCli('wasm', (l) => plain.push(l), { DISCO_CONV: 'wasm' })).convolutions).toBeUndefined();
    expect(plain).toEqual(['backend: wasm (XNNPACK; DISCO training kernels registered)']);
  });

  it('enabling runs the self-check: one 3×3 convolution [1,16,16,8] on onnxruntime agrees with the wasm kernel within 1e-5 relative, and leaves no session', () => {
    disableNativeConvolutions();
    const info = enableNativeConvolutions({ mode: 'onnxruntime' });
    expect(info.enabled).toBe(true);
    expect(NATIVE_CONV_SELF_CHECK_TOLERANCE).toBe(1e-5);
    expect(info.selfCheck!.passed).toBe(true);
    expect(info.selfCheck!.relativeError).toBeGreaterThanOrEqual(0);
    expect(info.selfCheck!.relativeError).toBeLessThanOrEqual(NATIVE_CONV_SELF_CHECK_TOLERANCE);
    expect(nativeConvolutionState()).toMatchObject({ enabled: true, sessions: 0, refused: {} });
    // Enabled again (idempotent): the same check result, no new check.
    expect(enableNativeConvolutions().selfCheck).toEqual(info.selfCheck);
    disableNativeConvolutions();
  });

  it('a wrong native result (testing hook) fails the self-check: wasm keeps the kernels, with one line on stderr', () => {
    disableNativeConvolutions();
    const x = rand([2, 16, 16, 8], 11);
    const w = rand([3, 3, 8, 8], 12);
    const conv = () => { const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'); const d = y.dataSync() as Float32Array; y.dispose(); return d; };
    const ref = conv();
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    setNativeConvSelfCheckFault((y) => { y[5] = y[5]! + 0.5; });
    try {
      const info = enableNativeConvolutions();
      const lines = write.mock.calls.map((c) => String(c[0]));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^convolutions: onnxruntime-node \S+ failed its self-check \(a 3×3 convolution \[1,16,16,8\] differs from wasm's by \S+ relative, tolerance 0\.00001\); the native engine stays off, convolutions run on wasm\n$/);
      expect(info).toMatchObject({ enabled: false, detail: lines[0]!.trim(), selfCheck: { passed: false } });
      expect(info.selfCheck!.relativeError).toBeGreaterThan(NATIVE_CONV_SELF_CHECK_TOLERANCE);
      expect(nativeConvolutionState()).toMatchObject({ enabled: false, sessions: 0 });
      expect(maxRel(ref, conv())).toBe(0); // the very same wasm kernel
      // Required (DISCO_CONV=onnxruntime): the same line as an error.
      expect(() => enableNativeConvolutions({ mode: 'onnxruntime' })).toThrow(/^convolutions: onnxruntime-node \S+ failed its self-check \(.*\); the native engine stays off, convolutions run on wasm$/);
      expect(write).toHaveBeenCalledTimes(1);
    } finally {
      write.mockRestore();
      setNativeConvSelfCheckFault(null);
      tf.dispose([x, w]);
    }
  });

  it('setupBackendForCli after a failed self-check: the one line, then the backend line with convolutions on wasm and the networks on tfjs', async () => {
    disableNativeConvolutions();
    setNativeConvSelfCheckFault((y) => { y.fill(Number.NaN); });
    try {
      const lines: string[] = [];
      const info = await setupBackendForCli('wasm', (l) => lines.push(l), {});
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^convolutions: onnxruntime-node \S+ failed its self-check \(a 3×3 convolution \[1,16,16,8\] differs from wasm's by NaN relative, tolerance 0\.00001\); the native engine stays off, convolutions run on wasm$/);
      expect(lines[1]).toBe('backend: wasm (XNNPACK; DISCO training kernels registered)');
      expect(info.convolutions).toBeUndefined();
      expect(info.networks).toBeUndefined();
      expect(nativeNetworkState().enabled).toBe(false);
    } finally {
      setNativeConvSelfCheckFault(null);
    }
  });
});
