import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { expectClose, expectNoLeaks, seededRandom } from '@disco/runtime/testing';
import { readNsfwInceptionArtifacts } from '../src/io/nsfw_inception.js';
import { loadDiscoModel, saveDiscoModel, MODEL_FILES } from '../src/io/model_files.js';
import { PAPER_CONFIG, TINY_CONFIG, resolveDiscoConfig, resolveStoredConfig, type DiscoConfig, type DiscoConfigOverrides, type DiscoExtensionsOverrides, extensionsOf } from '../src/model/config.js';
import { BaselineModel, isBaselineModel } from '../src/model/baseline.js';
import { DiscoModel } from '../src/model/disco.js';
import { loadFrozenNetwork } from '../src/model/frozen.js';
import { createPretrainedFeatures, pretrainedInput, resizeToGrid } from '../src/model/pretrained.js';
import { deserializeDiscoModel, serializeDiscoModel } from '../src/model/serialize.js';
import { Stage2Trainer } from '../src/train/stage2.js';

/** A small tiny-preset model: 32² images (4×4 tokens); the frozen network sees 80² (mixed0: 8×8). */
const small = (extensions: DiscoExtensionsOverrides = {}, extra: DiscoConfigOverrides = {}): DiscoConfig =>
  resolveDiscoConfig({ imageSize: 32, transformer: { layers: 1 }, extensions: { pretrainedFeatures: { layer: 'mixed0', inputSize: 80 }, ...extensions }, ...extra }, 'tiny');
const pf = (c: Pick<DiscoConfig, 'extensions'>) => extensionsOf(c).pretrainedFeatures;

function batch(b: number, size: number, seed: number): { L: tf.Tensor4D; ab: tf.Tensor4D } {
  const r = seededRandom(seed);
  const L = Float32Array.from({ length: b * size * size }, (_, i) => Math.sin(i / 7 + r()) * 0.6);
  const ab = Float32Array.from({ length: b * size * size * 2 }, () => r() * 0.8 - 0.4);
  return { L: tf.tensor4d(L, [b, size, size, 1]), ab: tf.tensor4d(ab, [b, size, size, 2]) };
}

describe('pretrained features: config', () => {
  it('both presets leave it off; a partial object takes the defaults', () => {
    expect(pf(PAPER_CONFIG)).toBeNull();
    expect(pf(TINY_CONFIG)).toBeNull();
    expect(pf(resolveDiscoConfig({}, 'paper'))).toBeNull();
    expect(resolveDiscoConfig({ extensions: { pretrainedFeatures: null } }, 'paper').extensions).toEqual({});
    expect(pf(resolveDiscoConfig({ extensions: { pretrainedFeatures: {} } }))).toEqual({ network: 'nsfw-inception', layer: 'mixed2', inputSize: 299 });
    expect(pf(resolveDiscoConfig({ extensions: { pretrainedFeatures: { layer: 'stem' } } }))!.layer).toBe('stem');
    // A (flat) config saved before the field existed resolves to off.
    const old = JSON.parse(fs.readFileSync(new URL('../models/tiny/disco-model.json', import.meta.url), 'utf8')).config as Record<string, unknown>;
    expect('pretrainedFeatures' in old).toBe(false);
    expect(pf(resolveStoredConfig(old))).toBeNull();
  });

  it("a stored config with the removed 'source' field: 'model-input' (what every model computes) is dropped, 'photo' refused by name", () => {
    const flat = JSON.parse(fs.readFileSync(new URL('../models/tiny-pf/disco-model.json', import.meta.url), 'utf8')).config as Record<string, unknown>;
    const stored = (source: string) => ({ ...flat, pretrainedFeatures: { network: 'nsfw-inception', layer: 'mixed5', inputSize: 192, source } });
    expect(pf(resolveStoredConfig(stored('model-input')))).toEqual({ network: 'nsfw-inception', layer: 'mixed5', inputSize: 192 });
    expect(() => resolveStoredConfig(stored('photo'))).toThrow("resolveStoredConfig: pretrainedFeatures.source 'photo' is no longer supported (only the model's own input, 'model-input', was adopted)");
  });

  it('rejects bad values with one-line errors', () => {
    const bad = (p: unknown) => () => resolveDiscoConfig({ extensions: { pretrainedFeatures: p as DiscoExtensionsOverrides['pretrainedFeatures'] } });
    expect(bad({ layer: 'mixed9' })).toThrow(/pretrainedFeatures.layer must be one of stem, mixed0, mixed1, mixed2, mixed3, mixed4, mixed5/);
    expect(bad({ network: 'vgg19' })).toThrow(/pretrainedFeatures.network must be one of nsfw-inception/);
    expect(bad({ inputSize: 64 })).toThrow(/inputSize must be an integer ≥ 75/);
    expect(bad({ size: 3 })).toThrow(/unknown key 'extensions.pretrainedFeatures.size'/);
    expect(bad({ source: 'photo' })).toThrow(/unknown key 'extensions.pretrainedFeatures.source'/);
    expect(bad('mixed2')).toThrow(/must be null or an object/);
    expect(() => createPretrainedFeatures({ network: 'other' as 'nsfw-inception', layer: 'mixed0', inputSize: 80 })).toThrow(/frozen network 'other' is not registered/);
  });
});

/** The named layers' outputs for `x` from the original Keras model (nsfwjs' InceptionV3 loaded by tfjs-layers). */
async function kerasOutputs(layers: string[], x: tf.Tensor4D): Promise<tf.Tensor[]> {
  const full = await tfl.loadLayersModel(tf.io.fromMemory(readNsfwInceptionArtifacts()));
  const sub = tfl.model({ inputs: full.inputs, outputs: layers.map((n) => full.getLayer(n).output as tfl.SymbolicTensor) });
  const out = sub.apply(x) as tf.Tensor[];
  full.dispose();
  return out;
}

// Generous timeout: seconds alone, minutes on a shared 2-core machine.
/** nsfwjs' InceptionV3 cut at a config layer (299: the network's own input size). */
const blocks = (layer: 'stem' | 'mixed2' | 'mixed3' | 'mixed5') => createPretrainedFeatures({ network: 'nsfw-inception', layer, inputSize: 299 });

describe('pretrained features: nsfwjs InceptionV3 blocks (wasm)', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    await loadFrozenNetwork('nsfw-inception');
  });

  it('equal the original Keras layers max_pooling2d_2 (stem) and mixed2 on [2,96,96,3] (rel 1e-4; batch norm folded), with no trainable variables', async () => {
    const vars = Object.keys(tf.engine().registeredVariables).length;
    const stem = blocks('stem');
    const mixed2 = blocks('mixed2');
    expect(Object.keys(tf.engine().registeredVariables).length).toBe(vars); // cut from the loaded network, nothing new
    expect(Object.values(tf.engine().registeredVariables).filter((v) => v.trainable)).toEqual([]);
    expect([stem.channels, mixed2.channels]).toEqual([[192], [288]]);
    const x = tf.randomUniform([2, 96, 96, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const ref = await kerasOutputs(['max_pooling2d_2', 'mixed2'], x);
    const ours = [stem.extract(x)[0]!, mixed2.extract(x)[0]!];
    expect(ours.map((t) => t.shape)).toEqual([[2, 9, 9, 192], [2, 9, 9, 288]]);
    ours.forEach((t, i) => expectClose(t, ref[i]!, { rtol: 1e-4, atol: 1e-4, what: `layer ${i}` }));
    expect(() => stem.extract(tf.zeros([1, 64, 64, 3]) as tf.Tensor4D)).toThrow(/at least 75×75/);
    tf.dispose([x, ...ref, ...ours]);
    stem.dispose();
    mixed2.dispose();
  });

  it('equal the original Keras layers mixed3 (grid reduction) and mixed5 (1×7 / 7×1 block) on [1,96,96,3] (rel 1e-4)', async () => {
    const mixed3 = blocks('mixed3');
    const mixed5 = blocks('mixed5');
    expect([mixed3.channels, mixed5.channels]).toEqual([[768], [768]]);
    expect(mixed5.countParams()).toBeGreaterThan(mixed3.countParams());
    const x = tf.randomUniform([1, 96, 96, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const ref = await kerasOutputs(['mixed3', 'mixed5'], x);
    const ours = [mixed3.extract(x)[0]!, mixed5.extract(x)[0]!];
    expect(ours.map((t) => t.shape)).toEqual([[1, 4, 4, 768], [1, 4, 4, 768]]);
    ours.forEach((t, i) => expectClose(t, ref[i]!, { rtol: 1e-4, atol: 1e-4, what: ['mixed3', 'mixed5'][i] }));
    tf.dispose([x, ...ref, ...ours]);
    mixed3.dispose();
    mixed5.dispose();
  });

  it('the grey input: L replicated to RGB, resized to inputSize on the longer side', () => {
    const L = tf.tensor4d([-1, 0, 1, 0.5], [1, 2, 2, 1]);
    const tall = tf.zeros([1, 40, 20, 1]) as tf.Tensor4D;
    const x = pretrainedInput(L, 100);
    const t = pretrainedInput(tall, 160);
    expect(x.shape).toEqual([1, 100, 100, 3]);
    expect(t.shape).toEqual([1, 160, 80, 3]);
    const v = x.dataSync();
    expect(v[0]).toBeCloseTo(0, 5); // L = 0: black
    expect(v[0]).toBe(v[1]);
    expect(v[1]).toBe(v[2]);
    // L = 50 (normalised 0): sRGB grey ≈ 0.466 at the top-right corner pixel.
    expect(v[3 * 99]).toBeCloseTo(0.4663, 3);
    tf.dispose([L, tall, x, t]);
  });
});

// Generous timeout: seconds alone, minutes on a shared 2-core machine.
describe('pretrained features: in the DISCO model (wasm)', { timeout: 600_000 }, () => {
  const dirs: string[] = [];
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    await loadFrozenNetwork('nsfw-inception');
  });
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('shapes, parameter counts and trainable variables: only the projection is added', () => {
    const on = DiscoModel.create(small());
    const off = DiscoModel.create(small({ pretrainedFeatures: null }));
    expect(on.pretrained!.channels).toEqual([256]);
    const [cOn, cOff] = [on.countParams(), off.countParams()];
    const d = on.config.backbone.outChannels;
    expect(cOn.fusion).toBe((d + 256) * d + d);
    expect(cOn.total).toBe(cOff.total + cOn.fusion!);
    expect(cOn.pretrainedFrozen).toBeGreaterThan(200_000);
    expect(cOff.fusion).toBeUndefined();
    expect(cOff.pretrainedFrozen).toBeUndefined();
    expect(on.trainableVariables().length).toBe(off.trainableVariables().length + 2);
    const { L, ab } = batch(2, 32, 1);
    const out = on.forward(L, ab, { training: true });
    expect(out.modelerLogits.shape).toEqual([2, 4, 4, 313]);
    expect(out.generatorLogits.shape).toEqual([2, 4, 4, 313]);
    expect(out.ab.shape).toEqual([2, 32, 32, 2]);
    tf.dispose([L, ab, out as unknown as tf.TensorContainer]);
    on.dispose();
    off.dispose();
  });

  it('is frozen: gradients reach the projection, the frozen network has none and is unchanged by a step', () => {
    const m = DiscoModel.create(small());
    const vars = m.trainableVariables();
    const { L, ab } = batch(2, 32, 2);
    const probe = tf.randomUniform([1, 80, 80, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [before] = m.pretrained!.extract(probe);
    const { grads } = tf.variableGrads(() => {
      const out = m.forward(L, ab, { training: true });
      const loss = tf.add(tf.mean(out.modelerLogits), tf.mean(tf.abs(tf.sub(out.ab, ab)))) as tf.Scalar;
      tf.dispose(out as unknown as tf.TensorContainer);
      return loss;
    }, vars);
    // The frozen weights are not trainable: no gradient is asked for or returned for them.
    expect(Object.keys(grads).every((n) => vars.some((v) => v.name === n))).toBe(true);
    for (const v of m.pretrainedProjection!.trainableVariables()) expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]).toBeGreaterThan(0);
    const tr = new Stage2Trainer(m, { steps: 2, perceptualWeight: 0, learningRate: 1e-2 });
    const kernel = m.pretrainedProjection!.trainableVariables()[0]!.dataSync().slice();
    tr.step({ L, ab }, 0);
    expect(Array.from(m.pretrainedProjection!.trainableVariables()[0]!.dataSync())).not.toEqual(Array.from(kernel));
    const [after] = m.pretrained!.extract(probe);
    expect(Array.from(after!.dataSync())).toEqual(Array.from(before!.dataSync()));
    tf.dispose([L, ab, probe, before!, after!, ...Object.values(grads)]);
    tr.dispose();
    m.dispose();
  });

  it('off: the same weights and outputs as a model from a config without the field', () => {
    // The flat shape of a file written before the field existed.
    const { extensions, refinement, ablation, ...rest } = small({ pretrainedFeatures: null });
    const legacy = { ...rest, ...extensions, refinement: { ...refinement, residual: false }, ablation: { ...ablation, placement: undefined, anchors: 'clustering' } };
    expect('pretrainedFeatures' in legacy).toBe(false);
    const a = DiscoModel.create(small({ pretrainedFeatures: null }));
    const b = DiscoModel.create(resolveStoredConfig(JSON.parse(JSON.stringify(legacy))));
    const on = DiscoModel.create(small());
    const [wa, wb, wOn] = [a.namedWeights(), b.namedWeights(), on.namedWeights()];
    expect(Object.keys(wOn).filter((n) => !(n in wa))).toEqual(['pretrainedProjection.kernel', 'pretrainedProjection.bias']);
    for (const n of Object.keys(wa)) {
      expect(Array.from(wb[n]!.dataSync())).toEqual(Array.from(wa[n]!.dataSync()));
      expect(Array.from(wOn[n]!.dataSync()), n).toEqual(Array.from(wa[n]!.dataSync()));
    }
    const { L } = batch(1, 32, 3);
    const [oa, ob] = [a.forward(L, null, { seed: 1 }), b.forward(L, null, { seed: 1 })];
    expect(Array.from(oa.ab.dataSync())).toEqual(Array.from(ob.ab.dataSync()));
    expect(Array.from(oa.modelerLogits.dataSync())).toEqual(Array.from(ob.modelerLogits.dataSync()));
    tf.dispose([L, oa as unknown as tf.TensorContainer, ob as unknown as tf.TensorContainer]);
    for (const m of [a, b, on]) m.dispose();
  });

  it('save/load round trip: the config names the network, weights.bin holds only the projection, outputs equal', async () => {
    const m = DiscoModel.create(small({}, { seed: 4 }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-pretrained-'));
    dirs.push(dir);
    await saveDiscoModel(m, dir);
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_FILES.json), 'utf8')) as { config: DiscoConfig };
    expect(json.config.extensions.pretrainedFeatures).toEqual({ network: 'nsfw-inception', layer: 'mixed0', inputSize: 80 });
    const bytes = Object.values(m.namedWeights()).reduce((n, t) => n + 4 * t.size, 0);
    expect(fs.statSync(path.join(dir, MODEL_FILES.weights)).size).toBe(bytes);
    expect(bytes).toBeLessThan(4 * (m.countParams().total + 10_000)); // no frozen InceptionV3 weights inside
    const back = await loadDiscoModel(dir);
    if (isBaselineModel(back)) throw new Error('a DISCO model file loaded as a baseline');
    expect(back.pretrained!.channels).toEqual([256]);
    const { L } = batch(1, 32, 6);
    const [o1, o2] = [m.forward(L, null, { seed: 2 }), back.forward(L, null, { seed: 2 })];
    expectClose(o2.ab, o1.ab, { rtol: 1e-6, atol: 1e-6, what: 'ab after reload' });
    expectClose(o2.modelerLogits, o1.modelerLogits, { rtol: 1e-6, atol: 1e-6, what: 'modeler logits after reload' });
    // The in-memory form too.
    const { json: j, weights } = await serializeDiscoModel(m);
    const again = deserializeDiscoModel(j, weights);
    expect(again.config).toEqual(m.config);
    tf.dispose([L, o1 as unknown as tf.TensorContainer, o2 as unknown as tf.TensorContainer]);
    for (const x of [m, back, again]) x.dispose();
  });

  it('in a baseline: fused per pixel before the head, only the projection is added, it learns, and reloads', async () => {
    for (const arch of ['regression', 'classification'] as const) {
      const on = BaselineModel.create(small({ arch }));
      const off = BaselineModel.create(small({ arch, pretrainedFeatures: null }));
      const d = on.config.backbone.outChannels;
      expect(on.countParams().fusion).toBe((d + 256) * d + d);
      expect(on.countParams().total).toBe(off.countParams().total + (d + 256) * d + d);
      expect(on.trainableVariables().length).toBe(off.trainableVariables().length + 2);
      const { L, ab } = batch(2, 32, 8);
      const out = on.forward(L, { training: true });
      expect(out.ab.shape).toEqual([2, 32, 32, 2]);
      if (arch === 'classification') expect(out.logits!.shape).toEqual([2, 32, 32, 313]);
      // Equal (1e-5) to the direct order, resize the C frozen channels to H×W and then project.
      const direct = tf.tidy(() => {
        const feats = on.backbone.apply(L) as tf.Tensor4D;
        const f = resizeToGrid(on.pretrained!.extract(pretrainedInput(L, 80))[0]!, 32, 32);
        const fused = tf.reshape(on.pretrainedProjection!.apply(tf.concat([feats, f], 3)), [2, 32, 32, d]);
        return on.head.apply(fused) as tf.Tensor4D;
      });
      const inference = on.forward(L);
      expectClose(arch === 'regression' ? inference.ab : inference.logits!, direct, { rtol: 1e-5, atol: 1e-5, what: `${arch}: per-pixel fusion` });
      tf.dispose([direct, inference.ab, inference.logits ?? []]);
      // The features reach the output: zeroing the projection's feature rows changes it.
      const [kernel] = on.pretrainedProjection!.trainableVariables();
      const saved = tf.clone(kernel!) as tf.Tensor2D;
      const cut = tf.concat([tf.slice(saved, [0, 0], [d, d]), tf.zeros([256, d])], 0);
      kernel!.assign(cut);
      cut.dispose();
      const without = on.forward(L);
      kernel!.assign(saved);
      const withF = on.forward(L);
      expect(tf.max(tf.abs(tf.sub(withF.ab, without.ab))).dataSync()[0]).toBeGreaterThan(1e-4);
      const tr = new Stage2Trainer(on, { steps: 2, perceptualWeight: 0, learningRate: 1e-2 });
      tr.step({ L, ab }, 0);
      expect(Array.from(kernel!.dataSync())).not.toEqual(Array.from(saved.dataSync()));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-pretrained-baseline-'));
      dirs.push(dir);
      await saveDiscoModel(on, dir);
      const back = await loadDiscoModel(dir);
      if (!isBaselineModel(back)) throw new Error(`a '${arch}' model file loaded as DISCO`);
      const [o1, o2] = [on.forward(L), back.forward(L)];
      expectClose(o2.ab, o1.ab, { rtol: 1e-6, atol: 1e-6, what: `${arch} ab after reload` });
      tf.dispose([L, ab, saved, out.ab, out.logits ?? [], without.ab, without.logits ?? [], withF.ab, withF.logits ?? [], o1.ab, o1.logits ?? [], o2.ab, o2.logits ?? []]);
      tr.dispose();
      for (const m of [on, off, back]) m.dispose();
    }
  });

  it('leaks no tensors: build and dispose, forward, a training step', async () => {
    const { L, ab } = batch(2, 32, 7);
    await expectNoLeaks(() => DiscoModel.create(small()).dispose(), 'create/dispose');
    const m = DiscoModel.create(small());
    await expectNoLeaks(() => m.forward(L, ab, { training: true }) as unknown as tf.TensorContainer, 'forward');
    const tr = new Stage2Trainer(m, { steps: 4, perceptualWeight: 0 });
    tr.step({ L, ab }, 0);
    await expectNoLeaks(() => void tr.step({ L, ab }, 1), 'training step');
    tf.dispose([L, ab]);
    tr.dispose();
    m.dispose();
  });
});
