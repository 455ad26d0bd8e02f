import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, describeBackends, expectClose, expectNoLeaks, randomTensor } from '@disco/runtime/testing';
import { MultiHeadAttention, resolveMultiHeadAttentionOptions, scaledDotProductAttention } from '../src/index.js';
import { attention64, flat, mha64, toMat, type Mat } from './reference.js';
import { flatWeights, randomizeWeights } from './helpers.js';

/** Reference of scaledDotProductAttention over [B,H,T,*] flat arrays. */
function sdpaRef(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, allowed?: (b: number, h: number) => boolean[][], add?: (b: number, h: number) => Mat) {
  const [B, H, T, D] = q.shape as number[];
  const S = k.shape[2]!;
  const Dv = v.shape[3]!;
  const qd = q.dataSync(), kd = k.dataSync(), vd = v.dataSync();
  const outs: Mat[] = [], ws: Mat[] = [];
  for (let b = 0; b < B!; b++) {
    for (let h = 0; h < H!; h++) {
      const bh = b * H! + h;
      const r = attention64(toMat(qd, T!, D!, bh * T! * D!), toMat(kd, S, D!, bh * S * D!), toMat(vd, S, Dv, bh * S * Dv), 1 / Math.sqrt(D!), allowed?.(b, h), add?.(b, h));
      outs.push(r.out);
      ws.push(r.w);
    }
  }
  return { out: flat(outs), w: flat(ws) };
}

describeBackends(describe, beforeAll, 'scaledDotProductAttention', () => {
  const B = 2, H = 2, T = 5, S = 4, D = 3, Dv = 2;
  const q = () => randomTensor([B, H, T, D], 1, -2, 2) as tf.Tensor4D;
  const k = () => randomTensor([B, H, S, D], 2, -2, 2) as tf.Tensor4D;
  const v = () => randomTensor([B, H, S, Dv], 3) as tf.Tensor4D;

  it('matches a float64 loop reference without masks ([2,2,5,3]·[2,2,4,3], values [2,2,4,2]) within 1e-5', () => {
    const [Q, K, V] = [q(), k(), v()];
    const r = scaledDotProductAttention(Q, K, V);
    const ref = sdpaRef(Q, K, V);
    expect(r.output.shape).toEqual([B, H, T, Dv]);
    expect(r.output.dtype).toBe('float32');
    expectClose(r.output, ref.out, { rtol: 1e-5, atol: 1e-6, what: 'output' });
    expectClose(r.weights!, ref.w, { rtol: 1e-5, atol: 1e-6, what: 'weights' });
    tf.dispose([Q, K, V, r.output, r.weights!]);
  });

  it('matches the reference with a key-padding mask (one batch fully masked), additive -Infinity mask and bool mask', () => {
    const [Q, K, V] = [q(), k(), v()];
    // batch 0: keys 1 and 3 padded; batch 1: every key padded → zero weights, zero output.
    const pad = [[false, true, false, true], [true, true, true, true]];
    const kp = tf.tensor2d(pad.flat(), [B, S], 'bool');
    const r1 = scaledDotProductAttention(Q, K, V, { keyPaddingMask: kp });
    const allowedKp = (b: number) => Array.from({ length: T }, () => pad[b]!.map((p) => !p));
    const ref1 = sdpaRef(Q, K, V, allowedKp);
    expectClose(r1.output, ref1.out, { rtol: 1e-5, atol: 1e-6, what: 'output (key padding)' });
    expectClose(r1.weights!, ref1.w, { rtol: 1e-5, atol: 1e-6, what: 'weights (key padding)' });
    const w1 = r1.weights!.dataSync();
    expect(Array.from(w1).every(Number.isFinite)).toBe(true);
    // masked keys get exactly zero
    for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) expect(w1[((0 * H + h) * T + t) * S + 1]).toBe(0);
    expect(Array.from(r1.output.dataSync().slice(H * T * Dv)).every((x) => x === 0)).toBe(true);

    // additive [T,S] mask with finite values and -Infinity entries (a whole row blocked for t = 2)
    const add: number[][] = Array.from({ length: T }, (_, t) => Array.from({ length: S }, (_, s) => (t === 2 || (t + s) % 3 === 0 ? -Infinity : 0.3 * (s - t))));
    const am = tf.tensor2d(add.flat(), [T, S]);
    const r2 = scaledDotProductAttention(Q, K, V, { attnMask: am, keyPaddingMask: tf.tensor2d([0, 0, 0, 1, 0, 0, 0, 0], [B, S]) });
    const kp2 = [[false, false, false, true], [false, false, false, false]];
    const ref2 = sdpaRef(Q, K, V, (b) => add.map((row, _t) => row.map((x, s) => x > -Infinity && !kp2[b]![s])), () => add.map((row) => row.map((x) => (x > -Infinity ? x : 0))));
    expectClose(r2.output, ref2.out, { rtol: 1e-5, atol: 1e-6, what: 'output (additive + padding)' });
    expectClose(r2.weights!, ref2.w, { rtol: 1e-5, atol: 1e-6, what: 'weights (additive + padding)' });

    // bool [B,H,T,S] mask
    const blocked = Array.from({ length: B * H * T * S }, (_, i) => i % 5 === 1);
    const bm = tf.tensor4d(blocked, [B, H, T, S], 'bool');
    const r3 = scaledDotProductAttention(Q, K, V, { attnMask: bm });
    const ref3 = sdpaRef(Q, K, V, (b, h) => Array.from({ length: T }, (_, t) => Array.from({ length: S }, (_, s) => !blocked[((b * H + h) * T + t) * S + s])));
    expectClose(r3.output, ref3.out, { rtol: 1e-5, atol: 1e-6, what: 'output (bool mask)' });
    tf.dispose([Q, K, V, kp, am, bm, r1.output, r1.weights!, r2.output, r2.weights!, r3.output, r3.weights!]);
  });

  it('gradients with respect to q, k, v and a finite additive mask match central differences ([1,2,3,2])', () => {
    const Q = randomTensor([1, 2, 3, 2], 11), K = randomTensor([1, 2, 3, 2], 12), V = randomTensor([1, 2, 3, 2], 13);
    const M = randomTensor([3, 3], 14);
    const kp = tf.tensor2d([[0, 0, 1]]);
    const coef = randomTensor([1, 2, 3, 2], 15);
    checkGradients(
      (a, b, c, m) => tf.sum(tf.mul(scaledDotProductAttention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, { attnMask: m!, keyPaddingMask: kp }).output, coef)),
      [Q, K, V, M],
      { eps: 1e-2, rtol: 2e-2, atol: 1e-3 },
    );
    tf.dispose([Q, K, V, M, kp, coef]);
  });

  it('without weights matches the reference with key padding and a bool mask', () => {
    const [Q, K, V] = [q(), k(), v()];
    const pad = [[false, true, false, false], [true, true, true, true]];
    const kp = tf.tensor2d(pad.flat(), [B, S], 'bool');
    const blocked = Array.from({ length: T * S }, (_, i) => i % 3 === 2);
    const bm = tf.tensor2d(blocked, [T, S], 'bool');
    const r = scaledDotProductAttention(Q, K, V, { keyPaddingMask: kp, attnMask: bm, returnWeights: false });
    expect(r.weights).toBeNull();
    const ref = sdpaRef(Q, K, V, (b) => Array.from({ length: T }, (_, t) => Array.from({ length: S }, (_, s) => !pad[b]![s] && !blocked[t * S + s])));
    expectClose(r.output, ref.out, { rtol: 1e-5, atol: 1e-6, what: 'output (no weights)' });
    const plain = scaledDotProductAttention(Q, K, V, { returnWeights: false });
    expectClose(plain.output, sdpaRef(Q, K, V).out, { rtol: 1e-5, atol: 1e-6, what: 'output (no masks, no weights)' });
    // training dropout: seeded masks reproduce, and change the output
    const drop = (seed: number) => scaledDotProductAttention(Q, K, V, { returnWeights: false, dropout: 0.5, training: true, seed }).output;
    const [d1, d2, d3] = [drop(1), drop(1), drop(2)];
    expectClose(d1, d2, { rtol: 0, atol: 0, what: 'same seed' });
    expect(tf.max(tf.abs(tf.sub(d1, d3))).dataSync()[0]).toBeGreaterThan(1e-3);
    expect(tf.max(tf.abs(tf.sub(d1, plain.output))).dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([Q, K, V, kp, bm, r.output, plain.output, d1, d2, d3]);
  });

  it('gradients without weights, with key padding and seeded training dropout, match central differences ([1,2,3,2])', () => {
    const Q = randomTensor([1, 2, 3, 2], 31), K = randomTensor([1, 2, 4, 2], 32), V = randomTensor([1, 2, 4, 2], 33);
    const kp = tf.tensor2d([[0, 1, 0, 0]]);
    const coef = randomTensor([1, 2, 3, 2], 34);
    for (const training of [false, true]) {
      checkGradients(
        (a, b, c) => tf.sum(tf.mul(scaledDotProductAttention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, { keyPaddingMask: kp, returnWeights: false, dropout: 0.3, training, seed: 5 }).output, coef)),
        [Q, K, V],
        { eps: 1e-2, rtol: 2e-2, atol: 1e-3 },
      );
    }
    tf.dispose([Q, K, V, kp, coef]);
  });

  it('rejects bad inputs with one-line errors naming the argument', () => {
    const [Q, K, V] = [q(), k(), v()];
    expect(() => scaledDotProductAttention(tf.zeros([2, 5, 3]) as unknown as tf.Tensor4D, K, V)).toThrow(/scaledDotProductAttention: query/);
    expect(() => scaledDotProductAttention(Q, tf.zeros([B, H, S, 4]) as tf.Tensor4D, V)).toThrow(/scaledDotProductAttention: key must have shape/);
    expect(() => scaledDotProductAttention(Q, K, tf.zeros([B, H, 3, 2]) as tf.Tensor4D)).toThrow(/scaledDotProductAttention: value/);
    expect(() => scaledDotProductAttention(Q, K, V, { keyPaddingMask: tf.zeros([B, 5]) })).toThrow(/scaledDotProductAttention: keyPaddingMask must have shape \[2, 4\]/);
    expect(() => scaledDotProductAttention(Q, K, V, { attnMask: tf.zeros([S, T]) })).toThrow(/scaledDotProductAttention: attnMask/);
    expect(() => scaledDotProductAttention(Q, K, V, { dropout: 1 })).toThrow(/dropout/);
    tf.dispose([Q, K, V]);
  });
});

describeBackends(describe, beforeAll, 'MultiHeadAttention', () => {
  const d = 8, heads = 2, B = 2, T = 5;

  it('self-attention [2,5,8], 2 heads, matches a float64 reference with and without key padding within 1e-5', () => {
    const mha = new MultiHeadAttention({ dModel: d, heads, seed: 3 });
    randomizeWeights(mha, 100);
    const W = flatWeights(mha);
    const x = randomTensor([B, T, d], 7);
    const xs = [0, 1].map((b) => toMat(x.dataSync(), T, d, b * T * d));
    const r = mha.apply(x, x, x);
    expect(r.output.shape).toEqual([B, T, d]);
    expect(r.weights).toBeNull();
    expectClose(r.output, flat(xs.map((m) => mha64(W, '', m, m, m, heads))), { rtol: 1e-5, atol: 1e-6, what: 'mha' });
    const pad = [[false, false, true, false, true], [false, false, false, false, false]];
    const kp = tf.tensor2d(pad.flat(), [B, T], 'bool');
    const r2 = mha.apply(x, x, x, { keyPaddingMask: kp, returnWeights: true });
    expectClose(r2.output, flat(xs.map((m, b) => mha64(W, '', m, m, m, heads, pad[b]!.map((p) => !p)))), { rtol: 1e-5, atol: 1e-6, what: 'mha masked' });
    expect(r2.weights!.shape).toEqual([B, heads, T, T]);
    tf.dispose([x, kp, r.output, r2.output, r2.weights!]);
    mha.dispose();
  });

  it('cross-attention with fewer keys ([2,5,8] → [2,3,8]) matches the reference', () => {
    const mha = new MultiHeadAttention({ dModel: d, heads });
    randomizeWeights(mha, 200);
    const W = flatWeights(mha);
    const q = randomTensor([B, T, d], 8), kv = randomTensor([B, 3, d], 9);
    const out = mha.apply(q, kv, kv).output;
    const ref = [0, 1].map((b) => mha64(W, '', toMat(q.dataSync(), T, d, b * T * d), toMat(kv.dataSync(), 3, d, b * 3 * d), toMat(kv.dataSync(), 3, d, b * 3 * d), heads));
    expectClose(out, flat(ref), { rtol: 1e-5, atol: 1e-6, what: 'cross' });
    tf.dispose([q, kv, out]);
    mha.dispose();
  });

  it('with and without weights agree in outputs and all gradients ([2,12,16], 4 heads, key padding)', () => {
    const mha = new MultiHeadAttention({ dModel: 16, heads: 4, dropout: 0 });
    randomizeWeights(mha, 500);
    const x = randomTensor([2, 12, 16], 20);
    const kp = tf.tensor2d(Array.from({ length: 24 }, (_, i) => (i % 12 >= 9 || i === 13 ? 1 : 0)), [2, 12]);
    const run = (returnWeights: boolean) => {
      const { value, grads } = tf.variableGrads(() => {
        const r = mha.apply(x, x, x, { keyPaddingMask: kp, returnWeights, training: true });
        if (r.weights) r.weights.dispose();
        return tf.sum(tf.mul(r.output, r.output)) as tf.Scalar;
      }, mha.trainableVariables());
      const out = { value: value.dataSync()[0]!, grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync().slice()])) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const fast = run(false);
    const batched = run(true);
    expectClose(fast.value, batched.value, { rtol: 1e-5, atol: 1e-6, what: 'loss' });
    for (const name of Object.keys(batched.grads)) expectClose(fast.grads[name]!, batched.grads[name]!, { rtol: 1e-4, atol: 1e-6, what: `grad ${name}` });
    tf.dispose([x, kp]);
    mha.dispose();
  });

  it('is permutation equivariant without position encoding ([2,5,8])', () => {
    const mha = new MultiHeadAttention({ dModel: d, heads });
    randomizeWeights(mha, 300);
    const x = randomTensor([B, T, d], 10);
    const perm = [3, 0, 4, 1, 2];
    const idx = tf.tensor1d(perm, 'int32');
    const xp = tf.gather(x, idx, 1);
    const y = mha.apply(x, x, x).output;
    const yp = mha.apply(xp, xp, xp).output;
    const expected = tf.gather(y, idx, 1);
    expectClose(yp, expected, { rtol: 1e-5, atol: 1e-6, what: 'permuted output' });
    tf.dispose([x, idx, xp, y, yp, expected]);
    mha.dispose();
  });

  it('gradient check on a tiny block (d=4, 2 heads, [1,3,4]) with respect to input and query kernel', () => {
    const mha = new MultiHeadAttention({ dModel: 4, heads: 2 });
    randomizeWeights(mha, 400);
    const x = randomTensor([1, 3, 4], 12);
    const coef = randomTensor([1, 3, 4], 13);
    const kp = tf.tensor2d([[0, 1, 0]]);
    checkGradients((a) => tf.sum(tf.mul(mha.apply(a!, a!, a!, { keyPaddingMask: kp }).output, coef)), [x], { eps: 1e-2, rtol: 2e-2, atol: 1e-3 });
    // weight gradient: tf.variableGrads against central differences through assign()
    const kernel = mha.query.kernel;
    const loss = (): tf.Scalar => tf.sum(tf.mul(mha.apply(x, x, x).output, coef)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, [kernel]);
    const analytic = grads[kernel.name]!.dataSync().slice();
    tf.dispose([value, ...Object.values(grads)]);
    const original = kernel.dataSync().slice();
    const numeric: number[] = [];
    const eps = 1e-2;
    for (let i = 0; i < original.length; i++) {
      const at = (delta: number): number => {
        const w = original.slice();
        w[i] = w[i]! + delta;
        tf.tidy(() => kernel.assign(tf.tensor(w, kernel.shape)));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      numeric.push((at(eps) - at(-eps)) / (2 * eps));
    }
    tf.tidy(() => kernel.assign(tf.tensor(original, kernel.shape)));
    expectClose(analytic, numeric, { rtol: 2e-2, atol: 1e-3, what: 'query kernel gradient' });
    tf.dispose([x, coef, kp]);
    mha.dispose();
  });

  it('does not leak over repeated forward/backward in training mode', async () => {
    const mha = new MultiHeadAttention({ dModel: d, heads, dropout: 0.2 });
    const x = randomTensor([B, T, d], 14);
    const kp = tf.tensor2d([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]);
    await expectNoLeaks(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(mha.apply(x, x, x, { keyPaddingMask: kp, training: true }).output) as tf.Scalar);
      tf.dispose([value, ...Object.values(grads)]);
    }, 'MultiHeadAttention forward/backward');
    tf.dispose([x, kp]);
    mha.dispose();
  });

  it('validates options and inputs', () => {
    expect(() => resolveMultiHeadAttentionOptions({ dModel: 10, heads: 3 })).toThrow(/resolveMultiHeadAttentionOptions: dModel must be divisible by heads/);
    expect(() => resolveMultiHeadAttentionOptions({ dropout: 1 })).toThrow(/dropout must be a number in \[0, 1\)/);
    expect(() => resolveMultiHeadAttentionOptions({ foo: 1 } as never)).toThrow(/unknown option 'foo'; valid: dModel, heads, dropout, bias, seed/);
    expect(resolveMultiHeadAttentionOptions({})).toEqual({ dModel: 64, heads: 8, dropout: 0.1, bias: true, seed: 0 });
    const mha = new MultiHeadAttention({ dModel: d, heads });
    const x = tf.zeros([B, T, d]);
    expect(() => mha.apply(tf.zeros([B, T, 4]), x, x)).toThrow(/MultiHeadAttention.apply: query must be/);
    expect(() => mha.apply(x, x, tf.zeros([B, 4, d]))).toThrow(/MultiHeadAttention.apply: value/);
    mha.dispose();
    expect(() => mha.apply(x, x, x)).toThrow(/disposed/);
    x.dispose();
  });
});
