/**
 * Inference side by side with PyTorch, in alternating rounds so that a change of machine load
 * hits both sides alike: each round times ours (the `paper` model at 256², whole networks on
 * onnxruntime-node with 1 and with 2 threads, and the earlier per-convolution path), then PyTorch
 * on the same layer plans (`torch_disco_cfg.py`, 1 and 2 threads), then `disco colorize` on
 * 256² photos with the `paper` model (1 and 2 workers). Reported: medians, the spread (min–max)
 * over rounds, every thread count, the load average before each round, and a busy flag.
 *
 *   nx run colorize:bench-side-by-side [-- --rounds 3 --reps 2 --images 16 --no-torch]   → bench/side-by-side.json
 *
 * PyTorch: a Python with `torch` (`DISCO_TORCH_PYTHON`, `python3`; Debian: `apt-get install
 * python3-torch`) — benchmarks only, never tests or CI.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { collectRunInfo, disableNativeNetworks, enableNativeNetworks, nativeNetworkState, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import { runDiscoCli } from '../src/cli/disco.js';
import { saveDiscoModel } from '../src/io/model_files.js';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { arg, best, LoadRecord, maxRssMiB, spread, statsOf, time } from './rounds.js';
import { findTorchPython, torch } from './torch.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const rounds = arg('--rounds', 3);
  const reps = arg('--reps', 2);
  const images = arg('--images', 16);
  const backend = await setupBackendForCli('wasm');
  const py = process.argv.includes('--no-torch') ? null : findTorchPython();
  if (!py && !process.argv.includes('--no-torch')) console.error('side-by-side: no Python with torch found (apt-get install python3-torch): PyTorch columns left empty');
  const cores = os.availableParallelism();
  const threadCounts = [...new Set([1, Math.min(2, cores)])];

  // Inputs: one 256² L for the model, and `images` synthetic 256² photos for `disco colorize`.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-side-by-side-'));
  const src = path.join(tmp, 'in');
  fs.mkdirSync(src);
  for (let k = 0; k < images; k++) {
    const px = Buffer.alloc(256 * 256 * 3);
    for (let i = 0; i < 256 * 256; i++) px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = ((i % 256) * (k + 1) + (i >> 8)) % 256;
    await sharp(px, { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(path.join(src, `img${String(k).padStart(3, '0')}.png`));
  }
  const inputs = fs.readdirSync(src).sort().map((f) => path.join(src, f));
  const paper = DiscoModel.create(resolveDiscoConfig({}, 'paper'));
  const modelDir = path.join(tmp, 'paper');
  await saveDiscoModel(paper, modelDir, { note: 'random initialisation, for timing only' });
  const L = tf.randomUniform([1, 256, 256, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
  const infer = (): void => {
    const out = paper.forward(L, null, { colors: { kind: 'sampled', variant: 0 } });
    out.ab.dataSync();
    tf.dispose(Object.values(out).filter((t) => t instanceof tf.Tensor) as tf.Tensor[]);
  };

  const ours: Record<string, number[]> = { perConvolution: [] };
  for (const t of threadCounts) ours[`threads${t}`] = [];
  const pytorch: Record<string, number[]> = {};
  for (const t of threadCounts) pytorch[`threads${t}`] = [];
  const colorize: Record<string, number[]> = { workers1: [], workers2: [] };
  const loads = new LoadRecord();
  // Resident memory of the whole-network path: process.memoryUsage().rss after each of its runs
  // (their peak), and the process's peak RSS (getrusage) when round 1 has run only that path.
  let nativeRssPeak = 0;
  let maxRssAfterNativeOnly: number | null = null;
  let tensorGrowth = 0;
  let framework: string | null = null;
  const pytorchRss: number[] = [];

  for (let r = 0; r < rounds; r++) {
    const load = loads.take();
    // Ours: whole networks, each thread count (a changed count recompiles: one warm-up run).
    for (const t of threadCounts) {
      enableNativeNetworks({ threads: t });
      infer();
      const before = tf.memory().numTensors;
      for (let i = 0; i < reps; i++) {
        ours[`threads${t}`]!.push(await time(infer));
        nativeRssPeak = Math.max(nativeRssPeak, process.memoryUsage().rss / 2 ** 20);
      }
      tensorGrowth = Math.max(tensorGrowth, tf.memory().numTensors - before);
    }
    maxRssAfterNativeOnly ??= maxRssMiB();
    // The path before this engine: tfjs layers with each convolution on onnxruntime.
    disableNativeNetworks();
    infer();
    ours['perConvolution']!.push(await time(infer));
    enableNativeNetworks();
    // PyTorch, the same thread counts, right after.
    if (py) {
      for (const t of threadCounts) {
        const run = torch(py, ['--preset', 'paper', '--no-train', '--infer-size', '256', '--reps', String(reps), '--threads', String(t)]);
        framework = run.framework;
        pytorch[`threads${t}`]!.push(run.inferSeconds);
        if (run.maxRssMiB != null) pytorchRss.push(run.maxRssMiB);
      }
    }
    // `disco colorize`, whole command (model load, worker start, PNG decode and encode included).
    for (const workers of [1, 2]) {
      const out = path.join(tmp, `out-${r}-${workers}`);
      const t0 = performance.now();
      await runDiscoCli(['colorize', ...inputs, '-o', out, '--backend', 'wasm', '--workers', String(workers), '--model', modelDir], { out: () => {}, err: () => {} });
      colorize[`workers${workers}`]!.push(inputs.length / ((performance.now() - t0) / 1000));
      fs.rmSync(out, { recursive: true, force: true });
    }
    process.stderr.write(`round ${r + 1}/${rounds}: ours ${threadCounts.map((t) => `${t} thr ${ours[`threads${t}`]!.slice(-reps).map((x) => x.toFixed(2)).join('/')} s`).join(', ')}; PyTorch ${threadCounts.map((t) => `${t} thr ${pytorch[`threads${t}`]!.at(-1)?.toFixed(2) ?? '—'} s`).join(', ')}; colorize ${colorize['workers1']!.at(-1)!.toFixed(2)} / ${colorize['workers2']!.at(-1)!.toFixed(2)} img/s (1/2 workers); load ${load.map((x) => x.toFixed(2)).join(' ')}\n`);
  }
  loads.take();
  const networks = nativeNetworkState();
  paper.dispose();
  L.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });

  const oursS = statsOf(ours);
  const torchS = statsOf(pytorch);
  const colorizeS = statsOf(colorize);
  const threadKeys = threadCounts.map((t) => `threads${t}`);
  const oursBest = best(oursS, threadKeys)!;
  const torchBest = best(torchS, threadKeys);
  const colorizeBest = best(colorizeS, ['workers1', 'workers2'], false)!;
  const busy = loads.busy;
  const result = {
    benchmark: 'paper model, one 256² image: ours (whole networks on onnxruntime-node) and PyTorch 1.13 on the same layer plans, alternating rounds; disco colorize throughput (paper, 256² photos) against PyTorch’s bare forward rate',
    command: 'npx nx run colorize:bench-side-by-side',
    date: new Date().toISOString(),
    backend: backend.name,
    engines: { convolutions: backend.convolutions ?? 'wasm (XNNPACK)', networks: backend.networks ?? 'tfjs' },
    run: collectRunInfo(),
    rounds,
    repsPerRound: reps,
    images,
    threadCounts,
    loadAverageBeforeEachRoundAndAtEnd: loads.samples,
    othersCpuBeforeEachRoundAndAtEnd: loads.othersCpu,
    machineBusy: busy,
    paperInferenceS: { ours: oursS, pytorch: torchS, pytorchFramework: framework },
    colorizeImagesPerSecond: colorizeS,
    tensorGrowthPerRun: tensorGrowth,
    memoryMiB: {
      nativeRssPeak,
      processMaxRssAfterNativeOnly: maxRssAfterNativeOnly,
      processMaxRssAtEnd: maxRssMiB(),
      pytorchMaxRss: pytorchRss.length ? Math.max(...pytorchRss) : null,
      note: 'nativeRssPeak: process.memoryUsage().rss after each whole-network run (peak); processMaxRss*: getrusage peak of this process, after round 1 ran only the whole-network path, and at the end (the per-convolution path and disco colorize included); pytorchMaxRss: the PyTorch child’s getrusage peak (inference only)',
    },
    compiledNetworks: networks.networks,
    ratioToPytorch: torchBest
      ? {
          paperInferenceBestOverBest: oursBest.median / torchBest.median,
          paperInferenceSameThreads: Object.fromEntries(threadKeys.filter((k) => oursS[k] && torchS[k]).map((k) => [k, oursS[k]!.median / torchS[k]!.median])),
          colorizeThroughputOverPytorchForwardRate: colorizeBest.median * torchBest.median,
          note: 'inference: ours / PyTorch seconds (below 1: ours faster); throughput: our images per second / PyTorch’s 1 / (best forward seconds) (above 1: ours faster)',
        }
      : null,
  };
  writeJsonAtomic(path.join(here, 'side-by-side.json'), result);
  const f = spread;
  console.log(`\n| paper, 256², median (min–max) of ${rounds} rounds | ours | PyTorch | ours / PyTorch |\n|---|---:|---:|---:|`);
  for (const k of threadKeys) console.log(`| inference, ${k.replace('threads', '')} thread(s) | ${oursS[k] ? f(oursS[k]!) : '—'} s | ${torchS[k] ? f(torchS[k]!) : '—'} s | ${oursS[k] && torchS[k] ? `${(oursS[k]!.median / torchS[k]!.median).toFixed(2)}×` : '—'} |`);
  if (torchBest) console.log(`| inference, best thread count | ${oursBest.median.toFixed(2)} s (${oursBest.key}) | ${torchBest.median.toFixed(2)} s (${torchBest.key}) | ${(oursBest.median / torchBest.median).toFixed(2)}× |`);
  console.log(`| inference, per-convolution path (before) | ${f(oursS['perConvolution']!)} s | | |`);
  for (const k of ['workers1', 'workers2']) console.log(`| disco colorize, ${k.replace('workers', '')} worker(s) | ${f(colorizeS[k]!)} img/s | ${torchBest ? `${(1 / torchBest.median).toFixed(2)} img/s` : '—'} | ${torchBest ? `${(colorizeS[k]!.median * torchBest.median).toFixed(2)}× the rate` : '—'} |`);
  console.log(`\nmemory: whole-network path RSS peak ${nativeRssPeak.toFixed(0)} MiB (process peak after it alone ${maxRssAfterNativeOnly?.toFixed(0) ?? '—'} MiB); PyTorch process peak ${pytorchRss.length ? Math.max(...pytorchRss).toFixed(0) : '—'} MiB`);
  console.log(`tensor growth per run: ${tensorGrowth}; ${loads.line()}`);
}

await main();
