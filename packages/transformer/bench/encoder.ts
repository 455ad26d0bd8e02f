/**
 * Benchmark: forward and forward+backward of the paper's 6-layer encoder (d = 64, 8 heads,
 * FFN 256, dropout 0.1, dense sine position) at tokens `[8, 256, 64]` (a 16×16 grid) on wasm,
 * plus the kernels that dominate one training step, and the Linear backward before/after
 * DISCO's transposed-product gradient. Prints a table and writes bench/results.json.
 *
 * Run: npx nx run transformer:bench   (or: node --conditions=@disco/source --import tsx bench/encoder.ts)
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { collectRunInfo, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import { Encoder, ENCODER_PRESETS, flattenTokens, Linear, MultiHeadAttention, sinePositionEncoding2D } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const info = await setupBackendForCli(process.argv.includes('--cpu') ? 'cpu' : 'wasm');
const run = collectRunInfo(here);
const loadBefore = os.loadavg();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeIt(f: () => tf.Tensor | tf.Tensor[], repeats = REPEATS): Promise<{ medianMs: number; minMs: number; runsMs: number[] }> {
  tf.dispose(f()); // warm-up (kernel setup, operator caches)
  const runsMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const out = f();
    for (const t of Array.isArray(out) ? out : [out]) await t.data();
    runsMs.push(performance.now() - t0);
    tf.dispose(out);
  }
  return { medianMs: median(runsMs), minMs: Math.min(...runsMs), runsMs: runsMs.map((x) => Math.round(x)) };
}

const shape: [number, number, number] = [8, 256, 64];
const enc = new Encoder(ENCODER_PRESETS.paper);
const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
const pos = flattenTokens(sinePositionEncoding2D(16, 16, { channels: 64 }));
const loss = (training: boolean) => () => tf.mean(tf.square(enc.apply(x, { pos, training }))) as tf.Scalar;
const fwdBwd = (training: boolean) => () => {
  const { value, grads } = tf.variableGrads(loss(training), enc.trainableVariables());
  return [value, ...Object.values(grads)];
};

const rows: { case: string; medianMs: number; minMs: number; runsMs: number[] }[] = [];
rows.push({ case: 'forward, eval', ...(await timeIt(() => enc.apply(x, { pos }))) });
rows.push({ case: 'forward, training (dropout)', ...(await timeIt(() => enc.apply(x, { pos, training: true }))) });
rows.push({ case: 'forward+backward, eval', ...(await timeIt(fwdBwd(false))) });
rows.push({ case: 'forward+backward, training', ...(await timeIt(fwdBwd(true))) });

// Which kernels dominate one training step (kernel wall times; includes profiling overhead).
const prof = await tf.profile(() => {
  tf.dispose(fwdBwd(true)());
});
const byKernel = new Map<string, { calls: number; ms: number }>();
for (const k of prof.kernels) {
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const e = byKernel.get(key) ?? { calls: 0, ms: 0 };
  e.calls++;
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  byKernel.set(key, e);
}
const totalKernelMs = [...byKernel.values()].reduce((a, b) => a + b.ms, 0);
const topKernels = [...byKernel.entries()]
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, 10)
  .map(([kernel, e]) => ({ kernel, calls: e.calls, ms: Math.round(e.ms), share: Number((e.ms / totalKernelMs).toFixed(3)) }));

// Linear d→4d at [2048, 64]: stock tfjs MatMul gradient vs DISCO's Linear (explicit transposes).
const lin = new Linear({ inputDim: 64, outputDim: 256 });
const x2 = tf.randomNormal([2048, 64]);
const stock = await timeIt(() => {
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.add(tf.matMul(x2, lin.kernel), lin.bias!)) as tf.Scalar, [lin.kernel, lin.bias!]);
  return [value, ...Object.values(grads)];
});
const ours = await timeIt(() => {
  const { value, grads } = tf.variableGrads(() => tf.sum(lin.apply(x2)) as tf.Scalar, [lin.kernel, lin.bias!]);
  return [value, ...Object.values(grads)];
});
rows.push({ case: 'Linear 64→256 [2048,64] fwd+bwd, stock MatMul grad', ...stock });
rows.push({ case: 'Linear 64→256 [2048,64] fwd+bwd, transposed-product grad', ...ours });

// One attention block in training, at the paper's shape [8, 256, 64] (8 heads) and the tiny
// preset's [8, 64, 32] (4 heads): the batched products run on @disco/runtime's wasm BatchMatMul.
const mhaStep = (mha: MultiHeadAttention, input: tf.Tensor) => () => {
  const { value, grads } = tf.variableGrads(() => {
    const r = mha.apply(input, input, input, { training: true });
    return tf.mean(tf.square(r.output)) as tf.Scalar;
  }, mha.trainableVariables());
  return [value, ...Object.values(grads)];
};
const mhaPaper = new MultiHeadAttention({ dModel: 64, heads: 8, dropout: 0.1 });
const mhaTiny = new MultiHeadAttention({ dModel: 32, heads: 4, dropout: 0.1 });
const xTiny = tf.randomNormal([8, 64, 32], 0, 1, 'float32', 2);
rows.push({ case: 'MultiHeadAttention [8,256,64], 8 heads, fwd+bwd', ...(await timeIt(mhaStep(mhaPaper, x))) });
rows.push({ case: 'MultiHeadAttention [8,64,32], 4 heads, fwd+bwd', ...(await timeIt(mhaStep(mhaTiny, xTiny))) });

const loadAfter = os.loadavg();
console.log(`\nencoder ${enc.options.layers} layers, d=${enc.options.dModel}, heads=${enc.options.heads}, dff=${enc.options.dff}, tokens [${shape}], ${enc.countParams()} params, backend ${info.name}`);
console.log('case'.padEnd(60), 'median ms'.padStart(10), 'min ms'.padStart(8));
for (const r of rows) console.log(r.case.padEnd(60), r.medianMs.toFixed(0).padStart(10), r.minMs.toFixed(0).padStart(8));
console.log('\ntop kernels of one training step (profiled):');
for (const k of topKernels) console.log(`${String(k.ms).padStart(7)} ms ${(100 * k.share).toFixed(1).padStart(5)}%  x${k.calls}  ${k.kernel}`);
console.log(`load average before/after: ${loadBefore.map((l) => l.toFixed(1)).join(' ')} / ${loadAfter.map((l) => l.toFixed(1)).join(' ')} (2 cores shared with other jobs: expect noise)`);

writeJsonAtomic(path.join(here, 'results.json'), {
  benchmark: 'transformer encoder forward/backward',
  date: run.startedAt,
  gitCommit: run.gitCommit,
  gitDirty: run.gitDirty,
  machine: run.machine,
  node: run.node,
  backend: info.name,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadAfter,
  config: { ...enc.getConfig(), tokens: shape, grid: [16, 16], params: enc.countParams(), repeats: REPEATS, loss: 'mean(y^2)' },
  results: rows,
  profiledTrainingStep: { totalKernelMs: Math.round(totalKernelMs), topKernels },
});
tf.dispose([x, pos, x2]);
enc.dispose();
lin.dispose();
mhaPaper.dispose();
mhaTiny.dispose();
xTiny.dispose();
