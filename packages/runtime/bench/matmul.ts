/**
 * Micro-benchmark: wasm's own BatchMatMul vs DISCO's (XNNPACK for batched / transposed operands)
 * on the products of attention and superpixel pooling / diffusion, with the max relative error
 * between the two.
 *
 *   node --conditions=@disco/source --import tsx bench/matmul.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/index.js';
import { wasmOwnBatchMatMul } from '../src/internal/batch_matmul.js';
import { randomTensor } from '../src/testing.js';

await selectBackend({ backend: 'wasm' });
const ours = tf.getKernel('BatchMatMul', 'wasm')!;
const wasmOwn = { ...ours, kernelFunc: wasmOwnBatchMatMul()! };
const cases: Array<[string, number[], number[], boolean, boolean]> = [
  ['pool tiny a·b', [512, 64, 9], [512, 9, 32], false, false],
  ['linear bwd dx = dy·Wᵀ', [512, 313], [32, 313], false, true],
  ['linear bwd dW = xᵀ·dy', [512, 32], [512, 313], true, false],
  ['batched x · shared W', [8, 64, 32], [32, 313], false, false],
  ['pool tiny aᵀ·b (grad)', [512, 64, 9], [512, 64, 32], true, false],
  ['pool paper a·b', [256, 256, 9], [256, 9, 64], false, false],
  ['diffuse paper', [256, 256, 9], [256, 9, 64], false, false],
  ['attn tiny q·kᵀ', [8, 4, 64, 8], [8, 4, 64, 8], false, true],
  ['attn tiny w·v', [8, 4, 64, 64], [8, 4, 64, 8], false, false],
  ['attn tiny dw = dy·vᵀ', [8, 4, 64, 8], [8, 4, 64, 8], false, true],
  ['attn tiny dv = wᵀ·dy', [8, 4, 64, 64], [8, 4, 64, 8], true, false],
  ['attn paper q·kᵀ', [1, 8, 256, 8], [1, 8, 256, 8], false, true],
  ['attn paper w·v', [1, 8, 256, 256], [1, 8, 256, 8], false, false],
  ['kmeans x·cᵀ', [8, 256, 64], [8, 8, 64], false, true],
];
const time = (f: () => void, reps: number) => {
  f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
};
for (const [name, sa, sb, ta, tb] of cases) {
  const a = randomTensor(sa, 1);
  const b = randomTensor(sb, 2);
  const fast = () => tf.tidy(() => tf.matMul(a, b, ta, tb).dataSync());
  const tFast = time(fast, 5);
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(wasmOwn);
  const tSlow = time(fast, 5);
  const ref = tf.tidy(() => tf.matMul(a, b, ta, tb).dataSync());
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(ours);
  const got = tf.tidy(() => tf.matMul(a, b, ta, tb).dataSync());
  let err = 0;
  let mx = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - ref[i]!));
    mx = Math.max(mx, Math.abs(ref[i]!));
  }
  console.log(`${name.padEnd(24)} ${tSlow.toFixed(2).padStart(8)} ms → ${tFast.toFixed(2).padStart(7)} ms  (${(tSlow / tFast).toFixed(1)}×)  max rel err ${(err / mx).toExponential(1)}`);
  tf.dispose([a, b]);
}
