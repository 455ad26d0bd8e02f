/**
 * Every op the DISCO model differentiates through: its gradient must run on wasm (no missing
 * kernel) and match cpu within 1e-4 relative error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/index.js';
import { checkGradients, maxRelativeError, seededRandom } from '../src/testing.js';

interface OpCase {
  name: string;
  shapes: number[][];
  f: (...xs: tf.Tensor[]) => tf.Tensor;
  /** Inputs that must be positive (sqrt, log, …). */
  positive?: boolean;
  /** Inputs rounded to thirds, so that ties occur (max pooling). */
  ties?: boolean;
  /** Skip the central-difference check (non-differentiable points on purpose). */
  noNumeric?: boolean;
}

const ids = [3, 0, 2, 2, 5, 1];

const OPS: OpCase[] = [
  { name: 'conv2d stride 2 same', shapes: [[2, 8, 8, 3], [3, 3, 3, 4]], f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same') },
  { name: 'conv2dTranspose stride 2', shapes: [[2, 4, 4, 4], [4, 4, 3, 4]], f: (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 8, 3], 2, 'same') },
  { name: 'fused conv2d + bias + relu', shapes: [[2, 6, 6, 3], [3, 3, 3, 4], [4]], f: (x, w, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' }) },
  { name: 'avgPool 2x2', shapes: [[2, 8, 8, 3]], f: (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid') },
  { name: 'avgPool 3x3 same stride 1', shapes: [[1, 7, 7, 2]], f: (x) => tf.avgPool(x as tf.Tensor4D, 3, 1, 'same') },
  { name: 'avgPool 3x2 same stride 2', shapes: [[2, 7, 6, 2]], f: (x) => tf.avgPool(x as tf.Tensor4D, [3, 2], 2, 'same') },
  { name: 'maxPool 2x2', shapes: [[2, 8, 8, 3]], f: (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid') },
  { name: 'maxPool 3x3 stride 2 same', shapes: [[1, 9, 9, 2]], f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same') },
  { name: 'maxPool 3x3 stride 2 same, batch 2', shapes: [[2, 9, 7, 3]], f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same') },
  { name: 'maxPool ties 2x2', shapes: [[2, 6, 6, 2]], ties: true, noNumeric: true, f: (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid') },
  { name: 'maxPool 2x3 stride [1,2] valid', shapes: [[2, 7, 8, 2]], f: (x) => tf.maxPool(x as tf.Tensor4D, [2, 3], [1, 2], 'valid') },
  {
    name: 'batchNorm (moments + normalize)',
    shapes: [[4, 5, 5, 3], [3], [3]],
    f: (x, g, b) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x as tf.Tensor4D, mean, variance, b, g, 1e-3);
    },
  },
  { name: 'leakyRelu 0.1', shapes: [[3, 17]], f: (x) => tf.leakyRelu(x, 0.1) },
  { name: 'relu', shapes: [[3, 17]], f: (x) => tf.relu(x) },
  { name: 'resizeNearestNeighbor x2', shapes: [[2, 4, 5, 3]], f: (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [8, 10]) },
  { name: 'resizeNearestNeighbor halfPixel 3→7', shapes: [[1, 3, 3, 2]], f: (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [7, 7], false, true) },
  { name: 'resizeBilinear x2', shapes: [[2, 4, 5, 3]], f: (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [8, 10]) },
  { name: 'resizeBilinear 5x3→7x8 alignCorners', shapes: [[2, 5, 3, 2]], f: (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [7, 8], true) },
  { name: 'resizeBilinear 6x4→3x5 halfPixel', shapes: [[1, 6, 4, 2]], f: (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [3, 5], false, true) },
  { name: 'resizeNearestNeighbor 4x6→7x5', shapes: [[2, 4, 6, 2]], f: (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [7, 5]) },
  { name: 'softmax', shapes: [[4, 13]], f: (x) => tf.softmax(x) },
  { name: 'logSoftmax', shapes: [[4, 13]], f: (x) => tf.logSoftmax(x) },
  {
    name: 'layer norm (moments over last axis)',
    shapes: [[2, 6, 8], [8], [8]],
    f: (x, g, b) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    },
  },
  { name: 'batched matMul', shapes: [[3, 4, 5], [3, 5, 6]], f: (a, b) => tf.matMul(a, b) },
  { name: 'batched matMul transposeB', shapes: [[3, 4, 5], [3, 6, 5]], f: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'dense (fused matMul + bias + relu)', shapes: [[4, 5], [5, 6], [6]], f: (a, b, c) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation: 'relu' }) },
  { name: 'gather rows', shapes: [[6, 4]], f: (x) => tf.gather(x, tf.tensor1d(ids, 'int32')) },
  { name: 'gather axis 1', shapes: [[2, 6, 3]], f: (x) => tf.gather(x, tf.tensor1d(ids, 'int32'), 1) },
  { name: 'oneHot · x (embedding)', shapes: [[6, 4]], f: (x) => tf.matMul(tf.oneHot(tf.tensor1d(ids, 'int32'), 6), x) },
  { name: 'pad', shapes: [[2, 3, 4]], f: (x) => tf.pad(x, [[0, 0], [1, 2], [2, 1]]) },
  { name: 'mirrorPad reflect', shapes: [[1, 4, 5, 2]], f: (x) => tf.mirrorPad(x, [[0, 0], [1, 2], [2, 1], [0, 0]], 'reflect') },
  { name: 'mirrorPad symmetric', shapes: [[2, 4, 3]], f: (x) => tf.mirrorPad(x, [[0, 1], [2, 1], [0, 3]], 'symmetric') },
  { name: 'slice', shapes: [[3, 5, 4]], f: (x) => tf.slice(x, [1, 1, 0], [2, 3, 3]) },
  { name: 'concat', shapes: [[2, 3, 2], [2, 3, 5]], f: (a, b) => tf.concat([a, b], -1) },
  { name: 'split', shapes: [[2, 6]], f: (x) => tf.mul(tf.split(x, [2, 4], 1)[1]!, 2) },
  { name: 'stack / unstack', shapes: [[3, 4]], f: (x) => tf.stack([...tf.unstack(x)].reverse()) },
  { name: 'tanh', shapes: [[3, 7]], f: (x) => tf.tanh(x) },
  { name: 'sigmoid', shapes: [[3, 7]], f: (x) => tf.sigmoid(x) },
  { name: 'sum / mean / max reductions', shapes: [[3, 4, 5]], f: (x) => tf.stack([tf.sum(x, 1), tf.mean(x, 1), tf.max(x, 1)]) },
  { name: 'min', shapes: [[3, 4]], f: (x) => tf.min(x, 1) },
  { name: 'abs (L1)', shapes: [[3, 7]], f: (x) => tf.abs(x) },
  { name: 'sqrt / rsqrt / log / exp', shapes: [[3, 7]], positive: true, f: (x) => tf.stack([tf.sqrt(x), tf.rsqrt(x), tf.log(x), tf.exp(x)]) },
  { name: 'square / squaredDifference / pow', shapes: [[3, 7], [3, 7]], positive: true, f: (a, b) => tf.stack([tf.square(a), tf.squaredDifference(a, b), tf.pow(a, 1.5)]) },
  { name: 'div / maximum / minimum', shapes: [[3, 7], [3, 7]], positive: true, f: (a, b) => tf.stack([tf.div(a, b), tf.maximum(a, b), tf.minimum(a, b)]) },
  { name: 'clipByValue', shapes: [[3, 7]], f: (x) => tf.clipByValue(x, -0.3, 0.4) },
  { name: 'where (mask from a comparison)', shapes: [[3, 7], [3, 7]], f: (a, b) => tf.where(tf.greater(a, b), a, b) },
  { name: 'tile / broadcastTo', shapes: [[1, 3, 1]], f: (x) => tf.add(tf.tile(x, [2, 1, 3]), tf.broadcastTo(x, [2, 3, 3])) },
  { name: 'transpose / reshape', shapes: [[2, 3, 4]], f: (x) => tf.reshape(tf.transpose(x, [2, 0, 1]), [4, 6]) },
  { name: 'cast / neg / sub / reciprocal', shapes: [[3, 4]], positive: true, f: (x) => tf.sub(tf.neg(x), tf.reciprocal(x)) },
  { name: 'elu / selu / softplus', shapes: [[3, 5]], f: (x) => tf.stack([tf.elu(x), tf.selu(x), tf.softplus(x)]) },
  { name: 'dropout (seeded)', shapes: [[4, 8]], f: (x) => tf.dropout(x, 0.3, undefined, 7) },
  { name: 'cumsum', shapes: [[3, 5]], f: (x) => tf.cumsum(x, 1) },
  { name: 'reverse', shapes: [[3, 5]], f: (x) => tf.reverse(x, 1) },
  { name: 'depthToSpace via reshape/transpose', shapes: [[1, 2, 2, 8]], f: (x) => tf.reshape(tf.transpose(tf.reshape(x, [1, 2, 2, 2, 2, 2]), [0, 1, 3, 2, 4, 5]), [1, 4, 4, 2]) },
];

function values(shape: number[], seed: number, positive: boolean, ties = false): Float32Array {
  const r = seededRandom(seed);
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = positive ? 0.2 + 2 * r() : r() * 2 - 1;
  if (ties) for (let i = 0; i < v.length; i++) v[i] = Math.round(v[i]! * 3) / 3;
  return v;
}

function gradsOn(backend: string, op: OpCase, inputs: Float32Array[], weights: Float32Array | null) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = inputs.map((v, i) => tf.tensor(v, op.shapes[i]));
    const y = op.f(...xs);
    const w = weights ?? values(y.shape, 1234, false);
    const wt = tf.tensor(w, y.shape);
    const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(op.f(...a), wt)))(xs);
    return { y: y.dataSync().slice(), grads: gs.map((g) => g.dataSync().slice()), w };
  });
}

describe('gradients of every op the model needs run on wasm and match cpu (rel ≤ 1e-4)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  for (const [k, op] of OPS.entries()) {
    it(`${op.name} ${op.shapes.map((s) => `[${s}]`).join(' ')}`, () => {
      const inputs = op.shapes.map((s, i) => values(s, 100 * k + i, op.positive ?? false, op.ties ?? false));
      const cpu = gradsOn('cpu', op, inputs, null);
      const wasm = gradsOn('wasm', op, inputs, cpu.w);
      expect(maxRelativeError(wasm.y, cpu.y)).toBeLessThan(1e-4);
      cpu.grads.forEach((g, i) => {
        expect(g.some((v) => v !== 0), `cpu gradient of input ${i} is not all zero`).toBe(true);
        expect(maxRelativeError(wasm.grads[i]!, g), `input ${i}`).toBeLessThan(1e-4);
      });
      if (!op.noNumeric) {
        // Independent of both backends' gradient code: central differences of the forward op.
        tf.setBackend('wasm');
        tf.tidy(() => {
          const xs = inputs.map((v, i) => tf.tensor(v, op.shapes[i]));
          const wt = tf.tensor(cpu.w, tf.tidy(() => op.f(...xs).shape));
          checkGradients((...a: tf.Tensor[]) => tf.sum(tf.mul(op.f(...a), wt)), xs, { eps: 1e-3, rtol: 2e-2, atol: 2e-3, maxEntries: 16 });
        });
      }
    });
  }
});
