/**
 * Benchmark: conv2d forward and forward+backward at [8,64,64,64], 3×3, 64→64, stride 1, 'same',
 * on wasm, on wasm with the convolutions on onnxruntime-node (1 and 2 threads; when installed)
 * and on cpu, plus one Adam training step of a small conv net at batch 8, 64×64.
 *
 *   nx run runtime:bench    (writes bench/results.json)
 *
 * cpu runs at batch 1 (its conv backward takes ~36 s per image here); GFLOP/s are per FLOP, so the
 * wasm/cpu ratio is comparable.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../src/index.js';
import { collectRunInfo, disableNativeConvolutions, enableNativeConvolutions, writeJsonAtomic } from '../src/node.js';
import { randomTensor } from '../src/testing.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function time(fn: () => void, reps: number): number {
  fn(); // warm-up (operator creation, allocation)
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps / 1000;
}

interface ConvResult { backend: string; batch: number; forwardS: number; forwardGflops: number; fwdBwdS: number; fwdBwdGflops: number }

function benchConv(backend: string, batch: number, reps: number): ConvResult {
  tf.setBackend(backend);
  const x = randomTensor([batch, 64, 64, 64], 1) as tf.Tensor4D;
  const w = randomTensor([3, 3, 64, 64], 2, -0.1, 0.1) as tf.Tensor4D;
  const flops = 2 * batch * 64 * 64 * 64 * 9 * 64;
  const fwd = time(() => tf.tidy(() => { tf.conv2d(x, w, 1, 'same').dataSync(); }), reps);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')));
  const fb = time(() => tf.tidy(() => { const [gx, gw] = g([x, w]); gx!.dataSync(); gw!.dataSync(); }), reps);
  tf.dispose([x, w]);
  return { backend, batch, forwardS: fwd, forwardGflops: flops / fwd / 1e9, fwdBwdS: fb, fwdBwdGflops: (3 * flops) / fb / 1e9 };
}

function smallNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [64, 64, 1] });
  let h = tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.leakyReLU({ alpha: 0.1 }).apply(h) as tfl.SymbolicTensor;
  const skip = h;
  h = tfl.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.conv2dTranspose({ filters: 32, kernelSize: 4, strides: 2, padding: 'same' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.concatenate().apply([h, skip]) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: h });
}

function benchStep(backend: string, batch: number, reps: number): { backend: string; batch: number; stepS: number; params: number } {
  tf.setBackend(backend);
  const model = smallNet();
  const opt = tf.train.adam(2e-4);
  const x = randomTensor([batch, 64, 64, 1], 3);
  const y = randomTensor([batch, 64, 64, 2], 4);
  const step = () => {
    const loss = opt.minimize(() => tf.mean(tf.abs(tf.sub(model.apply(x, { training: true }) as tf.Tensor, y))) as tf.Scalar, true);
    loss!.dataSync();
    loss!.dispose();
  };
  const s = time(step, reps);
  const params = model.countParams();
  model.dispose();
  opt.dispose();
  tf.dispose([x, y]);
  return { backend, batch, stepS: s, params };
}

/** Runs `f` with the convolutions on onnxruntime (`threads`), labelling the result; null when it is not installed. */
function onOrt<R extends { backend: string }>(threads: number, f: () => R): R | null {
  const info = enableNativeConvolutions({ threads });
  if (!info.enabled) {
    console.error(`onnxruntime rows skipped: ${info.detail}`);
    return null;
  }
  try {
    return { ...f(), backend: `wasm + ${info.detail}` };
  } finally {
    disableNativeConvolutions();
  }
}

async function main(): Promise<void> {
  await selectBackend({ backend: 'wasm', log: (l) => console.error(l) });
  const ort1 = onOrt(1, () => benchConv('wasm', 8, 3));
  const ort2 = onOrt(2, () => benchConv('wasm', 8, 3));
  const conv = [benchConv('wasm', 8, 3), ...(ort1 ? [ort1] : []), ...(ort2 ? [ort2] : []), benchConv('cpu', 1, 1)];
  const steps = [benchStep('wasm', 8, 3), ...[onOrt(1, () => benchStep('wasm', 8, 3)), onOrt(2, () => benchStep('wasm', 8, 3))].filter((r) => r != null), benchStep('cpu', 1, 1)];
  const w = conv[0]!;
  const c = conv[conv.length - 1]!;
  const result = {
    benchmark: 'conv2d [N,64,64,64] 3x3 64->64 same; small conv net Adam step [N,64,64,1]',
    date: new Date().toISOString(),
    run: collectRunInfo(),
    tfjs: tf.version_core,
    conv,
    trainStep: steps,
    speedupWasmOverCpu: { forward: w.forwardGflops / c.forwardGflops, fwdBwd: w.fwdBwdGflops / c.fwdBwdGflops },
    speedupOnnxruntimeOverWasm: ort1 || ort2 ? Object.fromEntries([ort1, ort2].filter((r) => r != null).map((r) => [r.backend, { forward: r.forwardGflops / w.forwardGflops, fwdBwd: r.fwdBwdGflops / w.fwdBwdGflops }])) : null,
    notes: 'GFLOP/s of fwd+bwd count 3x the forward FLOPs (dx and dW each cost one forward). wasm runs single-threaded in Node; onnxruntime rows run only the four convolution kernels and BatchMatMul natively.',
  };
  console.log('\n| backend | batch | conv fwd s | fwd GFLOP/s | fwd+bwd s | fwd+bwd GFLOP/s |');
  console.log('|---|---|---|---|---|---|');
  for (const r of conv) console.log(`| ${r.backend} | ${r.batch} | ${r.forwardS.toFixed(3)} | ${r.forwardGflops.toFixed(2)} | ${r.fwdBwdS.toFixed(3)} | ${r.fwdBwdGflops.toFixed(2)} |`);
  console.log(`\nwasm/cpu speed-up: forward ${result.speedupWasmOverCpu.forward.toFixed(1)}x, forward+backward ${result.speedupWasmOverCpu.fwdBwd.toFixed(1)}x`);
  console.log('\n| backend | batch | small-net Adam step s | params |\n|---|---|---|---|');
  for (const s of steps) console.log(`| ${s.backend} | ${s.batch} | ${s.stepS.toFixed(3)} | ${s.params} |`);
  writeJsonAtomic(path.join(here, 'results.json'), result);
}

await main();
