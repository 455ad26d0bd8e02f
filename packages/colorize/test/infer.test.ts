import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { expectClose } from '@disco/runtime/testing';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { colorizeL, COLORIZE_NO_EXTENSIONS, edgePad } from '../src/model/infer.js';

describe('inference geometry (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('edgePad always returns a new tensor (the caller disposes both), padding by repetition', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const same = edgePad(x, 0, 0);
    expect(same).not.toBe(x);
    same.dispose();
    expect(x.isDisposed).toBe(false);
    const p = edgePad(x, 1, 1);
    expect(Array.from(p.dataSync())).toEqual([1, 2, 2, 3, 4, 4, 3, 4, 4]);
    tf.dispose([x, p]);
  });

  it('oracle anchors: colorizeL with the true ab equals the training-path forward at model size, and user anchors at those pixels give the same result', () => {
    const model = DiscoModel.create(resolveDiscoConfig({ imageSize: 32, anchors: 4, extensions: { hintEncoding: 'soft', hintBroadcast: true, residualRefinement: true } }, 'tiny'));
    const L = tf.randomUniform([1, 32, 32, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
    const ab = tf.randomUniform([1, 32, 32, 2], -0.5, 0.5, 'float32', 4) as tf.Tensor4D;
    const [res] = colorizeL(model, L, { oracle: ab });
    const direct = model.forward(L, ab, { colors: { kind: 'groundTruth' }, locateOn: 'colors' });
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(res!.ab, direct.ab))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-6);
    const user = res!.anchors.map((a) => ({ row: a.row, col: a.col, units: 'pixel' as const, ab: a.ab }));
    const [viaUser] = colorizeL(model, L, { userAnchors: user });
    const d2 = tf.tidy(() => tf.max(tf.abs(tf.sub(viaUser!.ab, direct.ab))).dataSync()[0]!);
    expect(d2).toBeLessThan(1e-6);
    expect(() => colorizeL(model, L, { oracle: tf.zeros([1, 16, 16, 2]) as tf.Tensor4D })).toThrow(/oracle ab must be \[1, 32, 32, 2\]/);
    tf.dispose([L, ab, res!.ab, viaUser!.ab, ...Object.values(direct).filter((t): t is tf.Tensor => t instanceof tf.Tensor)]);
    model.dispose();
  });

  it("expected anchor colors: a temperature near 0 picks the most probable bin (the 'mode' result); T = 1 differs; a bad temperature is a one-line error", () => {
    const model = DiscoModel.create(resolveDiscoConfig({ imageSize: 32, anchors: 4, extensions: { hintEncoding: 'soft', hintBroadcast: true, residualRefinement: true } }, 'tiny'));
    const L = tf.randomUniform([1, 32, 32, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
    const [mode] = colorizeL(model, L);
    const [cold] = colorizeL(model, L, { extensions: { anchorColors: 'expected', anchorTemperature: 1e-3 } });
    const [warm] = colorizeL(model, L, { extensions: { anchorColors: 'expected', anchorTemperature: 1 } });
    expect(cold!.anchors.map((a) => a.ab)).toEqual(mode!.anchors.map((a) => a.ab));
    expect(warm!.anchors.map((a) => a.ab)).not.toEqual(mode!.anchors.map((a) => a.ab));
    expect(() => colorizeL(model, L, { extensions: { anchorColors: 'expected', anchorTemperature: 0 } })).toThrow(/colorizeL: extensions.anchorTemperature must be a number > 0, got 0/);
    expect(() => colorizeL(model, L, { extensions: { anchorColors: 'mean' as never } })).toThrow(/colorizeL: extensions.anchorColors must be mode or expected, got mean/);
    // The paper's inference is the default: no extension given equals every extension at its paper value.
    const [paper] = colorizeL(model, L, { extensions: { ...COLORIZE_NO_EXTENSIONS } });
    expect(paper!.anchors).toEqual(mode!.anchors);
    expectClose(paper!.ab, mode!.ab, { rtol: 0, atol: 0, what: 'ab with the paper values given' });
    paper!.ab.dispose();
    tf.dispose([L, mode!.ab, cold!.ab, warm!.ab]);
    model.dispose();
  });
});
