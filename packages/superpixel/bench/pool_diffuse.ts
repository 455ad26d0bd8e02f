/**
 * Benchmark: soft-superpixel pool + diffuse, forward and forward+backward, at [8,256,256,66],
 * S=16 on wasm (the paper's setting: 64 backbone features + 2 ab channels).
 * Prints a table and writes bench/results.json. Run: `npx nx run superpixel:bench`.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { collectRunInfo, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import { randomTensor } from '@disco/runtime/testing';
import { diffuse, pool } from '../src/index.js';

const [B, H, W, C, S] = [8, 256, 256, 66, 16];
const REPEATS = 3;

function bytesOf(shapes: number[][]): number {
  return shapes.reduce((s, sh) => s + 4 * sh.reduce((a, b) => a * b, 1), 0);
}

async function measure(name: string, fn: () => tf.Tensor[], inputBytes: number) {
  tf.dispose(fn()); // warm-up
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const out = fn();
    await Promise.all(out.map((t) => t.data()));
    times.push(performance.now() - t0);
    tf.dispose(out);
  }
  const info = await tf.profile(() => fn());
  tf.dispose(info.result as tf.Tensor[]);
  const moved = info.kernels.reduce((s, k) => s + bytesOf(k.inputShapes as number[][]) + bytesOf(k.outputShapes as number[][]), 0);
  times.sort((a, b) => a - b);
  return {
    name,
    medianMs: Math.round(times[Math.floor(REPEATS / 2)]!),
    minMs: Math.round(times[0]!),
    kernels: info.kernels.length,
    bytesMovedMB: Math.round(moved / 1e6),
    bytesMovedVsInput: Number((moved / inputBytes).toFixed(2)),
    peakMB: Math.round(info.peakBytes / 1e6),
  };
}

async function main(): Promise<void> {
  const backend = await setupBackendForCli(process.argv.includes('--cpu') ? 'cpu' : 'wasm');
  const x = randomTensor([B, H, W, C], 1) as tf.Tensor4D;
  const a = tf.tidy(() => tf.softmax(tf.mul(randomTensor([B, H, W, 9], 2), 3))) as tf.Tensor4D;
  const g = randomTensor([B, H, W, C], 3);
  const inputBytes = 4 * (x.size + a.size);
  const forward = () => {
    const { pooled, mass } = pool(x, a, S);
    const out = diffuse(pooled, a, S);
    tf.dispose([pooled, mass]);
    return [out];
  };
  const backward = () =>
    tf.grads((xx: tf.Tensor, aa: tf.Tensor) =>
      tf.sum(tf.mul(diffuse(pool(xx as tf.Tensor4D, aa as tf.Tensor4D, S).pooled, aa as tf.Tensor4D, S), g)) as tf.Scalar,
    )([x, a]);
  const rows = [await measure('pool+diffuse forward', forward, inputBytes), await measure('pool+diffuse forward+backward', backward, inputBytes)];
  console.log(`\npool+diffuse at [${B},${H},${W},${C}] S=${S} on ${backend.name}; input (features+association) = ${(inputBytes / 1e6).toFixed(0)} MB`);
  console.log('| pass | median ms | min ms | kernels | bytes moved MB | × one input read | peak MB |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r.medianMs} | ${r.minMs} | ${r.kernels} | ${r.bytesMovedMB} | ${r.bytesMovedVsInput} | ${r.peakMB} |`);
  const run = collectRunInfo();
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
  writeJsonAtomic(file, {
    benchmark: 'pool_diffuse',
    date: run.startedAt,
    gitCommit: run.gitCommit,
    machine: run.machine,
    node: run.node,
    backend: backend.name,
    shape: { batch: B, height: H, width: W, channels: C, cellSize: S },
    inputMB: Math.round(inputBytes / 1e6),
    repeats: REPEATS,
    bytesMovedNote: 'sum over executed kernels of input + output tensor bytes (tf.profile), divided by the bytes of features + association',
    results: rows,
  });
  console.log(`wrote ${file}`);
  tf.dispose([x, a, g]);
}

await main();
