/**
 * Benchmark: batched k-means at the paper's sizes (B=8, T=256 tokens = 16×16 grid, C=64, K=8, at
 * most 20 iterations, tol 0 so every image runs until its assignments are stable or 20 iterations),
 * plus the full locator (k-means + selection) and anchor-color sampling, on wasm (and cpu).
 *
 *   nx run anchors:bench        (writes bench/results.json)
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@disco/runtime';
import { collectRunInfo, writeJsonAtomic } from '@disco/runtime/node';
import { randomTensor } from '@disco/runtime/testing';
import { kmeans, locateAnchors, sampleAnchorColors } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const [B, H, W, C, K] = [8, 16, 16, 64, 8];
const T = H * W;

function timeMs(fn: () => void, reps: number): number {
  fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

interface Row { backend: string; kmeansMs: number; meanIterations: number; maxIterations: number; msPerIteration: number; locateMs: number; sampleMs: number }

function run(backend: string, reps: number): Row {
  tf.setBackend(backend);
  const x = randomTensor([B, T, C], 1) as tf.Tensor3D;
  const feats = tf.reshape(x, [B, H, W, C]) as tf.Tensor4D;
  const sizes = randomTensor([B, H, W, 1], 2, 0.5, 1.5) as tf.Tensor4D;
  const logits = randomTensor([B, T, 313], 3, -3, 3) as tf.Tensor3D;
  const bins = randomTensor([313, 2], 4, -100, 100) as tf.Tensor2D;
  let iters: number[] = [];
  const kmeansMs = timeMs(() => {
    const r = kmeans(x, { k: K, maxIter: 20, tol: 0, seed: 1 });
    iters = r.iterations;
    tf.dispose([r.assignments, r.centroids]);
  }, reps);
  const locateMs = timeMs(() => {
    const r = locateAnchors(feats, sizes, { k: K, maxIter: 20, tol: 0, seed: 1 });
    tf.dispose([r.indices, r.mask, r.assignments!]);
  }, reps);
  const idx = tf.tensor2d(Array.from({ length: B }, () => Array.from({ length: K }, (_, k) => k * 31)), [B, K], 'int32');
  const sampleMs = timeMs(() => sampleAnchorColors(logits, bins, idx, { variant: 2 }).dispose(), reps);
  tf.dispose([x, feats, sizes, logits, bins, idx]);
  const maxIterations = Math.max(...iters);
  return { backend, kmeansMs, meanIterations: iters.reduce((a, b) => a + b, 0) / B, maxIterations, msPerIteration: kmeansMs / maxIterations, locateMs, sampleMs };
}

async function main(): Promise<void> {
  await selectBackend({ backend: 'wasm', log: (l) => console.error(l) });
  const rows = [run('wasm', 10), run('cpu', 3)];
  console.log(`\nk-means B=${B} T=${T} C=${C} K=${K}, maxIter 20, tol 0 (batch runs until its slowest image stops)`);
  console.log('| backend | k-means ms | iterations (mean / max) | ms per iteration | locateAnchors ms | sampleAnchorColors T=2 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.backend} | ${r.kmeansMs.toFixed(1)} | ${r.meanIterations.toFixed(1)} / ${r.maxIterations} | ${r.msPerIteration.toFixed(2)} | ${r.locateMs.toFixed(1)} | ${r.sampleMs.toFixed(1)} |`);
  writeJsonAtomic(path.join(here, 'results.json'), {
    benchmark: `kmeans [${B},${T},${C}] K=${K} maxIter 20 tol 0; locateAnchors [${B},${H},${W},${C}]; sampleAnchorColors [${B},${T},313] variant 2`,
    date: new Date().toISOString(),
    run: collectRunInfo(),
    tfjs: tf.version_core,
    results: rows,
    notes: 'Times include the read-backs k-means needs (cluster counts and shifts each iteration). Training-step comparison pending the full model (colorize).',
  });
}

await main();
