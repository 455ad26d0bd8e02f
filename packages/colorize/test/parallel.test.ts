import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { disableNativeConvolutions, enableNativeConvolutions, nativeConvolutionState } from '@disco/runtime/node';
import { randomTensor } from '@disco/runtime/testing';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { ParallelStage2Trainer, shardSizes } from '../src/train/parallel.js';
import { resolveStage2Options, Stage2Trainer, stage2Forward, stage2LearningRate, stage2Loss, type Stage2Batch, type Stage2Losses } from '../src/train/stage2.js';

const config = resolveDiscoConfig({ imageSize: 32, anchors: 4, transformer: { dropout: 0.1 } }, 'tiny');
const OPTIONS = { steps: 10, learningRate: 2e-4, perceptualWeight: 0, extensions: { pixelWeight: 1 } };
const STEPS = 3;

function batch(seed: number, b = 4): Stage2Batch {
  return { L: randomTensor([b, 32, 32, 1], seed, -1, 1) as tf.Tensor4D, ab: randomTensor([b, 32, 32, 2], seed + 1, -0.4, 0.4) as tf.Tensor4D };
}

/** The reference: one process computing the same shards' gradients and applying their weighted mean. */
function referenceStep(trainer: Stage2Trainer, b: Stage2Batch, step: number, n: number): Stage2Losses {
  const B = b.L.shape[0];
  const sizes = shardSizes(B, n);
  let start = 0;
  const parts = sizes.map((s) => {
    const shard = { L: tf.slice(b.L, [start, 0, 0, 0], [s, -1, -1, -1]), ab: tf.slice(b.ab, [start, 0, 0, 0], [s, -1, -1, -1]) };
    start += s;
    const r = trainer.gradients(shard, step);
    tf.dispose([shard.L, shard.ab]);
    return { ...r, w: s / B };
  });
  const avg = parts[0]!.grads.map((_, v) =>
    parts.every((p) => !p.grads[v]) ? null : tf.tidy(() => parts.flatMap((p) => (p.grads[v] ? [tf.mul(p.grads[v], p.w)] : [])).reduce((a, b) => tf.add(a, b))),
  );
  trainer.applyGradients(avg, step);
  tf.dispose([...avg, ...parts.flatMap((p) => p.grads)].filter((g): g is tf.Tensor => g !== null));
  const losses = { ...parts[0]!.losses };
  for (const k of Object.keys(losses) as Array<keyof Stage2Losses>) losses[k] = parts.reduce((a, p) => a + p.losses[k] * p.w, 0);
  return losses;
}

function maxAbsDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!.dataSync();
    const y = b[i]!.dataSync();
    for (let j = 0; j < x.length; j++) m = Math.max(m, Math.abs(x[j]! - y[j]!));
  }
  return m;
}

describe('ParallelStage2Trainer (wasm, 2 worker threads)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  const models: DiscoModel[] = [];
  afterAll(() => models.forEach((m) => m.dispose()));

  it('shards a batch as evenly as possible', () => {
    expect(shardSizes(8, 2)).toEqual([4, 4]);
    expect(shardSizes(5, 2)).toEqual([3, 2]);
    expect(shardSizes(3, 3)).toEqual([1, 1, 1]);
  });

  it("Stage2Trainer.step (gradients, then applyGradients) equals tfjs' Adam minimize of the same loss, bit for bit, over 2 steps", () => {
    const a = DiscoModel.create(config);
    const b = DiscoModel.create(config);
    models.push(a, b);
    tf.tidy(() => b.setNamedWeights(a.namedWeights()));
    const ta = new Stage2Trainer(a, OPTIONS);
    // Reference: tf.train.adam's minimize with the schedule's rate, dropout reseeded with seed·1000003 + step, anchors seeded seed + step.
    const o = resolveStage2Options(OPTIONS);
    const adam = tf.train.adam(o.learningRate, o.beta1, o.beta2);
    for (let s = 0; s < 2; s++) {
      const x = batch(20 + s);
      const la = ta.step(x, s);
      (adam as unknown as { learningRate: number }).learningRate = stage2LearningRate(s, o);
      b.reseedDropout(o.seed * 1000003 + s);
      const cost = adam.minimize(() => tf.tidy(() => stage2Loss(b, x, stage2Forward(b, x, true, o.seed + s), o, null).total), true, b.trainableVariables())!;
      expect(cost.dataSync()[0]).toBe(la.total);
      tf.dispose([x.L, x.ab, cost]);
    }
    expect(maxAbsDiff(a.trainableVariables(), b.trainableVariables())).toBe(0);
    expect(ta.learningRate).toBe(stage2LearningRate(1, o));
    ta.dispose();
    adam.dispose();
  }, 120_000);

  for (const engine of ['wasm', 'onnxruntime'] as const)
  it(`${STEPS} steps with workers: 2 equal one process applying the mean of the same shards' gradients (weights ≤ 1e-6, losses ≤ 1e-5 relative), convolutions on ${engine}`, async () => {
    if (engine === 'onnxruntime') enableNativeConvolutions({ mode: 'onnxruntime', threads: 2 });
    else disableNativeConvolutions();
    const a = DiscoModel.create(config);
    const b = DiscoModel.create(config);
    models.push(a, b);
    tf.tidy(() => b.setNamedWeights(a.namedWeights()));
    const par = await ParallelStage2Trainer.create(new Stage2Trainer(a, OPTIONS), { workers: 2 });
    // The worker got the same engine with the same thread count as this thread (results do not depend on the worker count).
    expect(nativeConvolutionState().enabled).toBe(engine === 'onnxruntime');
    if (engine === 'onnxruntime') expect(nativeConvolutionState().threads).toBe(2);
    const ref = new Stage2Trainer(b, OPTIONS);
    try {
      for (let s = 0; s < STEPS; s++) {
        const x = batch(10 + s);
        const lp = await par.step(x, s);
        const lr = referenceStep(ref, x, s, 2);
        tf.dispose([x.L, x.ab]);
        for (const k of Object.keys(lr) as Array<keyof Stage2Losses>) expect(Math.abs(lp[k] - lr[k])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(lr[k])));
      }
      const va = a.trainableVariables();
      const vb = b.trainableVariables();
      expect(va.length).toBe(vb.length);
      const d = maxAbsDiff(va, vb);
      expect(d).toBeLessThanOrEqual(1e-6);
      // The weights did move (lr 2e-4 per step): the comparison is not vacuous.
      const init = DiscoModel.create(config);
      models.push(init);
      expect(maxAbsDiff(va, init.trainableVariables())).toBeGreaterThan(1e-4);
      // Batch-norm moving statistics: the mean of both shards' (not the untouched initial ones).
      const stats = Object.entries(a.namedWeights()).filter(([n]) => n.startsWith('backbone.') && n.includes('moving_mean'));
      expect(stats.length).toBeGreaterThan(0);
      expect(stats.some(([, t]) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!) > 0)).toBe(true);
    } finally {
      await par.dispose();
      if (engine === 'onnxruntime') expect(nativeConvolutionState().threads).toBe(2);
      disableNativeConvolutions();
      par.trainer.dispose();
      ref.dispose();
    }
  }, 240_000);

  it('no tensor growth across parallel steps, and the loss goes down on a fixed batch', async () => {
    const m = DiscoModel.create(config);
    models.push(m);
    const par = await ParallelStage2Trainer.create(new Stage2Trainer(m, { ...OPTIONS, learningRate: 2e-3 }), { workers: 2 });
    const x = batch(30);
    try {
      const first = await par.step(x, 0);
      const n = tf.memory().numTensors;
      let last = first;
      for (let s = 1; s < 6; s++) last = await par.step(x, s);
      expect(tf.memory().numTensors).toBe(n);
      expect(last.total).toBeLessThan(first.total);
    } finally {
      tf.dispose([x.L, x.ab]);
      await par.dispose();
      par.trainer.dispose();
    }
  }, 240_000);

  it('rejects a batch smaller than the worker count and a feature network', async () => {
    const m = DiscoModel.create(config);
    models.push(m);
    const par = await ParallelStage2Trainer.create(new Stage2Trainer(m, OPTIONS), { workers: 2 });
    const x = batch(40, 1);
    try {
      await expect(par.step(x, 0)).rejects.toThrow('ParallelStage2Trainer.step: batch 1 is smaller than the 2 workers');
    } finally {
      tf.dispose([x.L, x.ab]);
      await par.dispose();
    }
    const fake = { name: 'fake' } as unknown as ConstructorParameters<typeof Stage2Trainer>[2];
    await expect(ParallelStage2Trainer.create(new Stage2Trainer(m, OPTIONS, fake), { workers: 2 })).rejects.toThrow(/feature network is not supported/);
    await expect(ParallelStage2Trainer.create(new Stage2Trainer(m, OPTIONS), { workers: 0 })).rejects.toThrow('workers must be an integer ≥ 1 (got 0)');
  }, 120_000);
});
