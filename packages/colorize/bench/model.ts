/**
 * Benchmark: the `tiny` stage-2 training step at batch 8 (64², S = 8) and `paper` inference of one
 * 256² image, on the selected backend (default wasm), with the share of k-means in a step.
 *
 *   nx run colorize:bench      → bench/results.json
 *
 * Reference (same layer plans in PyTorch on this machine, from the issue): 0.71 s per tiny step,
 * 2.0 s per 256² inference.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { locateAnchors } from '@disco/anchors';
import { collectRunInfo, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { Stage2Trainer } from '../src/train/stage2.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTORCH = { tinyStepS: 0.71, paperInferenceS: 2.0 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const backend = await setupBackendForCli(process.argv.includes('--cpu') ? 'cpu' : undefined);
  // tiny training step, batch 8
  const tiny = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
  const L = tf.randomUniform([8, 64, 64, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
  const ab = tf.randomUniform([8, 64, 64, 2], -0.4, 0.4, 'float32', 2) as tf.Tensor4D;
  const tr = new Stage2Trainer(tiny, { steps: 100, perceptualWeight: 0 });
  for (let i = 0; i < 2; i++) tr.step({ L, ab }, i);
  const steps: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    tr.step({ L, ab }, 2 + i);
    steps.push((performance.now() - t0) / 1000);
  }
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
  tr.dispose();
  tiny.dispose();
  tf.dispose([L, ab]);
  // paper inference, one 256² image
  const paper = DiscoModel.create(resolveDiscoConfig({}, 'paper'));
  const Lp = tf.randomUniform([1, 256, 256, 1], -1, 1, 'float32', 4) as tf.Tensor4D;
  const infer = () => {
    const out = paper.forward(Lp, null, { colors: { kind: 'sampled', variant: 0 } });
    out.ab.dataSync();
    tf.dispose(Object.values(out).filter((t) => t) as tf.Tensor[]);
  };
  infer();
  const inf: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    infer();
    inf.push((performance.now() - t0) / 1000);
  }
  paper.dispose();
  Lp.dispose();
  const tinyStepS = median(steps);
  const paperInferenceS = median(inf);
  const result = {
    benchmark: 'colorize: tiny stage-2 step (batch 8, 64², S=8, no perceptual net) and paper inference (1×256²)',
    date: new Date().toISOString(),
    backend: backend.name,
    run: collectRunInfo(),
    tinyStepS,
    tinyStepSamples: steps,
    paperInferenceS,
    paperInferenceSamples: inf,
    kmeans: { tinyLocatorS: kTiny, tinyShareOfStep: kTiny / tinyStepS, paperLocatorS: kPaper },
    pytorchReference: PYTORCH,
    ratioToPytorch: { tinyStep: tinyStepS / PYTORCH.tinyStepS, paperInference: paperInferenceS / PYTORCH.paperInferenceS },
  };
  console.log(`\n| measure | ${backend.name} | PyTorch (reference) | ratio |\n|---|---:|---:|---:|`);
  console.log(`| tiny train step, batch 8 | ${tinyStepS.toFixed(3)} s | ${PYTORCH.tinyStepS} s | ${(tinyStepS / PYTORCH.tinyStepS).toFixed(2)}× |`);
  console.log(`| paper inference, 1×256² | ${paperInferenceS.toFixed(3)} s | ${PYTORCH.paperInferenceS} s | ${(paperInferenceS / PYTORCH.paperInferenceS).toFixed(2)}× |`);
  console.log(`\nk-means locator: ${(kTiny * 1000).toFixed(1)} ms per tiny step (${((100 * kTiny) / tinyStepS).toFixed(1)} % of it); ${(kPaper * 1000).toFixed(1)} ms at B=8, T=256, C=64`);
  writeJsonAtomic(path.join(here, process.argv.includes('--cpu') ? 'results-cpu.json' : 'results.json'), result);
}

await main();
