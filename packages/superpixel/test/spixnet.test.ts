import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@disco/runtime';
import { expectClose, expectNoLeaks, randomTensor } from '@disco/runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SpixNet,
  boundaries,
  createSpixNetOptimizer,
  drawBoundaries,
  gridAssociation,
  labelMap,
  loadOptimizerState,
  reconstructionError,
  resolveSpixNetConfig,
  resolveStage1LossOptions,
  resolveTrainSpixNetOptions,
  saveOptimizerState,
  spixnetLearningRate,
  stage1Loss,
  trainSpixNet,
  type Stage1Batch,
} from '../src/index.js';

/** Memory handler capturing saved artifacts. */
function memorySink(): { handler: tf.io.IOHandler; artifacts: () => tf.io.ModelArtifacts } {
  let saved: tf.io.ModelArtifacts | null = null;
  return {
    handler: tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    artifacts: () => saved!,
  };
}

/** Piecewise-constant colour images (two vertical halves with a jagged border) and their L. */
function blockBatch(seed: number, B = 2, H = 32, W = 32): Stage1Batch {
  return tf.tidy(() => {
    const noise = randomTensor([B, 1, 1, 2], seed, -0.4, 0.4);
    const cols = tf.reshape(tf.range(0, W, 1, 'float32'), [1, 1, W, 1]);
    const rows = tf.reshape(tf.range(0, H, 1, 'float32'), [1, H, 1, 1]);
    const split = tf.cast(tf.greater(tf.add(cols, tf.mul(tf.sin(tf.mul(rows, 0.4 + seed * 0.01)), 4)), W / 2 + 3), 'float32'); // [1, H, W, 1]
    const ab = tf.mul(tf.sub(tf.mul(split, 2), 1), noise) as tf.Tensor4D; // [B, H, W, 2]
    const L = tf.mul(tf.tile(split, [B, 1, 1, 1]), 0.8) as tf.Tensor4D;
    return { L, ab };
  });
}

describe('SpixNet, stage-1 loss and training [wasm]', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('resolves configs and rejects unknown keys and bad ranges listing valid values', () => {
    expect(resolveSpixNetConfig().widths).toEqual([16, 32, 64, 128, 256]);
    expect(resolveSpixNetConfig({ seed: 3 }, 'tiny')).toEqual({ widths: [4, 8, 8, 16, 16], leakyAlpha: 0.1, bnMomentum: 0.9, seed: 3, padding: 'same' });
    // The paper preset pads stride-2 convolutions on every side, as the published SpixelNet (PyTorch padding=1).
    expect(resolveSpixNetConfig().padding).toBe('symmetric');
    expect(() => resolveSpixNetConfig({ padding: 'valid' as never })).toThrow("resolveSpixNetConfig: padding must be 'symmetric' or 'same'; got valid");
    expect(() => resolveSpixNetConfig({ width: [1] } as never)).toThrow("resolveSpixNetConfig: unknown option 'width'; valid: widths, leakyAlpha, bnMomentum, seed, padding");
    expect(() => resolveSpixNetConfig({}, 'huge' as never)).toThrow("unknown preset 'huge'; valid: paper, tiny");
    expect(() => resolveSpixNetConfig({ widths: [8] })).toThrow(/widths must be at least 2 positive integers/);
    expect(() => resolveStage1LossOptions({ cellSize: 0 })).toThrow(/cellSize must be an integer >= 1; got 0/);
    expect(() => resolveTrainSpixNetOptions({ lr: 1 } as never)).toThrow(/unknown option 'lr'; valid: steps, learningRate/);
    expect(resolveTrainSpixNetOptions({ steps: 5 }).learningRate).toBe(2e-4);
  });

  it('paper preset: output [1,32,32,9] sums to 1 per pixel; parameter count of the layer plan', () => {
    const net = SpixNet.create({}, 'paper');
    const a = net.predict(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D);
    expect(a.shape).toEqual([1, 32, 32, 9]);
    expectClose(tf.sum(a, 3), tf.ones([1, 32, 32]), { what: 'softmax sums' });
    // Encoder convs (no bias) + BN (4 per layer), decoder transposed convs (bias) + convs, head (bias).
    const w = [16, 32, 64, 128, 256];
    let n = 0;
    let cin = 1;
    w.forEach((c) => {
      n += 9 * cin * c + 4 * c + 9 * c * c + 4 * c;
      cin = c;
    });
    for (let i = 3; i >= 0; i--) n += 16 * w[i + 1]! * w[i]! + w[i]! + 9 * 2 * w[i]! * w[i]! + 4 * w[i]!;
    n += 9 * 16 * 9 + 9;
    expect(net.countParams()).toBe(n);
    tf.dispose(a);
    net.dispose();
  });

  it('same seed gives the same weights; save/load round trip reproduces the association', async () => {
    const a = SpixNet.create({ seed: 7 }, 'tiny');
    const b = SpixNet.create({ seed: 7 }, 'tiny');
    const L = randomTensor([1, 16, 16, 1], 1) as tf.Tensor4D;
    const ya = a.predict(L);
    expectClose(b.predict(L), ya, { what: 'same seed' });
    const sink = memorySink();
    await a.save(sink.handler);
    const c = await SpixNet.load(tf.io.fromMemory(sink.artifacts()));
    expect(c.config).toEqual(a.config);
    expectClose(c.predict(L), ya, { rtol: 1e-6, what: 'loaded model' });
    await expect(SpixNet.load(tf.io.fromMemory({ ...sink.artifacts(), userDefinedMetadata: {} }))).rejects.toThrow(/^SpixNet.load: handler: the model carries no/);
    expect(() => a.predict(tf.zeros([1, 12, 16, 1]) as tf.Tensor4D)).toThrow(/^SpixNet.predict: L height and width must be multiples of 16/);
    [a, b, c].forEach((n) => n.dispose());
    tf.dispose([L, ya]);
  });

  it('stage-1 loss: zero for the grid on constant-per-cell colour; hand value for a known displacement', () => {
    tf.tidy(() => {
      // Grid association, colour constant per 2×2 cell: ab reconstructs exactly; xy comes back as
      // the cell centre, so every pixel is off by (±0.5, ±0.5): ‖Δxy‖ = √0.5.
      const grid = gridAssociation(1, 4, 4);
      const ab = tf.image.resizeNearestNeighbor(randomTensor([1, 2, 2, 2], 3) as tf.Tensor4D, [4, 4]);
      const { total, feat, pos } = stage1Loss(grid, ab, { cellSize: 2 });
      expectClose(feat, 0, { atol: 1e-5, what: 'feat' });
      expectClose(pos, Math.SQRT1_2, { atol: 1e-5, what: 'pos' });
      expectClose(total, (0.003 * Math.SQRT1_2) / 2, { atol: 1e-6, what: 'total' });
      expect(() => stage1Loss(grid, tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, { cellSize: 2 })).toThrow(/^stage1Loss: ab must have shape \[1, 4, 4, 2\]/);
    });
  });

  it('learning rate decays linearly to 1% and never scales with epochs', () => {
    const o = { steps: 101, learningRate: 1e-3, finalLearningRateFraction: 0.01 };
    expect(spixnetLearningRate(0, o)).toBeCloseTo(1e-3, 12);
    expect(spixnetLearningRate(50, o)).toBeCloseTo(1e-3 * (1 - 0.99 * 0.5), 12);
    expect(spixnetLearningRate(100, o)).toBeCloseTo(1e-5, 12);
    expect(spixnetLearningRate(1000, o)).toBeCloseTo(1e-5, 12);
  });

  it('training the tiny preset lowers the loss and beats the grid on held-out images (S=8, [2,32,32])', async () => {
    const net = SpixNet.create({ seed: 1 }, 'tiny');
    const losses: number[] = [];
    const batches = Array.from({ length: 60 }, (_, i) => blockBatch(i));
    const { optimizer, step } = await trainSpixNet(net, batches, { steps: 60, learningRate: 1e-2, cellSize: 8 }, { onStep: (s) => void losses.push(s.loss) });
    expect(step).toBe(60);
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first * 0.9);
    const held = blockBatch(77);
    const trained = tf.tidy(() => reconstructionError(held.L, held.ab, net.predict(held.L), 8).dataSync()[0]!);
    const grid = tf.tidy(() => reconstructionError(held.L, held.ab, gridAssociation(2, 32, 32), 8).dataSync()[0]!);
    expect(trained).toBeLessThan(grid);
    // Optimizer state round trip: a restored Adam takes the same next step as the original.
    const state = await saveOptimizerState(optimizer);
    const restored = createSpixNetOptimizer({ learningRate: 1e-2 });
    await loadOptimizerState(restored, state);
    expect(restored.iterations).toBe(optimizer.iterations);
    const again = await saveOptimizerState(restored);
    expect(new Float32Array(again.data)).toEqual(new Float32Array(state.data));
    // Adam's bias-correction powers are bit-identical too (tfjs would set β^(t+1) with one pow()).
    const acc = (o: tf.AdamOptimizer) => ['accBeta1', 'accBeta2'].map((k) => (o as unknown as Record<string, tf.Variable>)[k]!.dataSync()[0]);
    expect(acc(restored)).toEqual(acc(optimizer));
    tf.dispose([held.L, held.ab]);
    optimizer.dispose();
    restored.dispose();
    net.dispose();
  });

  it('boundary drawing paints exactly the boundary pixels', () => {
    tf.tidy(() => {
      const rgb = tf.fill([1, 4, 4, 3], 0.5) as tf.Tensor4D;
      const mask = boundaries(labelMap(gridAssociation(1, 4, 4), 2));
      const painted = drawBoundaries(rgb, mask, [0, 1, 0]);
      const m = mask.dataSync();
      const p = painted.dataSync();
      for (let i = 0; i < 16; i++) expect([p[3 * i], p[3 * i + 1], p[3 * i + 2]]).toEqual(m[i] ? [0, 1, 0] : [0.5, 0.5, 0.5]);
      expect(Array.from(m)).toEqual([0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0]);
    });
  });

  it('does not leak tensors (predict, loss, quality, a training step)', async () => {
    const net = SpixNet.create({ seed: 2 }, 'tiny');
    const L = randomTensor([1, 16, 16, 1], 5) as tf.Tensor4D;
    const ab = randomTensor([1, 16, 16, 2], 6) as tf.Tensor4D;
    await expectNoLeaks(() => net.predict(L), 'predict');
    await expectNoLeaks(() => tf.tidy(() => stage1Loss(net.predict(L), ab, { cellSize: 4 }).total), 'stage1Loss');
    await expectNoLeaks(() => tf.tidy(() => reconstructionError(L, ab, net.predict(L), 4)), 'reconstructionError');
    const optimizer = createSpixNetOptimizer();
    await expectNoLeaks(async () => {
      await trainSpixNet(net, [{ L: tf.clone(L), ab: tf.clone(ab) }], { steps: 1, cellSize: 4 }, { optimizer });
    }, 'trainSpixNet step');
    optimizer.dispose();
    tf.dispose([L, ab]);
    net.dispose();
  });
});
