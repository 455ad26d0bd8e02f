import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, describeBackends, expectClose, expectNoLeaks, randomTensor } from '@disco/runtime/testing';
import {
  decodeWeights,
  encodeWeights,
  Encoder,
  ENCODER_PRESETS,
  EncoderLayer,
  Linear,
  resolveEncoderLayerOptions,
  resolveEncoderOptions,
} from '../src/index.js';
import { encoderLayer64, flat, toMat } from './reference.js';
import { flatWeights, randomizeWeights } from './helpers.js';

const tiny = { dModel: 8, heads: 2, dff: 12, dropout: 0.1 };

describeBackends(describe, beforeAll, 'EncoderLayer', () => {
  const B = 2, T = 6, d = 8;

  it('post-norm layer with dense position [2,6,8] matches a float64 DETR reference within 1e-5 (with and without key padding)', () => {
    const layer = new EncoderLayer(tiny);
    randomizeWeights(layer, 10);
    const W = flatWeights(layer);
    const x = randomTensor([B, T, d], 1);
    const pos = randomTensor([1, T, d], 2);
    const xs = [0, 1].map((b) => toMat(x.dataSync(), T, d, b * T * d));
    const p = toMat(pos.dataSync(), T, d);
    const y = layer.apply(x, { pos });
    expect(y.shape).toEqual([B, T, d]);
    expectClose(y, flat(xs.map((m) => encoderLayer64(W, '', m, p, 2, 12, 1e-5))), { rtol: 1e-5, atol: 1e-5, what: 'encoder layer' });
    const pad = [[false, true, false, false, true, false], [false, false, false, false, false, true]];
    const kp = tf.tensor2d(pad.flat(), [B, T], 'bool');
    const y2 = layer.apply(x, { pos, keyPaddingMask: kp });
    expectClose(y2, flat(xs.map((m, b) => encoderLayer64(W, '', m, p, 2, 12, 1e-5, pad[b]!.map((q) => !q)))), { rtol: 1e-5, atol: 1e-5, what: 'masked layer' });
    tf.dispose([x, pos, y, kp, y2]);
    layer.dispose();
  });

  it('masked tokens do not influence unmasked outputs ([2,6,8], keys 1 and 4 padded)', () => {
    const layer = new EncoderLayer(tiny);
    randomizeWeights(layer, 20);
    const x = randomTensor([B, T, d], 3);
    const kp = tf.tensor2d([0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0], [B, T]);
    // replace the padded tokens by something else entirely
    const sel = tf.reshape(tf.cast(kp, 'bool'), [B, T, 1]);
    const x2 = tf.where(tf.broadcastTo(sel, [B, T, d]), randomTensor([B, T, d], 99, -5, 5), x);
    const y = layer.apply(x, { keyPaddingMask: kp }).arraySync();
    const y2 = layer.apply(x2, { keyPaddingMask: kp }).arraySync();
    for (let b = 0; b < B; b++) for (const t of [0, 2, 3, 5]) expectClose(y2[b]![t]!, y[b]![t]!, { rtol: 1e-6, atol: 1e-6, what: `token ${b},${t}` });
    // sanity: the padded tokens' own outputs did change
    expect(Math.abs(y2[0]![1]![0]! - y[0]![1]![0]!)).toBeGreaterThan(1e-3);
    tf.dispose([x, kp, sel, x2]);
    layer.dispose();
  });

  it('dropout only in training mode; seeded training is reproducible', () => {
    const a = new EncoderLayer({ ...tiny, dropout: 0.5, seed: 5 });
    const b = new EncoderLayer({ ...tiny, dropout: 0.5, seed: 5 });
    const x = randomTensor([B, T, d], 4);
    const e1 = a.apply(x), e2 = a.apply(x);
    expectClose(e1, e2, { rtol: 0, atol: 0, what: 'eval is deterministic' });
    const t1 = a.apply(x, { training: true }), t2 = b.apply(x, { training: true });
    expectClose(t1, t2, { rtol: 0, atol: 0, what: 'same seed, same masks' });
    expect(tf.max(tf.abs(tf.sub(t1, e1))).dataSync()[0]).toBeGreaterThan(1e-2);
    tf.dispose([x, e1, e2, t1, t2]);
    a.dispose();
    b.dispose();
  });

  it('gradient check on a tiny layer (d=4, 2 heads, FFN 6, [1,3,4]) with respect to tokens and position', () => {
    const layer = new EncoderLayer({ dModel: 4, heads: 2, dff: 6 });
    randomizeWeights(layer, 30);
    const x = randomTensor([1, 3, 4], 5);
    const pos = randomTensor([1, 3, 4], 6);
    const coef = randomTensor([1, 3, 4], 7);
    checkGradients((a, p) => tf.sum(tf.mul(layer.apply(a!, { pos: p! }), coef)), [x, pos], { eps: 1e-2, rtol: 3e-2, atol: 2e-3 });
    tf.dispose([x, pos, coef]);
    layer.dispose();
  });

  it('rejects bad inputs and options', () => {
    const layer = new EncoderLayer(tiny);
    const x = tf.zeros([B, T, d]);
    expect(() => layer.apply(tf.zeros([B, T, 4]))).toThrow(/EncoderLayer.apply: x must be \[batch, tokens, 8\]/);
    expect(() => layer.apply(x, { pos: tf.zeros([B, T + 1, d]) })).toThrow(/EncoderLayer.apply: pos must have shape/);
    expect(() => layer.apply(x, { keyPaddingMask: tf.zeros([B, 3]) })).toThrow(/keyPaddingMask/);
    expect(resolveEncoderLayerOptions({ dModel: 32, heads: 4 }).dff).toBe(128);
    expect(() => resolveEncoderLayerOptions({ dff: 0 })).toThrow(/resolveEncoderLayerOptions: dff must be an integer >= 1/);
    expect(() => resolveEncoderLayerOptions({ heads: 5 })).toThrow(/divisible/);
    tf.dispose(x);
    layer.dispose();
  });
});

describeBackends(describe, beforeAll, 'Encoder', () => {
  const B = 2, T = 4, d = 8;

  it("stacks independent layers: 'dense' adds pos in every layer, 'input' once ([2,4,8], 3 layers)", () => {
    const dense = new Encoder({ ...tiny, layers: 3, seed: 1 });
    const input = new Encoder({ ...tiny, layers: 3, seed: 1, positionMode: 'input' });
    const names = Object.keys(dense.getWeights());
    expect(names).toContain('layers.2.selfAttn.query.kernel');
    expect(names.length).toBe(3 * 16);
    // independent initialisation
    expect(tf.max(tf.abs(tf.sub(dense.layers[0]!.linear1.kernel, dense.layers[1]!.linear1.kernel))).dataSync()[0]).toBeGreaterThan(0);
    const x = randomTensor([B, T, d], 8);
    const pos = randomTensor([1, T, d], 9);
    let h: tf.Tensor = x;
    for (const layer of dense.layers) h = layer.apply(h, { pos });
    expectClose(dense.apply(x, { pos }), h, { rtol: 1e-6, atol: 1e-6, what: 'dense' });
    let g: tf.Tensor = tf.add(x, pos);
    for (const layer of input.layers) g = layer.apply(g);
    expectClose(input.apply(x, { pos }), g, { rtol: 1e-6, atol: 1e-6, what: 'input' });
    dense.dispose();
    input.dispose();
  });

  it('save/load round trip through tfjs weights encoding reproduces the outputs', async () => {
    const enc = new Encoder({ ...tiny, layers: 2, seed: 2 });
    randomizeWeights(enc, 50);
    const saved = await encodeWeights(enc);
    expect(saved.specs.length).toBe(32);
    const copy = new Encoder({ ...enc.getConfig(), seed: 77 });
    const x = randomTensor([B, T, d], 10);
    expect(tf.max(tf.abs(tf.sub(copy.apply(x), enc.apply(x)))).dataSync()[0]).toBeGreaterThan(1e-3);
    const bytes = new Uint8Array(saved.data).slice().buffer; // as if read back from disk
    decodeWeights(copy, { specs: JSON.parse(JSON.stringify(saved.specs)), data: bytes });
    expectClose(copy.apply(x), enc.apply(x), { rtol: 0, atol: 0, what: 'reloaded' });
    const bad = { ...copy.getWeights() } as Record<string, tf.Tensor>;
    delete bad['layers.0.norm1.gamma'];
    expect(() => copy.setWeights(bad)).toThrow(/Encoder.setWeights: weights: missing \[layers.0.norm1.gamma\]/);
    const before = tf.memory().numTensors;
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before - 32);
    enc.dispose();
  });

  it('does not leak over repeated training forward/backward with an optimizer step', async () => {
    const enc = new Encoder(ENCODER_PRESETS.tiny);
    const x = randomTensor([2, 4, 32], 11);
    const pos = randomTensor([1, 4, 32], 12);
    const kp = tf.tensor2d([[0, 0, 1, 1], [0, 0, 0, 0]]);
    const opt = tf.train.sgd(0.01);
    await expectNoLeaks(() => {
      opt.minimize(() => tf.mean(tf.square(enc.apply(x, { pos, keyPaddingMask: kp, training: true }))) as tf.Scalar, false, enc.trainableVariables());
    }, 'Encoder train step');
    tf.dispose([x, pos, kp]);
    opt.dispose();
    enc.dispose();
  });

  it('validates options (presets resolve; unknown keys and bad modes rejected)', () => {
    expect(resolveEncoderOptions(ENCODER_PRESETS.paper)).toEqual({ dModel: 64, heads: 8, dff: 256, dropout: 0.1, layerNormEpsilon: 1e-5, seed: 0, layers: 6, positionMode: 'dense' });
    expect(resolveEncoderOptions(ENCODER_PRESETS.tiny)).toEqual({ dModel: 32, heads: 4, dff: 128, dropout: 0.1, layerNormEpsilon: 1e-5, seed: 0, layers: 2, positionMode: 'dense' });
    expect(() => resolveEncoderOptions({ positionMode: 'sparse' as never })).toThrow(/resolveEncoderOptions: positionMode must be one of 'dense', 'input'/);
    expect(() => resolveEncoderOptions({ layers: 0 })).toThrow(/layers must be an integer in \[1, 64\]/);
    expect(() => resolveEncoderOptions({ depth: 3 } as never)).toThrow(/unknown option 'depth'/);
  });
});

describeBackends(describe, beforeAll, 'Linear', () => {
  it('Xavier-uniform init: seeded, within ±sqrt(6/(in+out)), variance bound²/3; bias zero', () => {
    const a = new Linear({ inputDim: 64, outputDim: 256, seed: 3 });
    const b = new Linear({ inputDim: 64, outputDim: 256, seed: 3 });
    const c = new Linear({ inputDim: 64, outputDim: 256, seed: 4 });
    const bound = Math.sqrt(6 / 320);
    const w = a.kernel.dataSync();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
    const varW = Array.from(w).reduce((s, v) => s + v * v, 0) / w.length;
    expect(Math.abs(varW - (bound * bound) / 3)).toBeLessThan(0.05 * (bound * bound) / 3);
    expectClose(b.kernel, a.kernel, { rtol: 0, atol: 0 });
    expect(tf.max(tf.abs(tf.sub(c.kernel, a.kernel))).dataSync()[0]).toBeGreaterThan(0);
    expect(tf.max(tf.abs(a.bias!)).dataSync()[0]).toBe(0);
    expect(() => a.apply(tf.zeros([2, 63]))).toThrow(/Linear.apply: x must have last axis 64/);
    [a, b, c].forEach((m) => m.dispose());
  });
});

describeBackends(describe, beforeAll, 'linearOp (transposed-product gradient)', () => {
  it('gradients of x·w + b and x·w match central differences ([3,4]·[4,5])', async () => {
    const { linearOp } = await import('../src/internal/linear_op.js');
    const x = randomTensor([3, 4], 21), w = randomTensor([4, 5], 22), b = randomTensor([5], 23), coef = randomTensor([3, 5], 24);
    const y = linearOp(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D);
    expectClose(y, tf.add(tf.matMul(x, w), b), { rtol: 1e-6, atol: 1e-6, what: 'forward' });
    checkGradients((a, c, d) => tf.sum(tf.mul(linearOp(a as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor1D), coef)), [x, w, b]);
    checkGradients((a, c) => tf.sum(tf.mul(linearOp(a as tf.Tensor2D, c as tf.Tensor2D, null), coef)), [x, w]);
    tf.dispose([x, w, b, coef, y]);
  });
});

describe('Encoder.reseedDropout', () => {
  it('makes training-mode outputs a function of the seed only (resume-exact dropout)', async () => {
    const { selectBackend } = await import('@disco/runtime');
    await selectBackend({ backend: 'wasm' });
    const enc = new Encoder({ dModel: 8, heads: 2, dff: 16, layers: 2, dropout: 0.3, seed: 1 });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 3);
    const run = (seed: number) => {
      enc.reseedDropout(seed);
      return enc.apply(x, { training: true }).dataSync().slice();
    };
    const a = run(7);
    enc.apply(x, { training: true }).dispose(); // advances the streams
    const b = run(7);
    const c = run(8);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    x.dispose();
    enc.dispose();
  });
});
