import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizedLabToRgb, rgbToNormalizedLab } from '@disco/color';
import { readImage } from '@disco/images';
import { selectBackend } from '@disco/runtime';
import { expectClose, expectNoLeaks } from '@disco/runtime/testing';
import { colorizeL } from '../src/index.js';
import { colorize, DEFAULT_MODEL, embeddedModelDir, loadDiscoModel, loadPretrained, resolveModelArg } from '../src/node.js';
import { makeImage } from './photos.js';

let dir: string;
let photo: string;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-pretrained-'));
  photo = path.join(dir, 'photo.png');
  await makeImage(photo, 1, 80, 72);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadPretrained', () => {
  it("no name is the default, 'tiny-pf' (the embedded model that leads by rebalanced AuC); 'tiny' by name; a folder path loads that folder; an unknown name is a one-line error", async () => {
    expect(DEFAULT_MODEL).toBe('tiny-pf');
    const a = await loadPretrained('tiny');
    const b = await loadPretrained(embeddedModelDir('tiny'));
    const c = await loadPretrained();
    expect(c.extensions.pretrainedFeatures).toEqual({ network: 'nsfw-inception', layer: 'mixed5', inputSize: 192 });
    const d = await loadDiscoModel();
    expect(c.config).toEqual(d.config);
    d.dispose();
    expect(embeddedModelDir()).toBe(embeddedModelDir('tiny-pf'));
    expect(a.extensions.pretrainedFeatures).toBeNull();
    expect(a.config.imageSize).toBe(64);
    const [wa, wb] = [a.namedWeights(), b.namedWeights()];
    expect(Object.keys(wa)).toEqual(Object.keys(wb));
    for (const k of Object.keys(wa)) expect(Array.from(wa[k]!.dataSync()), k).toEqual(Array.from(wb[k]!.dataSync()));
    await expect(loadPretrained('huge')).rejects.toThrow(/^loadPretrained: unknown model 'huge'; valid: tiny, tiny-pf, the path of a model folder, or a published DISCO checkpoint \(\.pth \/ \.pth\.tar\)$/);
    // Bytes are read as a published checkpoint (the full path is tested in official.test.ts).
    await expect(loadPretrained(new TextEncoder().encode('not a checkpoint'))).rejects.toThrow(/^loadPretrained: /);
    await expect(loadPretrained(dir)).rejects.toThrow(/^loadPretrained: no disco-model\.json in /);
    [a, b, c].forEach((m) => m.dispose());
  });

  it("'tiny-pf' (frozen InceptionV3 features) loads by name, rebuilds its frozen network from nsfwjs, and colorizes a photo", async () => {
    const m = await loadPretrained('tiny-pf');
    expect(m.config.extensions.pretrainedFeatures).toEqual({ network: 'nsfw-inception', layer: 'mixed5', inputSize: 192 });
    expect(m.countParams().pretrainedFrozen).toBe(5_127_136);
    const rgb = await colorize(photo, { model: m });
    expect(rgb.shape).toEqual([72, 80, 3]);
    const [lo, hi] = tf.tidy(() => [tf.min(rgb).dataSync()[0]!, tf.max(rgb).dataSync()[0]!]);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    rgb.dispose();
    m.dispose();
    expect(resolveModelArg('tiny-pf')).toBe(embeddedModelDir('tiny-pf'));
    expect(resolveModelArg(undefined)).toBe(embeddedModelDir('tiny-pf')); // the CLI's default: DEFAULT_MODEL, as the demo's
    expect(resolveModelArg('some/dir')).toBe(path.resolve('some/dir'));
    expect(() => embeddedModelDir('huge' as 'tiny')).toThrow(/^embeddedModelDir: unknown model 'huge'; valid: tiny, tiny-pf$/);
  });
});

describe('colorize (one call)', () => {
  it('a file [72,80] → RGB [72,80,3] float32 in [0,1], equal to readImage → Lab → colorizeL → RGB', async () => {
    const out = await colorize(photo);
    expect(out.shape).toEqual([72, 80, 3]);
    expect(out.dtype).toBe('float32');
    const v = out.dataSync();
    expect(v.every((x) => x >= 0 && x <= 1)).toBe(true);
    const model = await loadPretrained(); // the default model, which colorize used
    const rgb = await readImage(photo);
    const { L, ab } = rgbToNormalizedLab(tf.expandDims(rgb, 0) as tf.Tensor4D);
    const [r] = colorizeL(model, L, { variants: [0] });
    const ref = tf.squeeze(normalizedLabToRgb(L, r!.ab), [0]);
    expectClose(out, ref, { rtol: 0, atol: 1e-6, what: 'one call vs the pieces' });
    // The lightness is the input's, up to out-of-gamut colors clamped in RGB.
    const Lout = rgbToNormalizedLab(tf.expandDims(out, 0) as tf.Tensor4D);
    const meanDiff = tf.tidy(() => tf.mean(tf.abs(tf.sub(Lout.L, L))).dataSync()[0]!);
    expect(meanDiff).toBeLessThan(0.02);
    tf.dispose([out, rgb, L, ab, r!.ab, ref, Lout.L, Lout.ab]);
    model.dispose();
  });

  it('takes an RGB or grey tensor [72,80,3|1] without disposing it; variants differ; a given model is used and kept', async () => {
    const rgb = await readImage(photo);
    const grey = tf.tidy(() => tf.expandDims(tf.squeeze(tf.slice(rgb, [0, 0, 0], [72, 80, 1]), [2]), 2)) as tf.Tensor3D;
    const model = await loadPretrained('tiny');
    const a = await colorize(rgb, { model });
    const b = await colorize(rgb, { model, variant: 1 });
    const g = await colorize(grey, { model });
    expect(rgb.isDisposed).toBe(false);
    expect(g.shape).toEqual([72, 80, 3]);
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync()));
    expect(() => model.namedWeights()).not.toThrow();
    await expect(colorize(tf.zeros([2, 2]) as unknown as tf.Tensor3D, { model })).rejects.toThrow(/^colorize: image must be a file name or a \[height, width, 3 \| 1\] tensor; got \[2,2\]$/);
    tf.dispose([rgb, grey, a, b, g]);
    model.dispose();
  });

  it('leaks no tensor after a warm-up call [72,80,3]', async () => {
    const rgb = await readImage(photo);
    await expectNoLeaks(() => colorize(rgb), 'colorize(tensor)');
    await expectNoLeaks(() => colorize(photo), 'colorize(file)');
    rgb.dispose();
  });
});
