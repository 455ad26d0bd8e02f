import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { BACKEND_CHOICES, describeBackend, listTrainingKernels, selectBackend } from '../src/index.js';
import { maxRelativeError, seededRandom } from '../src/testing.js';

describe('selectBackend', () => {
  it('auto picks wasm when no native TensorFlow is installed, and says why tensorflow was skipped', async () => {
    const lines: string[] = [];
    const info = await selectBackend({ log: (l) => lines.push(l) });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped.join('\n')).toMatch(/tfjs-node-gpu/);
    expect(lines).toEqual(['backend: wasm (XNNPACK; DISCO training kernels registered)']);
  });
  it('an explicit cpu choice activates cpu', async () => {
    expect((await selectBackend({ backend: 'cpu' })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
  it('an explicit tensorflow choice that cannot load fails with one line naming the packages', async () => {
    await expect(selectBackend({ backend: 'tensorflow' })).rejects.toThrow(/^backend 'tensorflow' is not available: @tensorflow\/tfjs-node-gpu: /);
  });
  it('rejects unknown names listing the valid ones', async () => {
    await expect(selectBackend({ backend: 'webgpu' as never })).rejects.toThrow(`backend: unknown 'webgpu'; valid: ${BACKEND_CHOICES.join(', ')}`);
  });
  it('describes each backend in one line', () => {
    expect(describeBackend({ name: 'tensorflow', nativePackage: '@tensorflow/tfjs-node-gpu', skipped: [] })).toBe('backend: tensorflow (@tensorflow/tfjs-node-gpu)');
    expect(describeBackend({ name: 'cpu', nativePackage: null, skipped: [] })).toMatch(/^backend: cpu/);
  });
  it('lists the kernels it registers, each with a reason', () => {
    const k = listTrainingKernels();
    expect(k.map((x) => `${x.backendName}:${x.kernelName}`)).toEqual(
      expect.arrayContaining(['wasm:Conv2DBackpropFilter', 'wasm:Conv2DBackpropInput', 'wasm:UnsortedSegmentSum', 'wasm:MaxPoolGrad', 'wasm:ResizeBilinearGrad', 'cpu:ResizeBilinearGrad']),
    );
    for (const x of k) expect(x.why.length).toBeGreaterThan(10);
    for (const x of k) expect(tf.getKernel(x.kernelName, x.backendName)).toBeDefined();
  });

  it('wasm Identity shares its input (no copy): the copy stays readable after the original is disposed, and the memory goes with the last', async () => {
    await selectBackend({ backend: 'wasm' });
    const buffers0 = tf.engine().backend.numDataIds();
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a); // the Identity kernel
    expect(b.dataId).toBe(a.dataId);
    expect(tf.engine().backend.numDataIds() - buffers0).toBe(1);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    expect(tf.engine().backend.numDataIds() - buffers0).toBe(1);
    b.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(buffers0);
  });
});

/** A small conv net touching the model's layer kinds; returns its full gradient. */
function netGradients(backend: string, seed: number): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const r = seededRandom(seed);
    const init = (shape: number[]) => {
      const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < v.length; i++) v[i] = (r() * 2 - 1) * 0.3;
      return v;
    };
    const input = tfl.input({ shape: [16, 16, 1] });
    // No bias before batch norm: its gradient would be zero up to rounding (BN removes the mean).
    let h = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.leakyReLU({ alpha: 0.1 }).apply(h) as tfl.SymbolicTensor;
    const skip = h;
    h = tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.upSampling2d({ size: [2, 2] }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.conv2dTranspose({ filters: 8, kernelSize: 4, strides: 2, padding: 'same' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.concatenate().apply([h, skip]) as tfl.SymbolicTensor;
    h = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: h });
    for (const w of model.trainableWeights) w.write(tf.tensor(init(w.shape as number[]), w.shape as number[]));
    const x = tf.tensor4d(init([4, 16, 16, 1]), [4, 16, 16, 1]);
    const y = tf.tensor4d(init([4, 16, 16, 2]), [4, 16, 16, 2]);
    const { grads } = tf.variableGrads(() => tf.mean(tf.abs(tf.sub(model.apply(x, { training: true }) as tf.Tensor, y))) as tf.Scalar);
    const out = model.trainableWeights.map((w) => grads[w.originalName]!.dataSync() as Float32Array);
    model.dispose();
    return out;
  });
}

describe('a small conv net (conv, strided conv, BN, leaky ReLU, max pool, upsample, transposed conv, concat, tanh)', () => {
  it('has the same full gradient on wasm as on cpu (rel ≤ 1e-4 per variable)', async () => {
    await selectBackend({ backend: 'wasm' });
    const cpu = netGradients('cpu', 5);
    const wasm = netGradients('wasm', 5);
    expect(wasm.length).toBe(cpu.length);
    expect(cpu.length).toBe(9); // 4 kernels + 3 biases + BN (gamma, beta)
    cpu.forEach((g, i) => expect(maxRelativeError(wasm[i]!, g), `variable ${i}`).toBeLessThan(1e-4));
  });
});
