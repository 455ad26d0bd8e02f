/**
 * The demo's model side (src/engine.ts) in Node on wasm: it must work with whatever model file it
 * is given — the embedded one and a config with the newer options (soft hints, broadcast,
 * residual refinement, annealed decoding) — and agree with colorizeL / applyUserAnchors on where
 * an anchor lands.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { rgbToNormalizedLab } from '@disco/color';
import { DiscoModel, colorizeL, resolveDiscoConfig, serializeDiscoModel, type DiscoModelJson } from '@disco/colorize';
import { selectBackend } from '@disco/runtime';
import { disableNativeConvolutions, enableNativeConvolutions, readRuleStateDict } from '@disco/runtime/node';
import { PyDict, writePth } from '@disco/pth';
import { DiscoEngine, PALETTE_SIZE, type ImagePixels } from '../src/engine.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const TINY = path.resolve(here, '../../colorize/models/tiny');

/** A 48×64 test image: a horizontal lightness ramp with a darker disc. */
function testImage(width = 64, height = 48): ImagePixels {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = Math.hypot(x - 40, y - 20) < 10 ? 40 : 60 + Math.round((150 * x) / width);
      rgba.set([v, v, v, 255], (y * width + x) * 4);
    }
  return { width, height, rgba };
}

async function exercise(engine: DiscoEngine): Promise<void> {
  const img = testImage();
  const { diverse, grey } = await engine.open(img);
  expect(diverse.map((d) => d.variant)).toEqual([0, 1, 2]);
  expect(grey).toHaveLength(img.width * img.height * 4);
  for (const d of diverse) {
    expect(d.rgba).toHaveLength(img.width * img.height * 4);
    expect(d.anchors.length).toBe(engine.model.config.anchors);
  }
  // The palette: PALETTE_SIZE bins, most probable first, probabilities of one softmax.
  const p = engine.palette(10, 50);
  expect(p).toHaveLength(PALETTE_SIZE);
  for (let k = 1; k < p.length; k++) expect(p[k]!.probability).toBeLessThanOrEqual(p[k - 1]!.probability);
  expect(p.reduce((s, e) => s + e.probability, 0)).toBeLessThanOrEqual(1 + 1e-6);
  // The T = 0 anchors given back as user anchors reproduce the T = 0 result exactly.
  const again = await engine.render(diverse[0]!.anchors);
  expect(Array.from(again)).toEqual(Array.from(diverse[0]!.rgba));
  // No tensor growth per edit.
  const edited = diverse[0]!.anchors.map((a, i) => (i === 0 ? { ...a, ab: [60, 50] as [number, number] } : a));
  await engine.render(edited);
  const n = tf.memory().numTensors;
  await engine.render(edited);
  expect(tf.memory().numTensors).toBe(n);
}

describe('DiscoEngine (the demo model side)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('runs the embedded model from its two files', async () => {
    const json = JSON.parse(fs.readFileSync(path.join(TINY, 'disco-model.json'), 'utf8')) as DiscoModelJson;
    const buf = fs.readFileSync(path.join(TINY, 'weights.bin'));
    const engine = DiscoEngine.fromFiles(json, buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    expect(engine.describeModel()).toMatch(new RegExp(`${json.config.imageSize}² input, cell ${json.config.cellSize}, K = ${json.config.anchors} anchors$`));
    await exercise(engine);
    engine.dispose();
  });

  it('renderFull: the download at the file\'s full resolution [working 64×48 → file 256×192]: the file\'s own lightness, the displayed colors, no tensor left', async () => {
    const json = JSON.parse(fs.readFileSync(path.join(TINY, 'disco-model.json'), 'utf8')) as DiscoModelJson;
    const engine = DiscoEngine.fromFiles(json, new Uint8Array(fs.readFileSync(path.join(TINY, 'weights.bin'))).buffer);
    // The "file": 4× the working image, with fine detail (a 1-px checker) the working copy cannot hold.
    const [W, H] = [256, 192];
    const work = testImage();
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const v = work.rgba[(Math.floor(y / 4) * 64 + Math.floor(x / 4)) * 4]! + ((x + y) % 2 ? 6 : -6);
        data.set([v, v, v], (y * W + x) * 3);
      }
    const { diverse } = await engine.open(work);
    const n = tf.memory().numTensors;
    const out = engine.renderFull({ data, width: W, height: H }, diverse[0]!.anchors);
    expect(tf.memory().numTensors).toBe(n);
    expect(out).toHaveLength(W * H * 3);
    const L = (r: number, g: number, b: number) => tf.tidy(() => rgbToNormalizedLab(tf.tensor4d([r / 255, g / 255, b / 255], [1, 1, 1, 3])).L.dataSync()[0]!);
    // Full-resolution lightness: the checker survives (neighbours differ as in the file).
    const at = (x: number, y: number) => (y * W + x) * 3;
    const [p, q] = [at(100, 100), at(101, 100)];
    const dOut = L(out[p]!, out[p + 1]!, out[p + 2]!) - L(out[q]!, out[q + 1]!, out[q + 2]!);
    const dIn = L(data[p]!, data[p]!, data[p]!) - L(data[q]!, data[q]!, data[q]!);
    expect(Math.abs(dOut - dIn)).toBeLessThan(0.02);
    // Colors: each file pixel's chroma ≈ the displayed result's at the working pixel it falls in.
    let diff = 0;
    for (let y = 2; y < H; y += 4)
      for (let x = 2; x < W; x += 4) {
        const o = at(x, y);
        const d = (Math.floor(y / 4) * 64 + Math.floor(x / 4)) * 4;
        const c = (r: number, g: number, b: number) => [r - g, g - b];
        const [a1, b1] = c(out[o]!, out[o + 1]!, out[o + 2]!);
        const [a2, b2] = c(diverse[0]!.rgba[d]!, diverse[0]!.rgba[d + 1]!, diverse[0]!.rgba[d + 2]!);
        diff += Math.abs(a1! - a2!) + Math.abs(b1! - b2!);
      }
    expect(diff / ((W / 4) * (H / 4))).toBeLessThan(8); // RGB differences r−g, g−b; 4.4 here
  });

  it('runs a model whose config has the newer options (soft hints, broadcast, residual refinement, annealed decoding)', async () => {
    const config = resolveDiscoConfig({ extensions: { hintEncoding: 'soft', hintBroadcast: true, decodeTemperature: 0.38, residualRefinement: true }, refinement: { widths: [16, 32, 64], residualBlocks: 1 } }, 'tiny');
    const model = DiscoModel.create(config);
    const { json, weights } = await serializeDiscoModel(model);
    model.dispose();
    const engine = DiscoEngine.fromFiles(JSON.parse(JSON.stringify(json)) as DiscoModelJson, weights);
    expect(engine.model.config.extensions.hintBroadcast).toBe(true);
    await exercise(engine);
    engine.dispose();
  });

  it('runs the published DISCO from the bytes of a torch.save checkpoint (the rule weights of the official fixture), and names a file that is none', async () => {
    const sd = await readRuleStateDict(path.resolve(here, '../../colorize/test/fixtures/official-disco'));
    const state = new PyDict([], 'collections.OrderedDict');
    for (const [k, t] of sd) state.set(k, { dtype: t.dtype, shape: [...t.shape], data: t.dtype === 'int64' ? new BigInt64Array(1) : t.toFloat32() });
    const bytes = writePth(new PyDict([['epoch', 7], ['state_dict', state], ['best_loss', 0.25]]));
    // The 43 M-parameter model's convolutions on onnxruntime-node when installed (as the CLI runs them; pure wasm is several times slower).
    enableNativeConvolutions();
    const engine = DiscoEngine.fromCheckpoint(bytes, 'disco-beta.pth.tar');
    expect(engine.model.extensions.padding).toBe('symmetric');
    expect(engine.describeModel()).toBe('43.06 M parameters, 256² input, cell 16, K = 8 anchors');
    // Inference of this model is checked against the published code in colorize's official.test.ts;
    // here one small image goes through the engine (the three variants at 256²).
    const { diverse } = await engine.open(testImage(32, 32));
    expect(diverse.map((d) => d.anchors.length)).toEqual([8, 8, 8]);
    engine.dispose();
    disableNativeConvolutions();
    expect(() => DiscoEngine.fromCheckpoint(new TextEncoder().encode('not a checkpoint at all'), 'photo.pth')).toThrow(/^photo\.pth: /);
  }, 300_000);

  it('places an anchor in the superpixel that colorizeL and applyUserAnchors use (scale to the model input, floor by the cell)', async () => {
    const json = JSON.parse(fs.readFileSync(path.join(TINY, 'disco-model.json'), 'utf8')) as DiscoModelJson;
    const buf = fs.readFileSync(path.join(TINY, 'weights.bin'));
    const engine = DiscoEngine.fromFiles(json, buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const img = testImage(64, 48);
    await engine.open(img);
    // colorizeL reports each user anchor at the centre of the superpixel it landed in.
    const L = tf.tidy(() => rgbToNormalizedLab(tf.tensor4d(Float32Array.from(img.rgba.filter((_, i) => i % 4 !== 3), (v) => v / 255), [1, 48, 64, 3])).L);
    for (const [row, col] of [[23, 63], [0, 0], [47, 5], [11.9, 31.5]] as const) {
      const [r] = colorizeL(engine.model, L, { userAnchors: [{ row, col, units: 'pixel', ab: [20, 20] }] });
      r!.ab.dispose();
      expect(r!.anchors).toHaveLength(1);
      expect(engine.tokenOf(r!.anchors[0]!.row, r!.anchors[0]!.col), `anchor at (${row}, ${col})`).toEqual(engine.tokenOf(row, col));
    }
    L.dispose();
    engine.dispose();
  });
});
