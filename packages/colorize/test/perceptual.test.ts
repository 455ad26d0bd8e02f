import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { expectClose } from '@disco/runtime/testing';
import { readNsfwInceptionArtifacts } from '../src/io/nsfw_inception.js';
import { perceptualLoss } from '../src/model/losses.js';
import { loadPerceptualNetwork } from '../src/model/perceptual.js';

describe('perceptual network `inception`: nsfwjs InceptionV3 stem with folded batch norm (wasm)', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('equals the original Keras layers activation_1/3/5 on a [2,96,96,3] batch (rel 1e-4)', async () => {
    const stem = await loadPerceptualNetwork('inception');
    expect(stem.layerWeights).toEqual([0.25, 0.5, 1]);
    const full = await tfl.loadLayersModel(tf.io.fromMemory(readNsfwInceptionArtifacts()));
    const sub = tfl.model({ inputs: full.inputs, outputs: ['activation_1', 'activation_3', 'activation_5'].map((n) => full.getLayer(n).output as tfl.SymbolicTensor) });
    const x = tf.randomUniform([2, 96, 96, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const ref = sub.apply(x) as tf.Tensor[];
    const ours = stem.extract(x);
    expect(ours.map((t) => t.shape)).toEqual([[2, 47, 47, 32], [2, 45, 45, 64], [2, 20, 20, 192]]);
    ours.forEach((t, i) => expectClose(t, ref[i]!, { rtol: 1e-4, atol: 1e-5, what: `feature ${i}` }));
    tf.dispose([x, ...ref, ...ours]);
    full.dispose();
    stem.dispose();
  });

  it('sends gradients into the prediction and is zero for identical images; an unknown name lists the valid ones', async () => {
    const stem = await loadPerceptualNetwork('inception');
    await expect(loadPerceptualNetwork('vgg')).rejects.toThrow("--perceptual: unknown network 'vgg'; valid: none, inception");
    const pred = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const gt = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const g = tf.grad((p: tf.Tensor) => perceptualLoss(stem, p as tf.Tensor4D, gt))(pred);
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    expect(perceptualLoss(stem, gt, gt).dataSync()[0]).toBe(0);
    expect(() => stem.extract(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D)).toThrow(/at least 32×32/);
    tf.dispose([pred, gt, g]);
    stem.dispose();
  });
});
