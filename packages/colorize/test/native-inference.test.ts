/**
 * Whole networks on onnxruntime-node at inference (`enableNativeNetworks`, `@disco/runtime/node`)
 * against the tfjs reference path (every kernel on wasm): the embedded `tiny` model and the
 * published model with the official fixture's weights colorize the same (anchors identical, ab
 * within 1e-4 in ab/110 units for `tiny` and for the published model on the parity fixture's own
 * inputs; 2.5e-4 chained on a synthetic ramp-and-step image, to which the fixture's refinement is
 * more sensitive: see the note there), with no tensor growth; training steps never use the engine.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkEngine, selectBackend } from '@disco/runtime';
import { disableNativeConvolutions, disableNativeNetworks, enableNativeNetworks, nativeNetworkState } from '@disco/runtime/node';
import { expectNoLeaks } from '@disco/runtime/testing';
import { parityModel, readParityFixture } from '../src/io/parity.js';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { colorizeL } from '../src/model/infer.js';
import { loadPretrained } from '../src/node.js';
import { Stage2Trainer } from '../src/train/stage2.js';
import { greyImage } from './photos.js';
import { asDiscoModel } from '../src/model/baseline.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'official-disco');

/** Every variant's ab and anchors, on the current engine. */
function colorizeAll(model: DiscoModel, L: tf.Tensor4D): Array<{ ab: Float32Array; anchors: string }> {
  return colorizeL(model, L, { variants: [0, 1, 2] }).map((r) => {
    const out = { ab: r.ab.dataSync().slice() as Float32Array, anchors: JSON.stringify(r.anchors) };
    r.ab.dispose();
    return out;
  });
}

/** Largest |Δab| over variants, with the anchors required to be identical. */
function compare(model: DiscoModel, L: tf.Tensor4D): number {
  disableNativeNetworks();
  const ref = colorizeAll(model, L);
  enableNativeNetworks({ mode: 'onnxruntime', log: (l) => expect.fail(l) }, {});
  const nat = colorizeAll(model, L);
  let m = 0;
  ref.forEach((r, v) => {
    expect(nat[v]!.anchors, `variant ${v}`).toBe(r.anchors);
    for (let i = 0; i < r.ab.length; i++) m = Math.max(m, Math.abs(r.ab[i]! - nat[v]!.ab[i]!));
  });
  return m;
}

const supported = ['linux', 'darwin', 'win32'].includes(process.platform) && ['x64', 'arm64'].includes(process.arch);

describe.skipIf(!supported)('whole networks on onnxruntime-node vs the tfjs reference path', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    disableNativeConvolutions(); // the reference: every kernel on wasm
  });
  afterAll(() => disableNativeNetworks());

  it('the embedded tiny model at 64² and 96×128: anchors identical, ab max |Δ| ≤ 1e-4 for T = 0, 1, 2; no tensor growth', async () => {
    const model = asDiscoModel(await loadPretrained('tiny'), 'tiny');
    for (const [h, w] of [[64, 64], [96, 128]] as const) {
      const L = greyImage(h, w);
      expect(compare(model, L), `${h}×${w}`).toBeLessThanOrEqual(1e-4);
      L.dispose();
    }
    expect(nativeNetworkState().networks.map((n) => n.name).sort()).toEqual(['backbone', 'refine', 'spixnet']);
    const L = greyImage(64, 64);
    await expectNoLeaks(() => {
      for (const r of colorizeL(model, L)) r.ab.dispose();
    }, 'colorizeL on whole native networks');
    L.dispose();
    model.dispose();
  }, 300_000);

  // The fixture's rule weights make the refinement sensitive to rounding: fed the same input, the
  // refinement alone differs by 1.2e-4 between onnxruntime and wasm and by 9.8e-5 between tfjs'
  // own cpu and wasm backends (64², scratch measurement in the README), and the backbone's
  // rounding passes through the 12 transformer layers; chained, this is 2.0e-4, as for the
  // per-convolution engine (2.1e-4). Stage by stage on the same inputs (64², 1 thread): SPixNet
  // 1.3e-6, backbone 7.0e-4 on outputs up to 13.9 (5e-5 relative), refinement 1.2e-4. Neither
  // the batch-norm folding (unfolded: chained 2.0e-4, refinement 1.2e-4) nor onnxruntime's graph
  // rewrites (every optimisation level from 'disabled' to 'all': chained 1.8–2.0e-4) is the cause:
  // the convolutions' float32 sums are ordered and rounded differently (MLAS vs XNNPACK).
  // Bound: 2.5e-4, half the fixture's tolerance against PyTorch.
  it('the published model with the official fixture weights at 64² and 96×80: anchors identical, ab max |Δ| ≤ 2.5e-4 chained for T = 0, 1, 2', async () => {
    const model = await parityModel(FIXTURE);
    for (const [h, w] of [[64, 64], [96, 80]] as const) {
      const L = greyImage(h, w);
      expect(compare(model, L), `${h}×${w}`).toBeLessThanOrEqual(2.5e-4);
      L.dispose();
    }
    model.dispose();
  }, 600_000);

  // The fixture's own inputs (its four recorded `input_L`, 64² to 256²): 2.6–2.9e-5 measured, and
  // both engines are within 1.8e-4 of the PyTorch run on every case (`disco parity`, chained).
  it('the published model on the parity fixture’s own four inputs: anchors identical, ab max |Δ| ≤ 1e-4 for T = 0, 1, 2', async () => {
    const [model, fixture] = [await parityModel(FIXTURE), await readParityFixture(FIXTURE)];
    expect(fixture.cases.map((c) => c.name)).toEqual(['syn64x64', 'syn96x80', 'syn128x192', 'syn256x256']);
    for (const c of fixture.cases) {
      const L = tf.tensor4d(c.arrays.get('input_L')!.data as Float32Array, [1, c.height, c.width, 1]);
      expect(compare(model, L), c.name).toBeLessThanOrEqual(1e-4);
      L.dispose();
    }
    model.dispose();
  }, 600_000);

  it('training keeps tfjs: a tiny training step gives the same loss, bit for bit, with the engine on and off', () => {
    const batch = { L: tf.randomUniform([2, 64, 64, 1], -1, 1, 'float32', 1) as tf.Tensor4D, ab: tf.randomUniform([2, 64, 64, 2], -0.4, 0.4, 'float32', 2) as tf.Tensor4D };
    const step = (): number => {
      const model = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
      const tr = new Stage2Trainer(model, { steps: 10, perceptualWeight: 0 });
      const total = tr.step(batch, 0).total;
      tr.dispose();
      model.dispose();
      return total;
    };
    disableNativeNetworks();
    const ref = step();
    enableNativeNetworks({ mode: 'onnxruntime' }, {});
    expect(networkEngine()).not.toBeNull();
    expect(step()).toBe(ref);
    tf.dispose(Object.values(batch));
  }, 120_000);
});
