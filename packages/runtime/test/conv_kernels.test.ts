import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/index.js';
import { expectClose, maxRelativeError, seededRandom } from '../src/testing.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  stride: [number, number];
  pad: Pad;
  dilation?: [number, number];
}

function rand(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
  return v;
}

/** Plain-loop float64 reference of the conv forward and both gradients. */
function reference(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array, dyShape: number[], padT: number, padL: number) {
  const [N, H, W, Ci] = c.x;
  const [kh, kw] = c.k;
  const [, Ho, Wo, Co] = dyShape as [number, number, number, number];
  const [sh, sw] = c.stride;
  const [dh, dw] = c.dilation ?? [1, 1];
  const dx = new Float64Array(x.length);
  const dW = new Float64Array(w.length);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < Ho; o++)
      for (let q = 0; q < Wo; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const r = o * sh + i * dh - padT;
            const s = q * sw + j * dw - padL;
            if (r < 0 || r >= H || s < 0 || s >= W) continue;
            for (let ci = 0; ci < Ci; ci++)
              for (let co = 0; co < Co; co++) {
                const g = dy[((n * Ho + o) * Wo + q) * Co + co]!;
                const xi = ((n * H + r) * W + s) * Ci + ci;
                const wi = ((i * kw + j) * Ci + ci) * Co + co;
                dx[xi] = dx[xi]! + g * w[wi]!;
                dW[wi] = dW[wi]! + g * x[xi]!;
              }
          }
  return { dx, dW };
}

const CASES: Case[] = [
  { x: [2, 9, 11, 3], k: [3, 3], co: 4, stride: [1, 1], pad: 'same' },
  { x: [2, 9, 11, 3], k: [3, 3], co: 4, stride: [2, 2], pad: 'same' },
  { x: [1, 10, 7, 2], k: [3, 3], co: 5, stride: [2, 2], pad: 'valid' },
  { x: [2, 8, 8, 3], k: [4, 4], co: 2, stride: [2, 2], pad: 'same' },
  { x: [1, 12, 9, 2], k: [3, 2], co: 3, stride: [3, 2], pad: 'same' },
  { x: [2, 7, 9, 3], k: [5, 5], co: 2, stride: [3, 3], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 6, 6, 2], k: [1, 1], co: 3, stride: [2, 2], pad: 'valid' },
  { x: [1, 9, 9, 2], k: [3, 3], co: 3, stride: [1, 1], pad: 'same', dilation: [2, 2] },
  { x: [1, 11, 10, 2], k: [3, 3], co: 3, stride: [1, 1], pad: 'valid', dilation: [2, 3] },
  { x: [3, 16, 16, 8], k: [3, 3], co: 16, stride: [1, 1], pad: 'same' },
];

function name(c: Case): string {
  return `x[${c.x}] k${c.k.join('x')} co${c.co} s${c.stride} pad ${JSON.stringify(c.pad)} d${c.dilation ?? [1, 1]}`;
}

function gradsOn(backend: string, c: Case, x: Float32Array, w: Float32Array, weights: Float32Array | null) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, c.x);
    const wt = tf.tensor4d(w, [...c.k, c.x[3], c.co]);
    const y = tf.conv2d(xt, wt, c.stride, c.pad, 'NHWC', c.dilation ?? [1, 1]);
    const dy = weights ?? rand(y.size, 99);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation ?? [1, 1]), tf.tensor(dy, y.shape)));
    const [gx, gw] = tf.grads(f)([xt, wt]);
    return { dx: gx!.dataSync().slice(), dW: gw!.dataSync().slice(), dy, dyShape: y.shape, y: y.dataSync().slice() };
  });
}

describe('wasm conv gradients (Conv2DBackpropInput / Conv2DBackpropFilter) vs cpu and a float64 loop', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  for (const [idx, c] of CASES.entries()) {
    it(name(c), () => {
      const x = rand(c.x.reduce((a, b) => a * b), idx * 2 + 1);
      const w = rand(c.k[0] * c.k[1] * c.x[3] * c.co, idx * 2 + 2);
      const cpu = gradsOn('cpu', c, x, w, null);
      const wasm = gradsOn('wasm', c, x, w, cpu.dy);
      expect(maxRelativeError(wasm.y, cpu.y)).toBeLessThan(1e-4);
      expect(maxRelativeError(wasm.dx, cpu.dx)).toBeLessThan(1e-4);
      expect(maxRelativeError(wasm.dW, cpu.dW)).toBeLessThan(1e-4);
      const info = tf.backend_util.computeConv2DInfo(c.x, [...c.k, c.x[3], c.co], c.stride, c.dilation ?? 1, c.pad);
      const ref = reference(c, x, w, cpu.dy, cpu.dyShape, info.padInfo.top, info.padInfo.left);
      expectClose(wasm.dx, ref.dx, { rtol: 1e-5, what: 'dx vs float64' });
      expectClose(wasm.dW, ref.dW, { rtol: 1e-5, what: 'dW vs float64' });
    });
  }

  it('conv2dTranspose forward (Conv2DBackpropInput) matches cpu, stride 2, k 4, [2,5,6,8]→[2,10,12,3]', () => {
    const dy = rand(2 * 5 * 6 * 8, 7);
    const w = rand(4 * 4 * 3 * 8, 8);
    const run = (b: string) => {
      tf.setBackend(b);
      return tf.tidy(() => tf.conv2dTranspose(tf.tensor4d(dy, [2, 5, 6, 8]), tf.tensor4d(w, [4, 4, 3, 8]), [2, 10, 12, 3], 2, 'same').dataSync().slice());
    };
    expect(maxRelativeError(run('wasm'), run('cpu'))).toBeLessThan(1e-4);
  });

  it('does not leak: numTensors and wasm data entries stable over repeated gradients', () => {
    tf.setBackend('wasm');
    const c = CASES[1]!;
    const x = rand(c.x.reduce((a, b) => a * b), 1);
    const w = rand(c.k[0] * c.k[1] * c.x[3] * c.co, 2);
    gradsOn('wasm', c, x, w, null);
    const before = tf.memory();
    for (let i = 0; i < 3; i++) gradsOn('wasm', c, x, w, null);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
  });

  it('rejects NCHW with a message naming the kernel', () => {
    tf.setBackend('wasm');
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.zeros([1, 4, 4, 2]), dy: tf.zeros([1, 4, 4, 2]) }, {
        strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2],
      } as never),
    ).toThrow(/Conv2DBackpropFilter.*NHWC/);
  });
});
