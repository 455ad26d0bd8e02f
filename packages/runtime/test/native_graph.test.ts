// Whole networks on onnxruntime-node (native_graph.ts) against tfjs-layers, the reference: every
// supported layer at odd and even sizes and batch 2, batch-norm folding, weight updates, the
// fallback of unsupported networks, thread-count independence, no tensor growth, bounded sessions.
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkEngine, runNetwork, selectBackend } from '../src/index.js';
import { disableNativeNetworks, enableNativeNetworks, layersModelToOnnx, nativeNetworkState, resolveNetworkThreads } from '../src/node.js';

type T = tfl.SymbolicTensor;

/** A network with every supported layer kind; random weights and batch-norm statistics. */
function everyLayer(seed: number): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: seed * 100 + k });
  const x = tfl.input({ shape: [null, null, 2] });
  const c1 = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), biasInitializer: init(2) }).apply(x) as T;
  const b1 = tfl.layers.batchNormalization({ epsilon: 1e-5 }).apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(3) }).apply(c1)) as T; // folded
  const a1 = tfl.layers.leakyReLU({ alpha: 0.1 }).apply(b1) as T;
  const s2 = tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(4) }).apply(a1) as T; // TF 'same' at stride 2
  const p2 = tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: init(5) }).apply(tfl.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]] }).apply(a1)) as T;
  const sum = tfl.layers.reLU().apply(tfl.layers.add().apply([s2, p2])) as T;
  const bn2 = tfl.layers.batchNormalization({ epsilon: 1e-3 }).apply(sum) as T; // after an activation: multiply-add
  const dil = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'tanh', kernelInitializer: init(6) }).apply(bn2) as T;
  const up = tfl.layers.conv2dTranspose({ filters: 8, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init(7) }).apply(dil) as T;
  const upn = tfl.layers.upSampling2d({ size: [2, 2] }).apply(dil) as T;
  const cat = tfl.layers.concatenate().apply([a1, tfl.layers.leakyReLU({ alpha: 0.2 }).apply(up) as T, upn]) as T;
  const bil = tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(cat) as T;
  const d = tfl.layers.dense({ units: 5, activation: 'sigmoid', kernelInitializer: init(8) }).apply(bil) as T;
  const act = tfl.layers.activation({ activation: 'elu' }).apply(tfl.layers.dropout({ rate: 0.5 }).apply(d)) as T;
  const out = tfl.layers.softmax({ axis: -1 }).apply(tfl.layers.conv2d({ filters: 9, kernelSize: 3, padding: 'same', kernelInitializer: init(9) }).apply(act)) as T;
  const model = tfl.model({ inputs: x, outputs: out });
  // Batch-norm statistics far from the identity, so a wrong fold shows.
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const [g, b, m, v] = layer.getWeights();
    layer.setWeights([tf.randomUniform(g!.shape, 0.5, 2, 'float32', seed), tf.randomUniform(b!.shape, -1, 1, 'float32', seed + 1), tf.randomUniform(m!.shape, -1, 1, 'float32', seed + 2), tf.randomUniform(v!.shape, 0.2, 3, 'float32', seed + 3)]);
  }
  return model;
}

/** Strided and even-kernel 'same' convolutions, whose padding depends on the input size (odd sizes put the extra row at the end). */
function strided(seed: number): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: seed * 100 + k });
  const x = tfl.input({ shape: [null, null, 3] });
  let y = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1) }).apply(x) as T;
  y = tfl.layers.conv2d({ filters: 8, kernelSize: 4, padding: 'same', kernelInitializer: init(2) }).apply(y) as T;
  y = tfl.layers.conv2d({ filters: 4, kernelSize: [3, 5], strides: [2, 3], padding: 'same', kernelInitializer: init(3) }).apply(y) as T;
  y = tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: init(4) }).apply(y) as T;
  return tfl.model({ inputs: x, outputs: y });
}

/** max |a − b| over the largest |b|: float32 rounding of sums of mixed signs stays well below 1e-5. */
function maxRelative(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    m = Math.max(m, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return m / scale;
}

const threadsNow = (): number => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);

describe('whole networks on onnxruntime-node', () => {
  let enabled = false;
  const logged: string[] = [];
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    enabled = enableNativeNetworks({ threads: 1, log: (l) => logged.push(l) }, {}).enabled;
  });
  afterAll(() => disableNativeNetworks());

  it('converts every supported layer: one graph, NHWC boundaries, the conv+BN pair folded, the BN after an activation a multiply-add', () => {
    const model = everyLayer(1);
    const { graph, foldedBatchNorms, affineBatchNorms } = layersModelToOnnx(model);
    expect([foldedBatchNorms, affineBatchNorms]).toEqual([1, 1]);
    expect(graph.inputs).toEqual([{ name: 'x', shape: ['N', 'H', 'W', 2] }]);
    expect(graph.nodes.filter((n) => n.op === 'Transpose')).toHaveLength(2);
    expect(graph.nodes.filter((n) => n.op === 'BatchNormalization')).toHaveLength(0);
    expect(graph.nodes.map((n) => n.op)).toEqual(expect.arrayContaining(['Conv', 'ConvTranspose', 'Pad', 'Resize', 'Concat', 'Add', 'Mul', 'LeakyRelu', 'Relu', 'Tanh', 'Sigmoid', 'Elu', 'Softmax']));
    model.dispose();
  });

  it.skipIf(process.platform === 'linux' && process.arch === 'x64' ? false : true)('onnxruntime-node is installed on linux x64', () => {
    expect(enabled).toBe(true);
  });

  it('equals tfjs to float32 rounding (≤ 1e-5 relative) at [1,16,16,2] and [2,12,20,2]', () => {
    if (!enabled) return;
    const model = everyLayer(2);
    for (const shape of [[1, 16, 16, 2], [2, 12, 20, 2]] as const) {
      const x = tf.randomUniform([...shape], -1, 1, 'float32', 7);
      const ref = model.apply(x, { training: false }) as tf.Tensor;
      const nat = networkEngine()!.run(model, x)!;
      expect(nat, `${shape}`).not.toBeNull();
      expect(nat.shape).toEqual(ref.shape);
      expect(maxRelative(nat, ref), `${shape}`).toBeLessThan(1e-5);
      tf.dispose([x, ref, nat]);
    }
    // One session for every size.
    expect(nativeNetworkState().networks.filter((n) => n.name === model.name)).toHaveLength(1);
    model.dispose();
  });

  it("TensorFlow's 'same' padding at strides 2 and 3 and with an even kernel, on odd and even sizes [1,13,10,3], [1,14,17,3], [2,9,9,3]", () => {
    if (!enabled) return;
    const model = strided(6);
    for (const shape of [[1, 13, 10, 3], [1, 14, 17, 3], [2, 9, 9, 3]] as const) {
      const x = tf.randomUniform([...shape], -1, 1, 'float32', 7);
      const ref = model.apply(x, { training: false }) as tf.Tensor;
      const nat = networkEngine()!.run(model, x)!;
      expect(nat.shape, `${shape}`).toEqual(ref.shape);
      expect(maxRelative(nat, ref), `${shape}`).toBeLessThan(1e-5);
      tf.dispose([x, ref, nat]);
    }
    model.dispose();
  });

  it('rebuilds after the weights change (a training step, setWeights)', () => {
    if (!enabled) return;
    const model = everyLayer(3);
    const x = tf.randomUniform([1, 8, 8, 2], -1, 1, 'float32', 8);
    tf.dispose(runNetwork(model, x));
    const conv = model.layers.find((l) => l.getClassName() === 'Conv2D')!;
    conv.setWeights(conv.getWeights().map((w) => tf.mul(w, 1.5)));
    const ref = model.apply(x, { training: false }) as tf.Tensor;
    const nat = runNetwork(model, x);
    expect(maxRelative(nat, ref)).toBeLessThan(1e-5);
    tf.dispose([x, ref, nat]);
    model.dispose();
  });

  it('leaves an unsupported network to tfjs with one log line, and runNetwork still answers', () => {
    if (!enabled) return;
    const x = tfl.input({ shape: [null, null, 1] });
    const y = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(x)) as T;
    const model = tfl.model({ inputs: x, outputs: y, name: 'pooled' });
    const input = tf.ones([1, 8, 8, 1]);
    const before = logged.length;
    expect(networkEngine()!.run(model, input)).toBeNull();
    const out = runNetwork(model, input);
    expect(out.shape).toEqual([1, 4, 4, 2]);
    expect(logged.slice(before)).toEqual([`inference: pooled runs on tfjs (onnxruntime cannot express it: layer ${model.layers[2]!.name}: MaxPooling2D is not supported)`]);
    tf.dispose([input, out]);
    model.dispose();
  });

  it.skipIf(availableParallelism() < 2)('gives the same bytes with 1 and 2 threads', () => {
    if (!enabled) return;
    const model = everyLayer(4);
    const x = tf.randomUniform([1, 48, 40, 2], -1, 1, 'float32', 9);
    const outs = [1, 2].map((threads) => {
      enableNativeNetworks({ threads, log: () => {} }, {});
      const y = runNetwork(model, x);
      const data = y.dataSync().slice();
      y.dispose();
      return data;
    });
    enableNativeNetworks({ threads: 1, log: (l) => logged.push(l) }, {});
    expect(Buffer.from(outs[0]!.buffer).equals(Buffer.from(outs[1]!.buffer))).toBe(true);
    x.dispose();
    model.dispose();
  });

  it('no tensor growth; sessions and threads do not grow with the number of image sizes', () => {
    if (!enabled) return;
    const model = everyLayer(5);
    const run = (s: number): void => {
      const x = tf.ones([1, 2 * s, 2 * s + 4, 2]);
      runNetwork(model, x).dispose();
      x.dispose();
    };
    run(8);
    const tensors = tf.memory().numTensors;
    const threads = process.platform === 'linux' ? threadsNow() : 0;
    for (let s = 9; s < 30; s++) run(s);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(nativeNetworkState().networks.filter((n) => n.name === model.name)).toHaveLength(1);
    if (process.platform === 'linux') expect(threadsNow()).toBe(threads);
    model.dispose();
  });

  it('thread counts and modes are validated with one line', () => {
    const cores = availableParallelism();
    for (const v of ['0', '-1', 'abc', '1.5', String(cores + 1)]) expect(() => resolveNetworkThreads(undefined, { DISCO_INFERENCE_THREADS: v }), v).toThrow(new RegExp(`^DISCO_INFERENCE_THREADS must be an integer from 1 to ${cores} \\(the cores of this machine\\)`));
    expect(resolveNetworkThreads(undefined, {}, true)).toBe(cores);
    expect(resolveNetworkThreads(undefined, {}, false)).toBe(1);
    expect(resolveNetworkThreads(1, { DISCO_INFERENCE_THREADS: '2' })).toBe(1);
    expect(() => enableNativeNetworks({}, { DISCO_INFERENCE: 'gpu' })).toThrow("DISCO_INFERENCE: unknown inference engine 'gpu'; valid: auto, onnxruntime, tfjs");
  });

  it('DISCO_INFERENCE=tfjs turns it off: runNetwork is tfjs itself', () => {
    expect(enableNativeNetworks({}, { DISCO_INFERENCE: 'tfjs' })).toEqual({ enabled: false, detail: 'DISCO_INFERENCE=tfjs' });
    expect(networkEngine()).toBeNull();
    enabled = enableNativeNetworks({ threads: 1, log: (l) => logged.push(l) }, {}).enabled;
  });
});
