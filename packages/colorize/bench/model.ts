/**
 * Benchmark, side by side with PyTorch: the `tiny` stage-2 training step at batch 8 (64², S = 8;
 * one thread, and data-parallel over 2 worker threads) in alternating rounds (ours, then PyTorch
 * with 1 and 2 threads; medians, spread, load before each round, busy flag), `paper` inference of one 256² image, the
 * `tiny` model's 256² inference rate, tensor growth over 100 training steps, peak memory of
 * `paper` inference, and the share of k-means in a step. When onnxruntime-node is installed the
 * convolutions run on it (`setupBackendForCli`), and the tiny step and paper inference are timed a
 * second time with every kernel on wasm (`wasmOnly`).
 *
 *   node --conditions=@disco/source --import tsx bench/model.ts [--rounds 5 --reps 4 --warmup 10 --growth-steps 100 --no-torch]   → bench/results.json
 *   (also the second command of `nx run colorize:bench`)
 *
 * PyTorch reference: `bench/torch_disco_cfg.py` (the same layer plans in PyTorch, NCHW), run in
 * the same process tree when a Python with `torch` is found (`DISCO_TORCH_PYTHON`, `python3`,
 * `/usr/bin/python3`; Debian: `apt-get install python3-torch`), with 1 and 2 threads: the training
 * step in each round right after ours, the inference figures once after ours; ratios are to
 * PyTorch's faster thread count (medians). The load average is recorded before each round and
 * after: figures from a busy machine are not comparable with an idle one.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { locateAnchors } from '@disco/anchors';
import { collectRunInfo, disableNativeConvolutions, disableNativeNetworks, enableNativeConvolutions, enableNativeNetworks, nativeNetworkState, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { ParallelStage2Trainer } from '../src/train/parallel.js';
import { arg, best, LoadRecord, spread, stats, statsOf, time } from './rounds.js';
import { findTorchPython, torch, torchBoth } from './torch.js';
import { Stage2Trainer } from '../src/train/stage2.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Wall seconds of `reps` calls of `f(i)`, one sample per call. */
function samples(reps: number, f: (i: number) => void): number[] {
  return Array.from({ length: reps }, (_, i) => {
    const t0 = performance.now();
    f(i);
    return (performance.now() - t0) / 1000;
  });
}

function batch8(): { L: tf.Tensor4D; ab: tf.Tensor4D } {
  return { L: tf.randomUniform([8, 64, 64, 1], -1, 1, 'float32', 1) as tf.Tensor4D, ab: tf.randomUniform([8, 64, 64, 2], -0.4, 0.4, 'float32', 2) as tf.Tensor4D };
}

async function main(): Promise<void> {
  const backend = await setupBackendForCli(process.argv.includes('--cpu') ? 'cpu' : undefined);
  const py = process.argv.includes('--no-torch') ? null : findTorchPython();
  if (!py && !process.argv.includes('--no-torch')) console.error('bench: no Python with torch found (apt-get install python3-torch): PyTorch columns left empty');
  const rounds = arg('--rounds', 5);
  const reps = arg('--reps', 4);
  const loads = new LoadRecord();

  // tiny training step, batch 8: this thread alone, and over 2 worker threads (this one and one
  // more, batch split 4 + 4); then PyTorch's step with 1 and 2 threads; `rounds` times.
  const tiny = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
  const { L, ab } = batch8();
  const tr = new Stage2Trainer(tiny, { steps: 100, perceptualWeight: 0 });
  const par = await ParallelStage2Trainer.create(tr, { workers: 2 });
  // Warm-up to the steady state: V8 tiers the tfjs code up over the first ~20 steps of each
  // thread (the 2-worker step went from ~0.40 s in the first rounds to ~0.29 s after them in a
  // 5-round run), while PyTorch's step is steady after one.
  let stepNo = 0;
  const warmup = arg('--warmup', 10);
  for (let i = 0; i < warmup; i++) {
    tr.step({ L, ab }, stepNo++);
    await par.step({ L, ab }, stepNo++);
  }
  const train: Record<string, number[]> = { oneProcess: [], workers2: [] };
  const torchTrain: Record<string, number[]> = { threads1: [], threads2: [] };
  let torchFramework: string | null = null;
  for (let r = 0; r < rounds; r++) {
    loads.take();
    for (let i = 0; i < reps; i++) train['oneProcess']!.push(await time(() => tr.step({ L, ab }, stepNo++)));
    for (let i = 0; i < reps; i++) train['workers2']!.push(await time(() => par.step({ L, ab }, stepNo++)));
    if (py) {
      for (const t of [1, 2]) {
        const run = torch(py, ['--preset', 'tiny', '--batch', '8', '--reps', String(reps), '--threads', String(t)]);
        torchFramework = run.framework;
        torchTrain[`threads${t}`]!.push(run.trainStepSeconds!);
      }
    }
    process.stderr.write(`round ${r + 1}/${rounds}: tiny step ours ${train['oneProcess']!.slice(-reps).map((x) => x.toFixed(3)).join('/')} s (one process), ${train['workers2']!.slice(-reps).map((x) => x.toFixed(3)).join('/')} s (2 workers); PyTorch ${torchTrain['threads1']!.at(-1)?.toFixed(3) ?? '—'} / ${torchTrain['threads2']!.at(-1)?.toFixed(3) ?? '—'} s (1/2 threads); load ${loads.samples.at(-1)!.map((x) => x.toFixed(2)).join(' ')}\n`);
  }
  await par.dispose();
  const trainS = statsOf(train);
  const torchTrainS = statsOf(torchTrain);
  const torchTrainBest = best(torchTrainS, ['threads1', 'threads2']);
  // k-means share: the locator on the tiny token grid (B=8, T=64) and at paper size (B=8, T=256, C=64).
  const kmeansTime = (shape: [number, number, number, number], k: number): number => {
    const f = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    const sizes = tf.ones([shape[0], shape[1], shape[2], 1]) as tf.Tensor4D;
    const run = () => tf.tidy(() => locateAnchors(f, sizes, { k, maxIter: 20, tol: 0 }).indices.dataSync());
    run();
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) run();
    tf.dispose([f, sizes]);
    return (performance.now() - t0) / 3 / 1000;
  };
  const kTiny = kmeansTime([8, 8, 8, 2], 8);
  const kPaper = kmeansTime([8, 16, 16, 64], 8);
  // Tensor growth over many steps (batch 2 to keep it short).
  const growthSteps = arg('--growth-steps', 100);
  const small = { L: tf.slice(L, 0, 2), ab: tf.slice(ab, 0, 2) };
  tr.step(small, 0);
  const tensorsBefore = tf.memory().numTensors;
  for (let i = 0; i < growthSteps; i++) tr.step(small, 1 + i);
  const tensorGrowth = tf.memory().numTensors - tensorsBefore;
  tf.dispose([small.L, small.ab]);
  // tiny inference at 256² (one image at a time, this thread): the batch-colorization rate.
  const L256 = tf.randomUniform([1, 256, 256, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
  const inferTiny = () => {
    const out = tiny.forward(L256, null, { colors: { kind: 'sampled', variant: 0 } });
    out.ab.dataSync();
    tf.dispose(Object.values(out).filter((t) => t) as tf.Tensor[]);
  };
  inferTiny();
  const tinyInf = samples(5, inferTiny);
  tr.dispose();
  tiny.dispose();
  tf.dispose([L, ab]);
  // paper inference, one 256² image.
  const paper = DiscoModel.create(resolveDiscoConfig({}, 'paper'));
  const infer = () => {
    const out = paper.forward(L256, null, { colors: { kind: 'sampled', variant: 0 } });
    out.ab.dataSync();
    tf.dispose(Object.values(out).filter((t) => t) as tf.Tensor[]);
  };
  const prof = await tf.profile(infer); // also the warm-up
  const inf = samples(3, infer);
  paper.dispose();
  L256.dispose();
  const wasmHeap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.length ?? null;
  const peakMemory = { tensorPeakMiB: prof.peakBytes / 2 ** 20, wasmHeapMiB: wasmHeap == null ? null : wasmHeap / 2 ** 20, processMaxRssMiB: process.resourceUsage().maxRSS / 1024 };
  // The same two figures with every kernel on wasm (the reference path), when the convolutions ran natively.
  let wasmOnly: { tinyStepS: number; tinyStepSamples: number[]; paperInferenceS: number; paperInferenceSamples: number[] } | null = null;
  if (backend.convolutions != null) {
    const nets = nativeNetworkState();
    disableNativeConvolutions();
    disableNativeNetworks();
    const m1 = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
    const b = batch8();
    const t1 = new Stage2Trainer(m1, { steps: 100, perceptualWeight: 0 });
    t1.step(b, 0);
    const s1 = samples(3, (i) => t1.step(b, 1 + i));
    t1.dispose();
    m1.dispose();
    tf.dispose([b.L, b.ab]);
    const m2 = DiscoModel.create(resolveDiscoConfig({}, 'paper'));
    const L2 = tf.randomUniform([1, 256, 256, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
    const run2 = () => tf.tidy(() => { m2.forward(L2, null, { colors: { kind: 'sampled', variant: 0 } }).ab.dataSync(); });
    run2();
    const s2 = samples(2, run2);
    m2.dispose();
    L2.dispose();
    wasmOnly = { tinyStepS: stats(s1).median, tinyStepSamples: s1, paperInferenceS: stats(s2).median, paperInferenceSamples: s2 };
    enableNativeConvolutions();
    if (nets.enabled) enableNativeNetworks({ threads: nets.threads! });
  }
  loads.take();

  // PyTorch's inference, right after.
  const ref = py
    ? {
        python: py,
        tinyTrain: torchTrainBest && { framework: torchFramework, bestS: torchTrainBest.median, bestThreads: Number(torchTrainBest.key.replace('threads', '')), rounds: torchTrainS },
        paperInfer: torchBoth(py, ['--preset', 'paper', '--no-train', '--infer-size', '256', '--reps', '3'], (r) => r.inferSeconds),
        tinyInfer256: torchBoth(py, ['--preset', 'tiny', '--no-train', '--infer-size', '256', '--reps', '5'], (r) => r.inferSeconds),
      }
    : null;
  loads.take();

  // Another job on the CPUs distorts both sides, and the 2-thread figures most.
  const busy = loads.busy;
  const tinyStepS = trainS['oneProcess']!.median;
  const tinyStepWorkers2S = trainS['workers2']!.median;
  const paperInferenceS = stats(inf).median;
  const tinyInfer256S = stats(tinyInf).median;
  const ratio = (ours: number, theirs: number | undefined) => (theirs ? ours / theirs : null);
  const result = {
    benchmark: 'colorize vs PyTorch (same layer plans): tiny stage-2 step (batch 8, 64², S=8, no perceptual net; 1 thread and 2 worker threads), paper inference (1×256²), tiny inference rate at 256², tensor growth, peak memory',
    date: new Date().toISOString(),
    backend: backend.name,
    convolutions: backend.convolutions ?? 'wasm (XNNPACK)',
    run: collectRunInfo(),
    loadAverage: { beforeEachTrainingRound: loads.samples.slice(0, rounds), afterOurs: loads.samples[rounds], afterTorch: loads.samples[rounds + 1], note: 'os.loadavg() (1, 5, 15 min); on a 2-core machine anything above ~0.5 before means another job shared the CPU' },
    othersCpu: { beforeEachTrainingRound: loads.othersCpu.slice(0, rounds), afterOurs: loads.othersCpu[rounds], afterTorch: loads.othersCpu[rounds + 1], note: 'share of all cores used by other processes during one second the benchmark slept; above 0.25 flags the run busy' },
    machineBusy: busy,
    tinyTrainRounds: { rounds, repsPerRound: reps, ours: trainS, pytorch: torchTrainS, note: 'seconds per step; each round: ours (one process, then 2 workers), then PyTorch (1, then 2 threads)' },
    tinyStepS,
    tinyStepWorkers2S,
    paperInferenceS,
    paperInferenceSamples: inf,
    tinyInfer256S,
    tinyImagesPerSecond1Thread: 1 / tinyInfer256S,
    tensorGrowth: { steps: growthSteps, batch: 2, tensors: tensorGrowth },
    paperInferencePeakMemory: peakMemory,
    kmeans: { tinyLocatorS: kTiny, tinyShareOfStep: kTiny / tinyStepS, paperLocatorS: kPaper },
    wasmOnly,
    pytorch: ref,
    ratioToPytorch: ref
      ? {
          tinyStep1Thread: ratio(tinyStepS, ref.tinyTrain?.bestS),
          tinyStepWorkers2: ratio(tinyStepWorkers2S, ref.tinyTrain?.bestS),
          paperInference: ratio(paperInferenceS, ref.paperInfer.bestS),
          tinyImagesPerSecond1Thread: ref.tinyInfer256.bestS / tinyInfer256S,
          ...(wasmOnly ? { wasmOnlyTinyStep: ratio(wasmOnly.tinyStepS, ref.tinyTrain?.bestS), wasmOnlyPaperInference: ratio(wasmOnly.paperInferenceS, ref.paperInfer.bestS) } : {}),
        }
      : null,
  };
  const t = ref;
  const row = (name: string, ours: number, theirs: { bestS: number; bestThreads: number } | undefined, unit = 's') =>
    console.log(`| ${name} | ${ours.toFixed(3)} ${unit} | ${theirs ? `${theirs.bestS.toFixed(3)} ${unit} (${theirs.bestThreads} thr)` : '—'} | ${theirs ? `${(ours / theirs.bestS).toFixed(2)}×` : '—'} |`);
  console.log(`\n| measure | ours (${backend.name}${backend.convolutions ? `; convolutions: ${backend.convolutions}` : ''}) | PyTorch ${t ? t.paperInfer.threads1.framework : ''} best | ours / PyTorch |\n|---|---:|---:|---:|`);
  row('tiny train step, batch 8, one process', tinyStepS, t?.tinyTrain ?? undefined);
  row('tiny train step, batch 8, 2 worker threads', tinyStepWorkers2S, t?.tinyTrain ?? undefined);
  row('paper inference, 1×256²', paperInferenceS, t?.paperInfer);
  row('tiny inference, 1×256², one image', tinyInfer256S, t?.tinyInfer256);
  if (wasmOnly) {
    row('tiny train step, batch 8, every kernel on wasm', wasmOnly.tinyStepS, t?.tinyTrain ?? undefined);
    row('paper inference, 1×256², every kernel on wasm', wasmOnly.paperInferenceS, t?.paperInfer);
  }
  console.log(`\ntiny train step, median (min–max) of ${rounds} rounds: ours ${spread(trainS['oneProcess']!, 3)} s one process, ${spread(trainS['workers2']!, 3)} s 2 workers; PyTorch ${torchTrainS['threads1'] ? spread(torchTrainS['threads1'], 3) : '—'} s 1 thread, ${torchTrainS['threads2'] ? spread(torchTrainS['threads2'], 3) : '—'} s 2 threads`);
  if (t) console.log(`PyTorch 1 / 2 threads: paper 256² ${t.paperInfer.threads1.inferSeconds.toFixed(3)} / ${t.paperInfer.threads2.inferSeconds.toFixed(3)} s, tiny 256² ${t.tinyInfer256.threads1.inferSeconds.toFixed(3)} / ${t.tinyInfer256.threads2.inferSeconds.toFixed(3)} s`);
  console.log(`tensor growth over ${growthSteps} steps: ${tensorGrowth}; paper inference peak: tensors ${peakMemory.tensorPeakMiB.toFixed(0)} MiB, wasm heap ${peakMemory.wasmHeapMiB?.toFixed(0) ?? '—'} MiB, process max RSS ${peakMemory.processMaxRssMiB.toFixed(0)} MiB`);
  console.log(`k-means locator: ${(kTiny * 1000).toFixed(1)} ms per tiny step (${((100 * kTiny) / tinyStepS).toFixed(1)} % of it); ${(kPaper * 1000).toFixed(1)} ms at B=8, T=256, C=64`);
  console.log(`${loads.line()} (the last two: after ours, after PyTorch's inference)`);
  writeJsonAtomic(path.join(here, process.argv.includes('--cpu') ? 'results-cpu.json' : 'results.json'), result);
}

await main();
