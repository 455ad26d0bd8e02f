/**
 * The native convolution engine (onnxruntime-node, `@disco/runtime/node`) against the reference
 * wasm kernels on whole DISCO models: the embedded model's colorization and a training run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { disableNativeConvolutions, enableNativeConvolutions, nativeConvolutionState } from '@disco/runtime/node';
import { expectNoLeaks } from '@disco/runtime/testing';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { loadPretrained } from '../src/node.js';
import { Stage2Trainer } from '../src/train/stage2.js';
import { greyImage } from './photos.js';
import { asDiscoModel } from '../src/model/baseline.js';

function maxAbs(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('native convolutions on whole models (onnxruntime-node vs wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  afterAll(() => disableNativeConvolutions());

  it('onnxruntime-node is installed where the workspace supports it (linux/darwin/win32 x64 or arm64)', () => {
    const supported = ['linux', 'darwin', 'win32'].includes(process.platform) && ['x64', 'arm64'].includes(process.arch);
    const info = enableNativeConvolutions();
    disableNativeConvolutions();
    if (supported) expect(info.detail).toMatch(/^onnxruntime-node \d+\.\d+\.\d+, \d+ threads?$/);
    expect(info.enabled).toBe(supported);
  });

  it('the embedded model colorizes the same: anchors identical, ab within 2e-4 (ab/110 units), and no tensor leaks', async () => {
    const model = asDiscoModel(await loadPretrained('tiny'), 'tiny');
    const L = greyImage(64, 64);
    const run = () => {
      const out = model.forward(L, null, { colors: { kind: 'sampled', variant: 0 } });
      const r = { ab: out.ab.dataSync().slice(), anchors: out.anchorIndices.dataSync().slice() };
      tf.dispose(Object.values(out).filter((t) => t instanceof tf.Tensor) as tf.Tensor[]);
      return r;
    };
    disableNativeConvolutions();
    const ref = run();
    enableNativeConvolutions({ mode: 'onnxruntime' });
    const nat = run();
    expect(nativeConvolutionState().sessions).toBeGreaterThan(5);
    expect(Array.from(nat.anchors)).toEqual(Array.from(ref.anchors));
    expect(maxAbs(nat.ab, ref.ab)).toBeLessThan(2e-4);
    await expectNoLeaks(() => {
      const out = model.forward(L, null, { colors: { kind: 'sampled', variant: 0 } });
      tf.dispose(Object.values(out).filter((t) => t instanceof tf.Tensor) as tf.Tensor[]);
    }, 'forward with native convolutions');
    L.dispose();
    model.dispose();
  });

  // Adam turns a gradient of rounding size into a full step (≈ lr) for a weight whose gradient is
  // ~0, so weights are compared against the largest possible move, 5 steps × lr 2e-4 = 1e-3.
  it('five training steps give the same losses (relative 1e-4) and weights (within a quarter of the largest Adam move; 99 % within 1e-5)', () => {
    const batch = { L: tf.randomUniform([2, 64, 64, 1], -1, 1, 'float32', 1) as tf.Tensor4D, ab: tf.randomUniform([2, 64, 64, 2], -0.4, 0.4, 'float32', 2) as tf.Tensor4D };
    const train = () => {
      const model = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
      const tr = new Stage2Trainer(model, { steps: 10, learningRate: 2e-4, perceptualWeight: 0 });
      const totals: number[] = [];
      for (let i = 0; i < 5; i++) totals.push(tr.step(batch, i).total);
      const w = Object.fromEntries(Object.entries(model.namedWeights()).map(([k, v]) => [k, v.dataSync().slice()]));
      tr.dispose();
      model.dispose();
      return { totals, w };
    };
    disableNativeConvolutions();
    const ref = train();
    enableNativeConvolutions({ mode: 'onnxruntime' });
    const nat = train();
    for (let i = 0; i < 5; i++) expect(Math.abs(nat.totals[i]! - ref.totals[i]!) / ref.totals[i]!, `step ${i}`).toBeLessThan(1e-4);
    let worst = 0;
    let off = 0;
    let count = 0;
    for (const k of Object.keys(ref.w)) {
      worst = Math.max(worst, maxAbs(nat.w[k]!, ref.w[k]!));
      for (let i = 0; i < ref.w[k]!.length; i++) off += Math.abs(nat.w[k]![i]! - ref.w[k]![i]!) > 1e-5 ? 1 : 0;
      count += ref.w[k]!.length;
    }
    expect(worst).toBeLessThan(2.5e-4);
    expect(off / count).toBeLessThan(0.01);
    tf.dispose([batch.L, batch.ab]);
  });
});
