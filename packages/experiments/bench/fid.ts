// Benchmark: FID linear algebra (eigensolver, Gram and dense routes up to d = 2048) and feature
// extraction throughput of the nsfwjs InceptionV3 on wasm. Writes bench/results.json.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@disco/runtime';
import { collectRunInfo, writeJsonAtomic } from '@disco/runtime/node';
import { frechetInceptionDistance, kernelInceptionDistance, type FeatureMatrix } from '../src/index.js';
import { symmetricEigen } from '../src/internal/linalg.js';
import { loadNsfwInception } from '../src/node.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rows: { what: string; shape: string; seconds: number; note?: string }[] = [];

function lcg(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
}
function features(n: number, d: number, seed: number): FeatureMatrix {
  const r = lcg(seed);
  const data = new Float32Array(n * d);
  // Correlated, ReLU-like features: a few shared factors plus noise, clamped at 0.
  const k = 32;
  const load = Float32Array.from({ length: k * d }, r);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: k }, r);
    for (let j = 0; j < d; j++) {
      let v = 0.2 * r();
      for (let t = 0; t < k; t++) v += z[t]! * load[t * d + j]!;
      data[i * d + j] = Math.max(0, v);
    }
  }
  return { rows: n, cols: d, data };
}
function time<T>(what: string, shape: string, fn: () => T, note?: string): T {
  const t = performance.now();
  const out = fn();
  const seconds = (performance.now() - t) / 1000;
  rows.push({ what, shape, seconds, ...(note ? { note } : {}) });
  process.stderr.write(`${what} ${shape}: ${seconds.toFixed(2)} s${note ? ` (${note})` : ''}\n`);
  return out;
}

for (const n of [256, 512, 1024, 2048]) {
  const r = lcg(n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r();
  time('symmetricEigen values', `${n}x${n}`, () => symmetricEigen(a, n, false));
  if (n <= 1024) time('symmetricEigen values+vectors', `${n}x${n}`, () => symmetricEigen(a, n, true));
}

const x1 = features(1000, 2048, 1);
const y1 = features(1000, 2048, 2);
const g = time('FID gram route', 'n=1000 vs 1000, d=2048', () => frechetInceptionDistance(x1, y1));
time('KID', '100 subsets of 1000, d=2048', () => kernelInceptionDistance(x1, y1), 'kernel cached');
const x2 = features(2100, 2048, 3);
const y2 = features(2100, 2048, 4);
const dn = time('FID dense route', 'n=2100 vs 2100, d=2048', () => frechetInceptionDistance(x2, y2), 'two covariances + eigen(Σ1) with vectors + eigenvalues of A1 Σ2 A1ᵀ');
time('FID gram route (forced)', 'n=2100 vs 2100, d=2048', () => frechetInceptionDistance(x2, y2, { method: 'gram' }));
process.stderr.write(`fid gram ${g.fid}, dense ${dn.fid}\n`);

await selectBackend({ backend: 'wasm' });
const tl = performance.now();
const inc = await loadNsfwInception();
rows.push({ what: 'load nsfw InceptionV3', shape: 'from installed nsfwjs', seconds: (performance.now() - tl) / 1000 });
const throughput: { batch: number; imagesPerSecond: number }[] = [];
for (const batch of [1, 4, 8]) {
  const x = tf.randomUniform([batch, 299, 299, 3]) as tf.Tensor4D;
  tf.dispose(inc.infer(x).features); // warm-up
  const reps = Math.max(1, Math.ceil(8 / batch));
  const t = performance.now();
  for (let i = 0; i < reps; i++) {
    const o = inc.infer(x);
    await o.features[0]!.data();
    tf.dispose(o.features);
  }
  const ips = (reps * batch * 1000) / (performance.now() - t);
  throughput.push({ batch, imagesPerSecond: ips });
  process.stderr.write(`inception batch ${batch}: ${ips.toFixed(2)} images/s\n`);
  x.dispose();
}
inc.dispose();

const info = collectRunInfo();
console.log('\n| what | shape | seconds |\n| --- | --- | --- |');
for (const r of rows) console.log(`| ${r.what} | ${r.shape} | ${r.seconds.toFixed(2)} |`);
console.log('\n| InceptionV3 (nsfwjs) batch | images/s (wasm) |\n| --- | --- |');
for (const t of throughput) console.log(`| ${t.batch} | ${t.imagesPerSecond.toFixed(2)} |`);
writeJsonAtomic(path.join(here, 'results.json'), { machine: info.machine, date: info.startedAt, gitCommit: info.gitCommit, node: info.node, backend: 'wasm (inference); plain JS float64 (linear algebra)', linearAlgebra: rows, inception: throughput, fid: { gramN1000: g.fid, denseN2100: dn.fid } });
