import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { expectClose, expectNoLeaks, seededRandom } from '@disco/runtime/testing';
import { resolveDiscoConfig, type DiscoConfigOverrides } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import type { FrozenNetwork } from '../src/model/frozen.js';
import { laplacian, laplacianL1, perceptualLoss, rebalancedCrossEntropy } from '../src/model/losses.js';
import { Stage2Trainer, stage2LearningRate } from '../src/train/stage2.js';

/** Synthetic "photos": smooth lightness, a few flat-colored blobs (normalised Lab). */
function syntheticBatch(b: number, size: number, seed: number): { L: tf.Tensor4D; ab: tf.Tensor4D } {
  const r = seededRandom(seed);
  const L = new Float32Array(b * size * size);
  const ab = new Float32Array(b * size * size * 2);
  for (let n = 0; n < b; n++) {
    const blobs = Array.from({ length: 3 }, () => ({ y: r() * size, x: r() * size, rad: size * (0.15 + 0.2 * r()), a: r() * 1.2 - 0.6, bb: r() * 1.2 - 0.6, l: r() - 0.5 }));
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const i = (n * size + y) * size + x;
        L[i] = -0.3 + (0.4 * y) / size;
        for (const bl of blobs) {
          if ((y - bl.y) ** 2 + (x - bl.x) ** 2 < bl.rad ** 2) {
            L[i] = bl.l;
            ab[2 * i] = bl.a;
            ab[2 * i + 1] = bl.bb;
          }
        }
      }
  }
  return { L: tf.tensor4d(L, [b, size, size, 1]), ab: tf.tensor4d(ab, [b, size, size, 2]) };
}

const TEST_OVERRIDES: DiscoConfigOverrides = { imageSize: 32, anchors: 4, transformer: { dropout: 0.1 } };
const tiny = (o: DiscoConfigOverrides = {}) => resolveDiscoConfig({ ...TEST_OVERRIDES, ...o, ablation: { ...o.ablation } }, 'tiny');

describe('DiscoModel (tiny preset, wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('paper preset has the released model\'s 43,063,739 learnable parameters, block by block (BatchNorm statistics not counted)', () => {
    const m = DiscoModel.create(resolveDiscoConfig({}, 'paper'));
    const c = m.countParams();
    m.dispose();
    // The released state dict by block: segnet, repnet, wildpath + mid_word_prj, trg_word_emb + hintpath + trg_word_prj, enhanceNet.
    expect(c).toEqual({ spixnet: 2_269_497, backbone: 32_529_216, modeler: 299_904 + 20_032, generator: 24_192 + 299_904 + 20_032, refinement: 7_600_962, total: 43_063_739 });
  });

  it('shapes through the model: training path [2,32,32,1] → tokens 4×4 → ab [2,32,32,2]', () => {
    const m = DiscoModel.create(tiny());
    const { L, ab } = syntheticBatch(2, 32, 1);
    const out = m.forward(L, ab, { training: true });
    expect(out.association.shape).toEqual([2, 32, 32, 9]);
    expect(out.superpixelColors!.shape).toEqual([2, 4, 4, 2]);
    expect(out.targetClasses!.shape).toEqual([2, 4, 4]);
    expect(out.targetClasses!.dtype).toBe('int32');
    expect(out.modelerLogits.shape).toEqual([2, 4, 4, 313]);
    expect(out.generatorLogits.shape).toEqual([2, 4, 4, 313]);
    expect(out.anchorIndices.shape).toEqual([2, 4]);
    expect(out.anchorMask.shape).toEqual([2, 4, 4, 1]);
    expect(tf.sum(out.anchorMask).dataSync()[0]).toBe(8); // K = 4 per image
    // one-hot anchor colors: exactly one 1 per anchor, at its ground-truth class
    expect(tf.sum(out.anchorColors).dataSync()[0]).toBe(8);
    const cls = tf.argMax(out.anchorColors, 3).dataSync();
    const tgt = out.targetClasses!.dataSync();
    const mask = out.anchorMask.dataSync();
    for (let i = 0; i < mask.length; i++) if (mask[i] === 1) expect(cls[i]).toBe(tgt[i]);
    expect(out.ab.shape).toEqual([2, 32, 32, 2]);
    const abv = out.ab.dataSync();
    expect(Math.max(...Array.from(abv, Math.abs))).toBeLessThan(1);
    tf.dispose([L, ab, ...Object.values(out)]);
    m.dispose();
  });

  it('inference path (no ab): anchors on modeler features, sampled colors, three variants differ', () => {
    const m = DiscoModel.create(tiny());
    const { L, ab } = syntheticBatch(1, 32, 2);
    const outs = [0, 1, 2].map((v) => m.forward(L, null, { colors: { kind: 'sampled', variant: v as 0 | 1 | 2 } }));
    expect(outs[0]!.superpixelColors).toBeNull();
    const classes = outs.map((o) => Array.from(tf.argMax(o.anchorColors, 3).dataSync()).filter((_, i) => o.anchorMask.dataSync()[i] === 1));
    expect(classes[0]).not.toEqual(classes[1]);
    expect(classes[1]).not.toEqual(classes[2]);
    for (const o of outs) tf.dispose(Object.values(o).filter((t) => t) as tf.Tensor[]);
    tf.dispose([L, ab]);
    m.dispose();
  });

  it('encode() once, then forward(…, { encoded }) per variant, gives the same outputs bit for bit as full forwards, [1,32,32,1], and leaks nothing', async () => {
    const m = DiscoModel.create(tiny());
    const { L } = syntheticBatch(1, 32, 5);
    const enc = m.encode(L);
    for (const variant of [0, 1, 2] as const) {
      const full = m.forward(L, null, { colors: { kind: 'sampled', variant } });
      const reused = m.forward(L, null, { colors: { kind: 'sampled', variant }, encoded: enc });
      for (const k of ['ab', 'modelerLogits', 'generatorLogits', 'anchorMask', 'association'] as const) expect(Array.from(reused[k].dataSync())).toEqual(Array.from(full[k].dataSync()));
      tf.dispose([...Object.values(full), ...Object.values(reused)].filter((t): t is tf.Tensor => t !== null));
    }
    await expectNoLeaks(() => {
      const o = m.forward(L, null, { encoded: enc });
      return Object.values(o).filter((t): t is tf.Tensor => t !== null);
    }, 'forward with encoded');
    expect(() => m.forward(L, null, { encoded: enc, training: true })).toThrow(/encoded must come from encode\(\) of this L at inference/);
    tf.dispose([L, ...Object.values(enc)]);
    m.dispose();
  });

  it('user anchors replace located ones: mask and color bin at the given token', () => {
    const m = DiscoModel.create(tiny());
    const { L } = syntheticBatch(1, 32, 3);
    const out = m.forward(L, null, { userAnchors: [[{ row: 1, col: 2, ab: [60, -40] }]] });
    const mask = out.anchorMask.dataSync();
    expect(Array.from(mask).reduce((a, b) => a + b, 0)).toBe(1);
    expect(mask[1 * 4 + 2]).toBe(1);
    const bin = tf.argMax(tf.reshape(out.anchorColors, [16, 313]), 1).dataSync()[6]!;
    const centre = m.quantizer.bins.arraySync()[bin]!;
    expect(Math.hypot(centre[0]! - 60, centre[1]! - -40)).toBeLessThanOrEqual(Math.SQRT2 * 5 + 1e-6);
    tf.dispose([L, ...(Object.values(out).filter((t) => t) as tf.Tensor[])]);
    m.dispose();
  });

  it('rejects bad inputs with one-line errors naming the argument', () => {
    const m = DiscoModel.create(tiny());
    expect(() => m.forward(tf.zeros([1, 30, 32, 1]) as tf.Tensor4D, null)).toThrow(/DiscoModel.forward: height and width \(30×32\) must be multiples of 16/);
    expect(() => m.forward(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, null)).toThrow(/L must be \[batch, height, width, 1\]/);
    expect(() => m.forward(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D, tf.zeros([1, 16, 32, 2]) as tf.Tensor4D)).toThrow(/ab must be \[1, 32, 32, 2\]/);
    expect(() => m.forward(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D, null, { colors: { kind: 'groundTruth' } })).toThrow(/ground-truth anchor colors need ab/);
    m.dispose();
  });

  it('config validation lists valid values and rejects unknown keys', () => {
    expect(() => resolveDiscoConfig({ imageSize: 60 }, 'tiny')).toThrow(/imageSize must be a multiple of 8/);
    expect(() => resolveDiscoConfig({ ablation: { placement: 'grid' as never } })).toThrow('resolveDiscoConfig: ablation.placement must be one of cluster, random (got grid)');
    expect(() => resolveDiscoConfig({ bogus: 1 } as never)).toThrow(/unknown key 'bogus'/);
    expect(() => resolveDiscoConfig({ transformer: { heads: 5 } })).toThrow(/heads 5 must divide/);
    const a = resolveDiscoConfig({ backbone: { outChannels: 64 } }, 'tiny');
    expect(a.backbone.widths).toEqual([16, 32, 64, 96]);
    expect(a.backbone.outChannels).toBe(64);
  });
});

describe('ablations swap whole blocks', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  it('no refinement: output is the decoded generator expectation diffused to pixels', () => {
    const m = DiscoModel.create(tiny({ ablation: { refinement: false } }));
    expect(m.refinement).toBeNull();
    const { L, ab } = syntheticBatch(1, 32, 4);
    const out = m.forward(L, ab);
    // Every pixel's ab is a convex combination of bin centres / 110: inside the gamut box.
    expect(out.ab.shape).toEqual([1, 32, 32, 2]);
    expect(m.countParams().refinement).toBe(0);
    tf.dispose([L, ab, ...(Object.values(out) as tf.Tensor[])]);
    m.dispose();
  });
  it('no anchor branch: the generator sees an all-zero hint mask', () => {
    const m = DiscoModel.create(tiny({ ablation: { anchorBranch: false } }));
    const { L, ab } = syntheticBatch(1, 32, 5);
    const out = m.forward(L, ab);
    expect(tf.sum(out.anchorMask).dataSync()[0]).toBe(0);
    expect(tf.sum(out.anchorColors).dataSync()[0]).toBe(0);
    tf.dispose([L, ab, ...(Object.values(out) as tf.Tensor[])]);
    m.dispose();
  });
  it('hard superpixels: association is one-hot', () => {
    const m = DiscoModel.create(tiny({ ablation: { superpixels: 'hard' } }));
    const { L, ab } = syntheticBatch(1, 32, 6);
    const out = m.forward(L, ab);
    const a = out.association.dataSync();
    for (const v of a) expect(v === 0 || v === 1).toBe(true);
    tf.dispose([L, ab, ...(Object.values(out) as tf.Tensor[])]);
    m.dispose();
  });
  it('random placement: K distinct positions that differ from clustering', () => {
    const m = DiscoModel.create(tiny({ ablation: { placement: 'random' } }));
    const { L, ab } = syntheticBatch(1, 32, 7);
    const out = m.forward(L, ab, { seed: 3 });
    const idx = Array.from(out.anchorIndices.dataSync());
    expect(new Set(idx).size).toBe(4);
    tf.dispose([L, ab, ...(Object.values(out) as tf.Tensor[])]);
    m.dispose();
  });
});

describe('losses', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  it('rebalanced cross-entropy equals the hand-computed weighted mean', () => {
    const logits = tf.tensor2d([[0, Math.log(3)], [1, 1]]); // p = [1/4, 3/4] and [1/2, 1/2]
    const t = tf.tensor1d([1, 0], 'int32');
    const w = tf.tensor1d([2, 0.5]);
    const expected = (0.5 * -Math.log(0.75) + 2 * -Math.log(0.5)) / 2;
    expectClose(rebalancedCrossEntropy(logits, t, w), expected, { rtol: 1e-6 });
    expectClose(rebalancedCrossEntropy(logits, t, null), (-Math.log(0.75) - Math.log(0.5)) / 2, { rtol: 1e-6 });
    expect(() => rebalancedCrossEntropy(logits, tf.tensor1d([1, 0]), w)).toThrow(/targets must be int32/);
  });
  it('laplacian of a quadratic image is constant inside; L1 is zero for identical inputs', () => {
    const v = new Float32Array(25);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) v[y * 5 + x] = y * y + x * x;
    const lap = laplacian(tf.tensor4d(v, [1, 5, 5, 1])).dataSync();
    expect(lap[2 * 5 + 2]).toBeCloseTo(-4, 5); // 4·f − Σ neighbours = −(2 + 2)
    const x = tf.randomNormal([1, 6, 6, 2]) as tf.Tensor4D;
    expect(laplacianL1(x, x).dataSync()[0]).toBe(0);
  });
  it('perceptual loss sends a non-zero gradient into the prediction (the published code detached it)', () => {
    const filt = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const net: FrozenNetwork = { name: 'random-conv', layers: ['f', 'pool'], channels: [4, 4], layerWeights: [1, 0.5], extract: (rgb) => { const f = tf.relu(tf.conv2d(rgb, filt, 1, 'same')) as tf.Tensor4D; return [f, tf.avgPool(f, 2, 2, 'valid')]; }, countParams: () => filt.size, dispose: () => {} };
    const pred = tf.randomUniform([1, 8, 8, 3]) as tf.Tensor4D;
    const gt = tf.randomUniform([1, 8, 8, 3]) as tf.Tensor4D;
    const g = tf.grad((p: tf.Tensor) => perceptualLoss(net, p as tf.Tensor4D, gt))(pred);
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    expect(perceptualLoss(net, gt, gt).dataSync()[0]).toBe(0);
  });
});

describe('stage-2 training', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  it('learning rate decays linearly from lr to 1 % of it', () => {
    const o = { steps: 11, learningRate: 2e-4, finalLearningRateFraction: 0.01 };
    expect(stage2LearningRate(0, o)).toBeCloseTo(2e-4, 12);
    expect(stage2LearningRate(10, o)).toBeCloseTo(2e-6, 12);
    expect(stage2LearningRate(5, o)).toBeCloseTo(2e-4 * (1 - 0.99 * 0.5), 12);
  });

  it('a gradient reaches every trainable variable and none of SPixNet', () => {
    const m = DiscoModel.create(tiny());
    const vars = m.trainableVariables();
    const spix = new Set(m.spixnet.model.weights.map((w) => w.name));
    expect(vars.some((v) => spix.has(v.name))).toBe(false);
    const { L, ab } = syntheticBatch(2, 32, 8);
    const tr = new Stage2Trainer(m, { steps: 10 });
    const { grads } = tf.variableGrads(() => {
      const out = m.forward(L, ab, { training: true });
      const loss = tf.addN([rebalancedCrossEntropy(out.modelerLogits, out.targetClasses!, m.quantizer.weights), rebalancedCrossEntropy(out.generatorLogits, out.targetClasses!, m.quantizer.weights), tf.mean(tf.abs(tf.sub(out.ab, ab)))]) as tf.Scalar;
      return loss;
    }, vars);
    for (const v of vars) {
      const g = grads[v.name];
      expect(g, `gradient of ${v.name}`).toBeDefined();
      expect(tf.max(tf.abs(g!)).dataSync()[0], `gradient of ${v.name} is all zero`).toBeGreaterThan(0);
    }
    const before = m.spixnet.model.weights.map((w) => w.read().dataSync().slice());
    tr.step({ L, ab }, 0);
    m.spixnet.model.weights.forEach((w, i) => expect(Array.from(w.read().dataSync())).toEqual(Array.from(before[i]!)));
    tf.dispose([L, ab, ...Object.values(grads)]);
    tr.dispose();
    m.dispose();
  });

  it('a few steps on a fixed synthetic batch reduce the loss', () => {
    const m = DiscoModel.create(tiny());
    const tr = new Stage2Trainer(m, { steps: 12, learningRate: 2e-3, perceptualWeight: 0 });
    const batch = syntheticBatch(4, 32, 9);
    const losses = Array.from({ length: 12 }, (_, s) => tr.step(batch, s).total);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.slice(-3).reduce((a, b) => a + b) / 3).toBeLessThan(0.8 * losses[0]!);
    tf.dispose([batch.L, batch.ab]);
    tr.dispose();
    m.dispose();
  });

  it('does not leak tensors over repeated steps', async () => {
    const m = DiscoModel.create(tiny());
    const tr = new Stage2Trainer(m, { steps: 10 });
    const batch = syntheticBatch(2, 32, 10);
    let s = 0;
    await expectNoLeaks(() => {
      tr.step(batch, s++);
    }, 'Stage2Trainer.step');
    tf.dispose([batch.L, batch.ab]);
    tr.dispose();
    m.dispose();
  });

  it('weights round-trip: a fresh model with loaded weights gives identical outputs', () => {
    const a = DiscoModel.create(tiny({ seed: 1 }));
    const b = DiscoModel.create(tiny({ seed: 2 }));
    const { L, ab } = syntheticBatch(1, 32, 11);
    const named = a.namedWeights();
    b.setNamedWeights(named);
    const oa = a.forward(L, ab);
    const ob = b.forward(L, ab);
    expectClose(ob.ab, oa.ab, { rtol: 0, atol: 0 });
    expectClose(ob.generatorLogits, oa.generatorLogits, { rtol: 0, atol: 0 });
    expect(() => b.setNamedWeights({ ...named, extra: tf.zeros([1]) })).toThrow(/unknown weight 'extra'/);
    const { ['modelerHead.kernel']: _drop, ...missing } = named;
    expect(() => b.setNamedWeights(missing)).toThrow(/missing weight 'modelerHead.kernel'/);
    tf.dispose([L, ab, ...(Object.values(oa) as tf.Tensor[]), ...(Object.values(ob) as tf.Tensor[])]);
    a.dispose();
    b.dispose();
  });
  it('has one naming scheme (dotted block paths); names written with "/" load unchanged; one table feeds every view', () => {
    const a = DiscoModel.create(tiny({ seed: 1 }));
    const b = DiscoModel.create(tiny({ seed: 2 }));
    const named = a.namedWeights();
    const names = Object.keys(named);
    expect(names.every((n) => !n.includes('/') && /^(spixnet|backbone|modeler|modelerHead|hintEmbedding|generator|generatorHead|refine)\./.test(n)), names.find((n) => n.includes('/'))).toBe(true);
    expect(names).toContain('spixnet.enc0a_conv.kernel');
    // the names of the earlier model files: '/' inside the Keras-built blocks
    const legacy = Object.fromEntries(Object.entries(named).map(([n, t]) => [n.replace(/^(spixnet|backbone|refine)\.(.*)$/, (_m, blk: string, rest: string) => `${blk}/${rest.replaceAll('.', '/')}`), t]));
    expect(Object.keys(legacy)).toContain('spixnet/enc0a_conv/kernel');
    b.setNamedWeights(legacy);
    for (const [n, t] of Object.entries(b.namedWeights())) expectClose(t, named[n]!, { rtol: 0, atol: 0, what: n });
    expect(() => b.setNamedWeights({ ...named, 'spixnet/enc0a_conv/kernel': named['spixnet.enc0a_conv.kernel']! })).toThrow(/given twice/);
    // trainable variables: every learnable weight but SPixNet's; counts from the same table
    const trainable = new Set(a.trainableVariables());
    const learnableNonSpix = Object.entries(named).filter(([n]) => !n.startsWith('spixnet.') && !/moving_(mean|variance)/.test(n));
    expect(trainable.size).toBe(learnableNonSpix.length);
    for (const [, t] of learnableNonSpix) expect(trainable.has(t as tf.Variable)).toBe(true);
    const c = a.countParams();
    expect(c.backbone + c.modeler + c.generator + c.refinement).toBe([...trainable].reduce((n, v) => n + v.size, 0));
    a.dispose();
    b.dispose();
  });
});
