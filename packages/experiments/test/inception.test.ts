import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '@disco/runtime';
import { expectClose, expectNoLeaks, randomTensor } from '@disco/runtime/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagesToBatch, loadInceptionFromFile, loadNsfwInception, readNsfwInceptionArtifacts, type FeatureNetwork } from '../src/node.js';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

describe('imagesToBatch', () => {
  it('keeps an image of the target size and scales to [0,1] [1x2x2x3]', async () => {
    const data = Uint8Array.from([0, 51, 255, 102, 153, 204, 255, 0, 0, 10, 20, 30]);
    const b = imagesToBatch([{ width: 2, height: 2, data }], 2);
    expect(b.shape).toEqual([1, 2, 2, 3]);
    expect(b.dtype).toBe('float32');
    expectClose(await b.data(), Array.from(data, (v) => v / 255), { atol: 1e-7, what: 'identity resize' });
    b.dispose();
  });

  it('resizes bilinearly with half-pixel centres [1x2 → 1x4]', async () => {
    // Source columns at x = 0.5, 1.5; targets at (i + 0.5)/2 - 0.5 → -0.25, 0.25, 0.75, 1.25 (clamped): 0, .25, .75, 1 of the way.
    const data = Uint8Array.from([0, 0, 0, 200, 100, 40]);
    const b = imagesToBatch([{ width: 2, height: 1, data }], 4);
    const v = await b.data();
    // row 0 of a 4x4 output, channel 0
    expectClose([v[0]!, v[3]!, v[6]!, v[9]!], [0, 50 / 255, 150 / 255, 200 / 255], { atol: 1e-6, what: 'bilinear' });
    b.dispose();
  });

  it('rejects bad data', () => {
    expect(() => imagesToBatch([{ width: 2, height: 2, data: new Uint8Array(5) }], 4)).toThrow(/imagesToBatch: image data has 5 bytes/);
    expect(() => imagesToBatch([], 4)).toThrow(/imagesToBatch: images must not be empty/);
  });
});

describe('nsfwjs InceptionV3 [wasm]', () => {
  let net: FeatureNetwork;
  beforeAll(async () => {
    net = await loadNsfwInception();
  }, 60_000);
  afterAll(() => net.dispose());

  it('dequantises uint8 weights from the manifest (min + scale·q) when loading', async () => {
    const art = readNsfwInceptionArtifacts();
    const spec = art.weightSpecs![0]!;
    expect(spec.name).toBe('batch_normalization_1/beta'); // the first entry of the manifest
    expect(spec.quantization?.dtype).toBe('uint8');
    const q = new Uint8Array(art.weightData as ArrayBuffer, 0, 4);
    const { min, scale } = spec.quantization as { min: number; scale: number };
    const model = await tfl.loadLayersModel(tf.io.fromMemory(art));
    const layer = model.getLayer('batch_normalization_1');
    const index = layer.weights.findIndex((v) => v.originalName === spec.name);
    expect(index).toBeGreaterThanOrEqual(0);
    const w = await layer.getWeights()[index]!.data();
    expectClose(w.slice(0, 4), Array.from(q, (v) => min + scale * v), { rtol: 1e-6, atol: 1e-7, what: 'dequantised kernel' });
    model.dispose();
  }, 60_000);

  it('exposes flatten_1 (2048) and the mixed5 average (768), no IS head', () => {
    expect(net.inputSize).toBe(299);
    expect(net.layers).toEqual([
      { key: 'pool', layer: 'flatten_1', dims: 2048 },
      { key: 'mixed5', layer: 'mixed5', dims: 768 },
    ]);
    expect(net.classes).toBe(0);
    expect(net.isUnavailableReason).toMatch(/not 1000 ImageNet classes/);
  });

  it('a batch of two equals two batches of one; pooled ReLU features are ≥ 0 [2x299x299x3]', async () => {
    const x = randomTensor([2, 299, 299, 3], 3, 0, 1) as tf.Tensor4D;
    const both = net.infer(x);
    expect(both.features[0]!.shape).toEqual([2, 2048]);
    expect(both.features[1]!.shape).toEqual([2, 768]);
    expect(both.probs).toBeNull();
    const a = await both.features[0]!.data();
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) {
      const xi = tf.slice(x, [i, 0, 0, 0], [1, 299, 299, 3]);
      const one = net.infer(xi);
      expectClose(await one.features[0]!.data(), a.slice(i * 2048, (i + 1) * 2048), { rtol: 1e-4, atol: 1e-5, what: `pool row ${i}` });
      expectClose(await one.features[1]!.data(), (await both.features[1]!.data()).slice(i * 768, (i + 1) * 768), { rtol: 1e-4, atol: 1e-5, what: `mixed5 row ${i}` });
      tf.dispose([xi, ...one.features]);
    }
    tf.dispose([x, ...both.features]);
  }, 60_000);

  it('infer does not leak tensors', async () => {
    const x = tf.zeros([1, 299, 299, 3]) as tf.Tensor4D;
    await expectNoLeaks(() => net.infer(x).features, 'FeatureNetwork.infer');
    x.dispose();
    expect(() => net.infer(tf.zeros([1, 8, 8]) as unknown as tf.Tensor4D)).toThrow(/FeatureNetwork.infer: images must be \[batch, h, w, 3\]/);
  }, 60_000);
});

describe('loadInceptionFromFile [tiny Keras-style model on disk, wasm]', () => {
  // input [16,16,3] → conv 'mixed5' (6 ch) → conv → 'avg_pool' (GAP, 10) → dense 'predictions' (1000)
  function build(activation: 'softmax' | 'linear'): tfl.LayersModel {
    const input = tfl.input({ shape: [16, 16, 3] });
    const m5 = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'mixed5', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input);
    const c = tfl.layers.conv2d({ filters: 10, kernelSize: 3, strides: 2, activation: 'relu', name: 'conv_top', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(m5);
    const pool = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(c);
    const out = tfl.layers.dense({ units: 1000, activation, name: 'predictions', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }).apply(pool) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: out });
  }

  async function saveToDir(model: tfl.LayersModel, dir: string): Promise<string> {
    fs.mkdirSync(dir, { recursive: true });
    await model.save({
      save: async (a: tf.io.ModelArtifacts) => {
        fs.writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
        fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      },
    });
    return path.join(dir, 'model.json');
  }

  it('a truncated or missing model.json is one line naming the file (issue 27 #16)', async () => {
    const file = await saveToDir(build('softmax'), fs.mkdtempSync(path.join(os.tmpdir(), 'inc-')));
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, 500));
    await expect(loadInceptionFromFile(file)).rejects.toThrow(new RegExp(`^loadInceptionFromFile: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*JSON`));
    fs.rmSync(path.join(path.dirname(file), 'weights.bin'));
    fs.writeFileSync(file, '{}');
    await expect(loadInceptionFromFile(file)).rejects.toThrow(/is not a tfjs model\.json/);
  });

  it.each(['softmax', 'linear'] as const)('reproduces the saved model, with 1000-class probabilities for IS (%s head)', async (activation) => {
    const model = build(activation);
    const file = await saveToDir(model, fs.mkdtempSync(path.join(os.tmpdir(), 'inc-')));
    const net = await loadInceptionFromFile(file);
    expect(net.name).toBe('inception-v3:model');
    expect(net.inputSize).toBe(16);
    expect(net.layers.map((l) => [l.key, l.layer, l.dims])).toEqual([['pool', 'avg_pool', 10], ['mixed5', 'mixed5', 6]]);
    expect(net.classes).toBe(1000);
    expect(net.isUnavailableReason).toBeNull();
    const x = randomTensor([2, 16, 16, 3], 5, 0, 1) as tf.Tensor4D;
    const out = net.infer(x);
    // Reference: the original model on the Keras [-1,1] scaling.
    const scaled = tf.sub(tf.mul(x, 2), 1);
    const poolRef = tfl.model({ inputs: model.inputs, outputs: model.getLayer('avg_pool').output as tfl.SymbolicTensor }).predict(scaled) as tf.Tensor;
    const m5Ref = tf.mean(tfl.model({ inputs: model.inputs, outputs: model.getLayer('mixed5').output as tfl.SymbolicTensor }).predict(scaled) as tf.Tensor, [1, 2]);
    const headRef = model.predict(scaled) as tf.Tensor;
    const probRef = activation === 'softmax' ? headRef : tf.softmax(headRef);
    expectClose(await out.features[0]!.data(), await poolRef.data(), { rtol: 1e-5, atol: 1e-6, what: 'pool' });
    expectClose(await out.features[1]!.data(), await m5Ref.data(), { rtol: 1e-5, atol: 1e-6, what: 'mixed5 average' });
    expectClose(await out.probs!.data(), await probRef.data(), { rtol: 1e-5, atol: 1e-7, what: 'probs' });
    const sums = await tf.sum(out.probs!, 1).data();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    tf.dispose([x, scaled, poolRef, m5Ref, headRef, probRef, ...out.features, out.probs!]);
    net.dispose();
    model.dispose();
  }, 60_000);

  it('rejects a missing pool layer, a bad range and a non-model JSON', async () => {
    const model = build('softmax');
    const file = await saveToDir(model, fs.mkdtempSync(path.join(os.tmpdir(), 'inc-')));
    await expect(loadInceptionFromFile(file, { poolLayer: 'pool3' })).rejects.toThrow(/loadInceptionFromFile: pool layer 'pool3' not in the model/);
    await expect(loadInceptionFromFile(file, { inputRange: '[0,255]' as never })).rejects.toThrow(/inputRange must be one of/);
    const bad = path.join(path.dirname(file), 'bad.json');
    fs.writeFileSync(bad, '{"a":1}');
    await expect(loadInceptionFromFile(bad)).rejects.toThrow(/fileModelHandler: '.*bad.json' is not a tfjs model.json/);
    model.dispose();
  }, 60_000);
});
