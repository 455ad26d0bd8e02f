import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { colorizeL, COLORIZE_NO_EXTENSIONS, edgePad } from '../src/model/infer.js';
import { guidedFilter, guidedUpsample } from '../src/model/guided.js';
import { resizeArea } from '@disco/color';
import { expectClose, expectNoLeaks } from '@disco/runtime/testing';

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
    const [res] = colorizeL(model, L, { oracle: ab, chromaUpsampling: 'bilinear' }); // the network's own output
    const direct = model.forward(L, ab, { colors: { kind: 'groundTruth' }, locateOn: 'colors' });
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(res!.ab, direct.ab))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-6);
    const user = res!.anchors.map((a) => ({ row: a.row, col: a.col, units: 'pixel' as const, ab: a.ab }));
    const [viaUser] = colorizeL(model, L, { userAnchors: user, chromaUpsampling: 'bilinear' });
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

  it("chromaUpsampling: 'bilinear' is the network's ab resized bilinearly; 'guided' (the default) is guidedUpsample(model input, that ab, L) with r = ⌊(S − 1)/2⌋, ε = 0.001 (resize, [1,40,52,1] → model 32²) and guidedFilter then crop (pad); bad values are one-line errors", async () => {
    const model = DiscoModel.create(resolveDiscoConfig({ imageSize: 32, anchors: 4 }, 'tiny'));
    const S = model.config.cellSize;
    const L = tf.randomUniform([1, 40, 52, 1], -1, 1, 'float32', 6) as tf.Tensor4D;
    const small = resizeArea(L, 32, 32);
    const [raw] = colorizeL(model, small, { chromaUpsampling: 'bilinear' }); // [1,32,32,2]: at the model size nothing is resized
    const [bil] = colorizeL(model, L, { chromaUpsampling: 'bilinear' });
    expectClose(bil!.ab, tf.image.resizeBilinear(raw!.ab, [40, 52], false, true), { rtol: 0, atol: 1e-6, what: 'bilinear' });
    const [dflt] = colorizeL(model, L);
    const want = guidedUpsample(small, raw!.ab, L, { radius: Math.floor((S - 1) / 2), eps: 0.001 });
    expect(dflt!.ab.shape).toEqual([1, 40, 52, 2]);
    expectClose(dflt!.ab, want, { rtol: 0, atol: 1e-5, what: 'guided (default)' });
    // pad: filtered at the padded full size, then cropped.
    const [padRaw] = colorizeL(model, L, { mode: 'pad', chromaUpsampling: 'bilinear' });
    const [padGuided] = colorizeL(model, L, { mode: 'pad', guidedRadius: 2, guidedEps: 0.05 });
    expect(padGuided!.ab.shape).toEqual([1, 40, 52, 2]);
    const unit = model.sizeMultiple();
    const padded = edgePad(L, Math.ceil(40 / unit) * unit - 40, Math.ceil(52 / unit) * unit - 52); // what pad mode feeds the model
    const [padFull] = colorizeL(model, padded, { mode: 'pad', chromaUpsampling: 'bilinear' });
    expectClose(tf.slice(padFull!.ab, [0, 0, 0, 0], [1, 40, 52, 2]), padRaw!.ab, { rtol: 0, atol: 1e-6, what: 'pad crop' });
    expectClose(padGuided!.ab, tf.slice(guidedFilter(padded, padFull!.ab, { radius: 2, eps: 0.05 }), [0, 0, 0, 0], [1, 40, 52, 2]), { rtol: 0, atol: 1e-5, what: 'pad guided' });
    await expectNoLeaks(() => colorizeL(model, L).map((r) => r.ab), 'colorizeL guided');
    expect(() => colorizeL(model, L, { chromaUpsampling: 'bicubic' as never })).toThrow(/^colorizeL: chromaUpsampling must be guided or bilinear, got bicubic$/);
    expect(() => colorizeL(model, L, { guidedRadius: -1 })).toThrow(/^colorizeL: guidedRadius must be an integer ≥ 0, got -1$/);
    expect(() => colorizeL(model, L, { guidedEps: 0 })).toThrow(/^colorizeL: guidedEps must be a number > 0, got 0$/);
    model.dispose();
  });
});
