/**
 * `disco`: the DISCO command line.
 *
 *   disco train --config tiny --data <dir|list> [--out runs/x] [--resume]
 *   disco colorize <images|folders…> -o <dir> [--model <dir>] [--anchors K] [--diverse] [--show-anchors]
 *                  [--anchors-file hints.json] [--seed n] [--mode resize|pad]
 *   disco params --config paper
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Command, InvalidArgumentError } from 'commander';
import type { ColorVariant, UserAnchor } from '@disco/anchors';
import { SpixNet } from '@disco/superpixel';
import { collectRunInfo, formatDuration, Progress, setupBackendForCli, writeFileAtomic, writeJsonAtomic } from '@disco/runtime/node';
import { normalizedLabToRgb, rgbToNormalizedLab } from '../color/lab.js';
import { PhotoDataset } from '../data/dataset.js';
import { readImage, writeImage } from '../io/image.js';
import { embeddedModelDir, loadDiscoModel, MODEL_FILES, saveDiscoModel } from '../io/model_files.js';
import { loadNsfwInceptionStem } from '../io/nsfw_inception.js';
import { resolveDiscoConfig, type DiscoConfig, type DiscoConfigOverrides } from '../model/config.js';
import { DiscoModel } from '../model/disco.js';
import { colorizeL } from '../model/infer.js';
import type { FeatureNetwork } from '../model/losses.js';
import { resolveStage2Options, Stage2Trainer, type Stage2Losses, type Stage2Options } from '../train/stage2.js';
import { loadNet, type CliIo } from './spixnet.js';

const defaultIo: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

function intArg(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}; got '${v}'`);
    return n;
  };
}
function numArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number; got '${v}'`);
    return n;
  };
}

/** A feature network factory for `--perceptual`, registered by name (pluggable). */
export type FeatureNetworkFactory = (imageSize: number) => Promise<FeatureNetwork>;
const FEATURE_NETWORKS = new Map<string, FeatureNetworkFactory>([['inception', async () => loadNsfwInceptionStem()]]);

/** Makes a perceptual feature network available to `disco train --perceptual <name>`. */
export function registerFeatureNetwork(name: string, factory: FeatureNetworkFactory): void {
  FEATURE_NETWORKS.set(name, factory);
}

// ---------------------------------------------------------------------------------------------
// train

interface TrainFlags {
  config: 'paper' | 'tiny';
  data: string[];
  out: string;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  spixnet?: string;
  perceptual: string;
  laplacian: number;
  pixel: number;
  validateEvery: number;
  validationBatches: number;
  checkpointEvery: number;
  resume?: boolean;
  stopAt?: number;
  backend?: string;
  ablation?: string[];
  anchors?: number;
  hintEncoding?: 'onehot' | 'soft';
  residualRefinement?: boolean;
  decodeTemperature?: number;
  hintBroadcast?: boolean;
}

interface CheckpointState {
  format: 'disco-checkpoint-v1';
  step: number;
  config: DiscoConfig;
  options: Stage2Options;
  flags: Omit<TrainFlags, 'resume' | 'stopAt'>;
  optimizerNames: string[];
  elapsedS: number;
  lastLosses: Stage2Losses | null;
  /** Epoch of the data stream at the checkpoint. */
  dataEpoch: number;
  /** Batches of that epoch already consumed. */
  dataIndex: number;
}

const CKPT = 'checkpoint';

/** Writes `<out>/checkpoint/` atomically: a temp folder, then two renames. */
async function writeCheckpoint(out: string, model: DiscoModel, trainer: Stage2Trainer, state: Omit<CheckpointState, 'optimizerNames' | 'format'>): Promise<void> {
  const opt = await trainer.optimizerState();
  const named: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(model.namedWeights())) named[`model:${k}`] = v;
  opt.forEach((w, i) => (named[`opt:${i}`] = w.tensor));
  const { data, specs } = await tf.io.encodeWeights(named);
  const tmp = path.join(out, `.${CKPT}.${process.pid}.tmp`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  writeFileAtomic(path.join(tmp, 'weights.bin'), new Uint8Array(data));
  writeJsonAtomic(path.join(tmp, 'state.json'), { ...state, format: 'disco-checkpoint-v1', optimizerNames: opt.map((w) => w.name), specs });
  const dst = path.join(out, CKPT);
  const old = path.join(out, `.${CKPT}.old`);
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(dst)) fs.renameSync(dst, old);
  fs.renameSync(tmp, dst);
  fs.rmSync(old, { recursive: true, force: true });
}

async function readCheckpoint(out: string, model: DiscoModel, trainer: Stage2Trainer): Promise<CheckpointState> {
  const dir = path.join(out, CKPT);
  const sf = path.join(dir, 'state.json');
  if (!fs.existsSync(sf)) throw new Error(`--resume: no checkpoint in '${dir}'`);
  const state = JSON.parse(fs.readFileSync(sf, 'utf8')) as CheckpointState & { specs: tf.io.WeightsManifestEntry[] };
  if (state.format !== 'disco-checkpoint-v1') throw new Error(`--resume: ${sf}: not a DISCO checkpoint`);
  const buf = fs.readFileSync(path.join(dir, 'weights.bin'));
  const named = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), state.specs);
  const weights: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(named)) if (k.startsWith('model:')) weights[k.slice(6)] = v;
  model.setNamedWeights(weights);
  await trainer.setOptimizerState(state.optimizerNames.map((name, i) => ({ name, tensor: named[`opt:${i}`]! })));
  tf.dispose(Object.values(weights));
  return state;
}

function parseAblations(list: string[] | undefined): DiscoConfigOverrides['ablation'] {
  const a: NonNullable<DiscoConfigOverrides['ablation']> = {};
  for (const item of list ?? []) {
    if (item === 'random-anchors') a.anchors = 'random';
    else if (item === 'no-anchor-branch') a.anchorBranch = false;
    else if (item === 'hard-superpixels') a.superpixels = 'hard';
    else if (item === 'no-refinement') a.refinement = false;
    else throw new Error(`--ablation: unknown '${item}'; valid: random-anchors, no-anchor-branch, hard-superpixels, no-refinement`);
  }
  return a;
}

async function train(flags: TrainFlags, io: CliIo): Promise<void> {
  const backend = await setupBackendForCli(flags.backend, io.err);
  const out = path.resolve(flags.out);
  const overrides: DiscoConfigOverrides = { seed: flags.seed, ablation: parseAblations(flags.ablation) };
  if (flags.anchors !== undefined) overrides.anchors = flags.anchors;
  if (flags.hintEncoding !== undefined) overrides.hintEncoding = flags.hintEncoding;
  if (flags.decodeTemperature !== undefined) overrides.decodeTemperature = flags.decodeTemperature;
  if (flags.residualRefinement) overrides.refinement = { residual: true };
  if (flags.hintBroadcast) overrides.hintBroadcast = true;
  let config = resolveDiscoConfig(overrides, flags.config);
  let resumeState: CheckpointState | null = null;
  if (flags.resume) {
    const sf = path.join(out, CKPT, 'state.json');
    if (!fs.existsSync(sf)) throw new Error(`--resume: no checkpoint in '${path.join(out, CKPT)}'`);
    resumeState = JSON.parse(fs.readFileSync(sf, 'utf8')) as CheckpointState;
    config = resumeState.config;
  }
  const options = resolveStage2Options({ steps: flags.steps, learningRate: flags.lr, seed: flags.seed, laplacianWeight: flags.laplacian, pixelWeight: flags.pixel, perceptualWeight: flags.perceptual === 'none' ? 0 : 5 });
  let featureNet: FeatureNetwork | null = null;
  if (flags.perceptual !== 'none') {
    const factory = FEATURE_NETWORKS.get(flags.perceptual);
    if (!factory) throw new Error(`--perceptual: unknown network '${flags.perceptual}'; valid: none${[...FEATURE_NETWORKS.keys()].map((k) => `, ${k}`).join('')}`);
    featureNet = await factory(config.imageSize);
  }
  // --spixnet: a SPixNet folder (model.json) or a DISCO model folder whose stage-1 network is reused.
  const spixDir = flags.spixnet ? path.resolve(flags.spixnet) : null;
  const fromDisco = spixDir !== null && fs.existsSync(path.join(spixDir, MODEL_FILES.json));
  const spix = spixDir && !fromDisco ? await loadNet(spixDir) : null;
  if (spix && spix.config.widths.length === 0) throw new Error('--spixnet: empty network');
  const model = DiscoModel.create(config, spix ?? SpixNet.create({ seed: config.seed }, config.spixnetPreset));
  if (fromDisco) {
    const src = loadDiscoModel(spixDir);
    try {
      const only = (n: string) => n.startsWith('spixnet/');
      model.setNamedWeights(Object.fromEntries(Object.entries(src.namedWeights()).filter(([n]) => only(n))), { only });
    } catch (e) {
      throw new Error(`--spixnet: ${spixDir}: ${(e as Error).message}`);
    } finally {
      src.dispose();
    }
  }
  if (!spixDir) io.err('train: warning: no --spixnet given; SPixNet is untrained (association ≈ uniform). Train one with `nx run superpixel:train`.');
  const trainer = new Stage2Trainer(model, options, featureNet);
  let start = 0;
  let elapsedBefore = 0;
  if (resumeState) {
    resumeState = await readCheckpoint(out, model, trainer);
    start = resumeState.step;
    elapsedBefore = resumeState.elapsedS;
    io.err(`train: resumed from step ${start} (${path.join(out, CKPT)})`);
  }
  const sources = flags.data.map((d) => path.resolve(d));
  const ds = await PhotoDataset.create({ sources, size: config.imageSize, batchSize: flags.batchSize, seed: flags.seed, split: 'train', output: 'lab' });
  const val = await PhotoDataset.create({ sources, size: config.imageSize, batchSize: flags.batchSize, seed: flags.seed, split: 'validation', output: 'lab', flip: false, dropRemainder: false });
  const perEpoch = Math.floor(ds.files.length / flags.batchSize);
  if (perEpoch < 1) throw new Error(`--data: ${ds.files.length} training images are fewer than one batch of ${flags.batchSize}`);
  const run = {
    command: 'disco train',
    run: collectRunInfo(),
    backend: backend.name,
    config,
    options,
    flags: { ...flags, data: sources },
    data: { train: ds.files.length, validation: val.files.length, batchesPerEpochAtMost: perEpoch },
    perceptual: featureNet?.name ?? 'none',
    spixnet: flags.spixnet ?? null,
    params: model.countParams(),
  };
  fs.mkdirSync(out, { recursive: true });
  writeJsonAtomic(path.join(out, resumeState ? `run.resume-${start}.json` : 'run.json'), run);
  io.err(`train: config ${flags.config}, ${run.params.total.toLocaleString('en')} parameters, ${ds.files.length} training / ${val.files.length} validation images, ≤ ${perEpoch} batches per epoch, seed ${flags.seed}, commit ${run.run.gitCommit.slice(0, 10)}`);
  // The step log: one JSON line per step; on resume, lines from the replayed steps are dropped.
  const logFile = path.join(out, 'log.jsonl');
  if (resumeState && fs.existsSync(logFile)) {
    const kept = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l && (JSON.parse(l) as { step: number }).step < start);
    writeFileAtomic(logFile, kept.map((l) => `${l}\n`).join(''));
  } else if (!resumeState) {
    fs.rmSync(logFile, { force: true });
  }
  const progress = new Progress({ total: options.steps, label: 'train', write: io.err, start });
  const t0 = performance.now();
  let lastLosses: Stage2Losses | null = resumeState?.lastLosses ?? null;
  let lastCheckpoint = start;
  let step = start;
  const validate = async (): Promise<Record<string, number>> => {
    const sums: Record<string, number> = {};
    let n = 0;
    for await (const b of val.batches(0)) {
      if (n >= flags.validationBatches) {
        tf.dispose([b.L!, b.ab!]);
        continue;
      }
      const l = trainer.evaluate({ L: b.L!, ab: b.ab! }, flags.seed);
      for (const [k, v] of Object.entries(l)) sums[k] = (sums[k] ?? 0) + v;
      n++;
      tf.dispose([b.L!, b.ab!]);
    }
    return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, n)]));
  };
  try {
    // Data position: epochs are consumed in order; a checkpoint records (epoch, batch index) so a
    // resumed run replays exactly the same batches (epoch lengths vary with the grey filter).
    let epoch = resumeState?.dataEpoch ?? 0;
    let skip = resumeState?.dataIndex ?? 0;
    while (step < options.steps) {
      let index = 0;
      let served = 0;
      for await (const b of ds.batches(epoch)) {
        if (index < skip) {
          index++;
          tf.dispose([b.L!, b.ab!]);
          continue;
        }
        served++;
        const ts = performance.now();
        const losses = trainer.step({ L: b.L!, ab: b.ab! }, step);
        tf.dispose([b.L!, b.ab!]);
        index++;
        if (!Object.values(losses).every(Number.isFinite)) {
          throw Object.assign(new Error(`train: non-finite loss at step ${step} (${JSON.stringify(losses)}); stopped. The last good checkpoint (step ${lastCheckpoint}) is kept in ${path.join(out, CKPT)}`), { exitCode: 3 });
        }
        lastLosses = losses;
        fs.appendFileSync(logFile, `${JSON.stringify({ step, lr: (trainer.optimizer as unknown as { learningRate: number }).learningRate, ms: Math.round(performance.now() - ts), ...losses })}\n`);
        step++;
        progress.update(step, { loss: losses.total, ceM: losses.ceModeler, ceG: losses.ceGenerator, perc: losses.perceptual, abL1: losses.abL1 });
        const elapsedS = elapsedBefore + (performance.now() - t0) / 1000;
        if (flags.validateEvery > 0 && (step % flags.validateEvery === 0 || step === options.steps)) {
          const v = await validate();
          fs.appendFileSync(path.join(out, 'validation.jsonl'), `${JSON.stringify({ step, ...v })}\n`);
          io.err(`validate step ${step}: loss=${v.total?.toFixed(4)} abL1=${v.abL1?.toFixed(2)}`);
        }
        const stopping = flags.stopAt !== undefined && step >= flags.stopAt && step < options.steps;
        if (step % flags.checkpointEvery === 0 || step === options.steps || stopping) {
          const { resume: _r, stopAt: _s, ...kept } = flags;
          await writeCheckpoint(out, model, trainer, { step, config, options, flags: { ...kept, data: sources }, elapsedS, lastLosses, dataEpoch: epoch, dataIndex: index });
          lastCheckpoint = step;
        }
        if (stopping) {
          io.err(`train: stopped at step ${step} as asked (--stop-at); continue with --resume`);
          return;
        }
        if (step >= options.steps) break;
      }
      if (served === 0 && step < options.steps) throw new Error(`--data: epoch ${epoch} served no batch (every image filtered out or fewer images than one batch)`);
      epoch++;
      skip = 0;
    }
    const elapsedS = elapsedBefore + (performance.now() - t0) / 1000;
    const finalVal = flags.validateEvery > 0 ? await validate() : {};
    await saveDiscoModel(model, path.join(out, 'model'), {
      trainedWith: 'disco train',
      gitCommit: run.run.gitCommit,
      date: new Date().toISOString(),
      config: flags.config,
      steps: options.steps,
      batchSize: flags.batchSize,
      learningRate: options.learningRate,
      seed: flags.seed,
      perceptual: run.perceptual,
      spixnet: flags.spixnet ?? null,
      backend: backend.name,
      machine: run.run.machine,
      trainingTime: formatDuration(elapsedS),
      trainingImages: ds.files.length,
      pixelWeight: options.pixelWeight,
      lastLosses,
      validation: finalVal,
    });
    io.out(JSON.stringify({ steps: options.steps, trainingTime: formatDuration(elapsedS), lastLosses, validation: finalVal, model: path.join(out, 'model') }));
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// colorize

interface ColorizeFlags {
  output: string;
  model?: string;
  anchors?: number;
  diverse?: boolean;
  showAnchors?: boolean;
  anchorsFile?: string;
  seed: number;
  mode: 'resize' | 'pad';
  backend?: string;
  oracle?: string;
}

const IMAGE_EXT = /\.(png|jpe?g|webp|tiff?|gif)$/i;

function expandInputs(inputs: string[]): string[] {
  const files: string[] = [];
  for (const p of inputs) {
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
      files.push(...(fs.readdirSync(p, { recursive: true }) as string[]).filter((f) => IMAGE_EXT.test(f)).sort().map((f) => path.join(p, f)));
    } else {
      files.push(p);
    }
  }
  return files;
}

/**
 * `--oracle <image|folder>`: the color original of each input. A file serves a single input; in a
 * folder the original is the image with the input's base name (any extension; must be unique).
 */
function oracleLookup(spec: string, files: string[]): (file: string) => string {
  if (!fs.existsSync(spec)) throw new Error(`--oracle: '${spec}' does not exist`);
  if (!fs.statSync(spec).isDirectory()) {
    if (files.length !== 1) throw new Error(`--oracle: a single image serves a single input, got ${files.length} inputs (give a folder)`);
    return () => spec;
  }
  const byName = new Map<string, string>();
  for (const f of expandInputs([spec])) {
    const stem = path.basename(f).replace(/\.[^.]+$/, '');
    byName.set(stem, byName.has(stem) ? '' : f); // '' marks an ambiguous name
  }
  return (file) => {
    const stem = path.basename(file).replace(/\.[^.]+$/, '');
    const hit = byName.get(stem);
    if (hit === undefined) throw new Error(`--oracle: no original for '${path.basename(file)}' in ${spec}`);
    if (hit === '') throw new Error(`--oracle: several originals named '${stem}' in ${spec}`);
    return hit;
  };
}

/** `hints.json`: `{ "<file name or *>": [{ "row": px, "col": px, "ab": [a, b] }, …] }` (pixel coordinates, Lab ab). */
function readHints(file: string): Record<string, UserAnchor[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--anchors-file: ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`--anchors-file: ${file}: expected an object mapping image names to anchor lists`);
  const out: Record<string, UserAnchor[]> = {};
  for (const [k, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw new Error(`--anchors-file: ${file}: '${k}' must be a list of {row, col, ab}`);
    out[k] = list.map((a: { row?: unknown; col?: unknown; ab?: unknown }, i) => {
      if (typeof a?.row !== 'number' || typeof a?.col !== 'number' || !Array.isArray(a.ab) || a.ab.length !== 2) throw new Error(`--anchors-file: ${file}: '${k}'[${i}] must be {row: number, col: number, ab: [a, b]}`);
      return { row: a.row, col: a.col, units: 'pixel' as const, ab: [Number(a.ab[0]), Number(a.ab[1])] as [number, number] };
    });
  }
  return out;
}

/** Paints a ring marker (white outside, black inside, the anchor color at the centre) per anchor. */
function drawAnchors(rgb: Float32Array, H: number, W: number, anchors: Array<{ row: number; col: number; ab: [number, number] }>, L: Float32Array): void {
  const r = Math.max(3, Math.round(Math.min(H, W) / 64));
  for (const a of anchors) {
    const cy = Math.round(a.row);
    const cx = Math.round(a.col);
    // The anchor's color at the pixel's lightness, through the same Lab conversion.
    const color = tf.tidy(() => normalizedLabToRgb(tf.tensor4d([L[cy * W + cx]!], [1, 1, 1, 1]), tf.tensor4d([a.ab[0] / 110, a.ab[1] / 110], [1, 1, 1, 2])).dataSync());
    for (let y = cy - r - 2; y <= cy + r + 2; y++)
      for (let x = cx - r - 2; x <= cx + r + 2; x++) {
        if (y < 0 || y >= H || x < 0 || x >= W) continue;
        const d = Math.hypot(y - cy, x - cx);
        const i = (y * W + x) * 3;
        const c = d <= r - 1 ? [color[0]!, color[1]!, color[2]!] : d <= r ? [0, 0, 0] : d <= r + 1.5 ? [1, 1, 1] : null;
        if (c) [rgb[i], rgb[i + 1], rgb[i + 2]] = c as [number, number, number];
      }
  }
}

async function colorize(inputs: string[], flags: ColorizeFlags, io: CliIo): Promise<number> {
  await setupBackendForCli(flags.backend, io.err);
  const modelDir = flags.model ? path.resolve(flags.model) : embeddedModelDir();
  const model = loadDiscoModel(modelDir);
  const hints = flags.anchorsFile ? readHints(flags.anchorsFile) : null;
  const files = expandInputs(inputs);
  if (files.length === 0) throw new Error('colorize: no input images');
  const oracleFor = flags.oracle ? oracleLookup(flags.oracle, files) : null;
  fs.mkdirSync(flags.output, { recursive: true });
  const variants: ColorVariant[] = flags.diverse ? [0, 1, 2] : [0];
  const progress = new Progress({ total: files.length, label: 'colorize', write: io.err, intervalMs: 1000 });
  let failed = 0;
  const results: Array<Record<string, unknown>> = [];
  const usedNames = new Set<string>();
  for (const [i, file] of files.entries()) {
    try {
      const rgb = await readImage(file);
      const [H, W] = rgb.shape;
      let oracle: tf.Tensor4D | undefined;
      if (oracleFor) {
        const truth = await readImage(oracleFor(file));
        if (truth.shape[0] !== H || truth.shape[1] !== W) {
          truth.dispose();
          throw new Error(`--oracle: ${oracleFor(file)} is ${truth.shape[1]}×${truth.shape[0]}, the input ${W}×${H}`);
        }
        oracle = tf.tidy(() => rgbToNormalizedLab(tf.expandDims(truth, 0) as tf.Tensor4D).ab);
        truth.dispose();
      }
      const { L } = tf.tidy(() => {
        const lab = rgbToNormalizedLab(tf.expandDims(rgb, 0) as tf.Tensor4D);
        tf.dispose(lab.ab);
        return { L: lab.L };
      });
      rgb.dispose();
      // Same base name from two folders: suffix _2, _3… instead of overwriting.
      const stem = path.basename(file).replace(/\.[^.]+$/, '');
      let base = stem;
      for (let k = 2; usedNames.has(base); k++) base = `${stem}_${k}`;
      usedNames.add(base);
      const user = hints ? (hints[path.basename(file)] ?? hints['*']) : undefined;
      const res = colorizeL(model, L as tf.Tensor4D, { mode: flags.mode, anchors: flags.anchors, variants, seed: flags.seed, userAnchors: user, oracle });
      oracle?.dispose();
      const written: string[] = [];
      for (const r of res) {
        const out = tf.tidy(() => tf.squeeze(normalizedLabToRgb(L as tf.Tensor4D, r.ab), [0]) as tf.Tensor3D);
        let img = out;
        if (flags.showAnchors) {
          const data = out.dataSync().slice() as Float32Array;
          drawAnchors(data, H, W, r.anchors, (L as tf.Tensor).dataSync() as Float32Array);
          img = tf.tensor3d(data, [H, W, 3]);
          out.dispose();
        }
        const name = path.join(flags.output, `${base}${flags.diverse ? `_T${r.variant}` : ''}.png`);
        await writeImage(name, img);
        img.dispose();
        r.ab.dispose();
        written.push(name);
      }
      (L as tf.Tensor).dispose();
      results.push({ input: file, outputs: written, anchors: res[0]?.anchors.length ?? 0 });
    } catch (e) {
      failed++;
      io.err(`colorize: ${file}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
      results.push({ input: file, error: (e as Error).message.split('\n')[0] });
    }
    progress.update(i + 1, { failed });
  }
  model.dispose();
  writeJsonAtomic(path.join(flags.output, 'colorize.json'), { model: modelDir, seed: flags.seed, mode: flags.mode, diverse: !!flags.diverse, results });
  io.out(`colorized ${files.length - failed}/${files.length} images into ${flags.output}${failed ? ` (${failed} failed)` : ''}`);
  return failed;
}

// ---------------------------------------------------------------------------------------------
// export

/** Turns a run's checkpoint into a model folder (e.g. to use a run that is still going). */
async function exportCheckpoint(run: string, outDir: string, io: CliIo): Promise<void> {
  const dir = path.join(path.resolve(run), CKPT);
  const sf = path.join(dir, 'state.json');
  if (!fs.existsSync(sf)) throw new Error(`--run: no checkpoint in '${dir}'`);
  const state = JSON.parse(fs.readFileSync(sf, 'utf8')) as CheckpointState & { specs: tf.io.WeightsManifestEntry[] };
  const buf = fs.readFileSync(path.join(dir, 'weights.bin'));
  const named = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), state.specs);
  const weights: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(named)) if (k.startsWith('model:')) weights[k.slice(6)] = v;
  const model = DiscoModel.create(state.config);
  try {
    model.setNamedWeights(weights);
    await saveDiscoModel(model, outDir, { exportedFrom: dir, step: state.step, steps: state.options.steps, seed: state.options.seed, lastLosses: state.lastLosses, trainingTime: formatDuration(state.elapsedS) });
  } finally {
    model.dispose();
    tf.dispose(Object.values(named));
  }
  io.out(`exported step ${state.step} of ${dir} to ${outDir}`);
}

// ---------------------------------------------------------------------------------------------
// params

function params(config: 'paper' | 'tiny', io: CliIo): void {
  const model = DiscoModel.create(resolveDiscoConfig({}, config));
  const c = model.countParams();
  model.dispose();
  io.out(`| block | parameters |\n|---|---:|`);
  for (const [k, v] of Object.entries(c)) io.out(`| ${k} | ${v.toLocaleString('en')} |`);
  if (config === 'paper') io.out(`\npaper model: ${(c.total / 1e6).toFixed(2)} M parameters (published layer plan: 43.1 M; difference ${((100 * (c.total - 43.1e6)) / 43.1e6).toFixed(2)} %)`);
}

// ---------------------------------------------------------------------------------------------

/** The `disco` program (commander), wired to `io`. */
export function buildDiscoProgram(io: CliIo = defaultIo): Command {
  const program = new Command('disco').description('DISCO: disentangled image colorization via global anchors').exitOverride();
  program.configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  program
    .command('train')
    .description('stage-2 training of the colorization model on a folder or list of photos')
    .option('--config <preset>', 'model preset: tiny or paper', 'tiny')
    .requiredOption('--data <paths...>', 'folders or list files of training photos')
    .option('--out <dir>', 'run folder: checkpoint/, model/, log.jsonl, run.json', 'runs/disco')
    .option('--steps <n>', 'optimisation steps', intArg('--steps', 1), 2000)
    .option('--batch-size <n>', 'images per batch', intArg('--batch-size', 1), 8)
    .option('--lr <rate>', 'initial Adam learning rate (linear decay to 1 %)', numArg('--lr'), 2e-4)
    .option('--seed <n>', 'seed of data order, anchors and dropout', intArg('--seed', 0), 0)
    .option('--spixnet <dir>', 'trained SPixNet folder (model.json), or a DISCO model folder whose SPixNet is reused')
    .option('--perceptual <net>', 'perceptual feature network: inception (nsfwjs InceptionV3 stem) or none', 'inception')
    .option('--laplacian <w>', 'weight of the Laplacian-gradient L1 (0: off)', Number, 0)
    .option('--pixel <w>', 'weight of a direct L1 on ab/110 (0: off, as in the paper)', Number, 0)
    .option('--anchors <k>', 'number of anchors K', intArg('--anchors', 1))
    .option('--ablation <names...>', 'random-anchors, no-anchor-branch, hard-superpixels, no-refinement')
    .option('--hint-encoding <enc>', 'anchor colors into the generator: onehot (paper) or soft (Gaussian over nearby bins)')
    .option('--hint-broadcast', 'every token also receives the color of its nearest anchor (locator features)')
    .option('--residual-refinement', 'refinement predicts a residual on the diffused decoded generator colors')
    .option('--decode-temperature <t>', 'annealed-mean temperature of the generator decoding (1: mean; 0.38: Zhang et al.)', numArg('--decode-temperature'))
    .option('--validate-every <n>', 'steps between validations (0: never)', intArg('--validate-every', 0), 200)
    .option('--validation-batches <n>', 'batches per validation', intArg('--validation-batches', 1), 4)
    .option('--checkpoint-every <n>', 'steps between checkpoints', intArg('--checkpoint-every', 1), 100)
    .option('--resume', 'continue from <out>/checkpoint')
    .option('--stop-at <step>', 'checkpoint and stop once this step is done (time-boxed sessions; continue with --resume)', intArg('--stop-at', 1))
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu (default $DISCO_BACKEND or auto)')
    .action(async (flags: TrainFlags) => train(flags, io));
  program
    .command('colorize')
    .description('colorize images (files or folders); writes PNGs and colorize.json')
    .argument('<inputs...>', 'image files or folders')
    .requiredOption('-o, --output <dir>', 'output folder')
    .option('--model <dir>', 'model folder (default: the embedded tiny model)')
    .option('--anchors <k>', 'number of anchors', intArg('--anchors', 1))
    .option('--diverse', 'three results from anchor color samplings T = 0, 1, 2')
    .option('--show-anchors', 'mark the anchors on the output')
    .option('--anchors-file <file>', 'user anchors: {"<image name>|*": [{"row", "col", "ab": [a, b]}]} in pixels / Lab')
    .option('--seed <n>', 'seed of anchor placement', intArg('--seed', 0), 0)
    .option('--mode <mode>', 'resize (model size, ab upsampled) or pad (full resolution)', 'resize')
    .option('--oracle <image|folder>', 'oracle anchors: locate and color the anchors from these color originals (matched by name): the upper bound')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .action(async (inputs: string[], flags: ColorizeFlags) => {
      if (flags.mode !== 'resize' && flags.mode !== 'pad') throw new InvalidArgumentError(`--mode must be resize or pad; got '${flags.mode}'`);
      const failed = await colorize(inputs, flags, io);
      if (failed > 0) process.exitCode = 2;
    });
  program
    .command('export')
    .description("write a run's latest checkpoint as a model folder")
    .requiredOption('--run <dir>', 'training run folder (with checkpoint/)')
    .requiredOption('-o, --output <dir>', 'model folder to write')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .action(async (flags: { run: string; output: string; backend?: string }) => {
      await setupBackendForCli(flags.backend, io.err);
      await exportCheckpoint(flags.run, flags.output, io);
    });
  program
    .command('params')
    .description('parameter count per block of a preset')
    .option('--config <preset>', 'tiny or paper', 'paper')
    .action(async (flags: { config: 'paper' | 'tiny' }) => {
      await setupBackendForCli(undefined, () => {});
      params(flags.config, io);
    });
  return program;
}

/** Runs the CLI on `argv` (without `node` and the script). */
export async function runDiscoCli(argv: string[], io: CliIo = defaultIo): Promise<void> {
  await buildDiscoProgram(io).parseAsync(argv, { from: 'user' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runDiscoCli(process.argv.slice(2)).catch((e: unknown) => {
    const err = e as { exitCode?: number; code?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    if (!err.code?.startsWith('commander.')) process.stderr.write(`disco: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(err.exitCode ?? 1);
  });
}
