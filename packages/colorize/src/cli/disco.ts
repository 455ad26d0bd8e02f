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
import {
  appendLine,
  collectRunInfo,
  ensureWritableDir,
  FileWriteError,
  formatDuration,
  listFilesRecursive,
  loadCheckpoint,
  nodeFileSystem,
  Progress,
  removeStaleTemps,
  saveCheckpoint,
  setupBackendForCli,
  UNWRITABLE_CODES,
  writeFileAtomic,
  writeJsonAtomic,
  type FileSystem,
} from '@disco/runtime/node';
import { PhotoDataset } from '../data/dataset.js';
import { composeRgb8, drawAnchorMarkers, labAtModelSize, labFull, type Rgb8Image } from '../io/banded.js';
import { decodeRgb8, readImageSize, writePng8 } from '../io/image.js';
import { checkFiniteWeights, embeddedModelDir, loadDiscoModel, MODEL_FILES, saveDiscoModel } from '../io/model_files.js';
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
const CKPT_WEIGHTS = 'weights.bin';

/** What `state.json` of a checkpoint holds (the shared scheme adds `integrity`). */
type StoredState = CheckpointState & { specs: tf.io.WeightsManifestEntry[] };

/**
 * Commits `<out>/checkpoint/` (weights of the model and of Adam, plus the state) with the shared
 * atomic, checksummed scheme of `@disco/runtime/node` ({@link saveCheckpoint}).
 */
async function writeCheckpoint(out: string, model: DiscoModel, trainer: Stage2Trainer, state: Omit<CheckpointState, 'optimizerNames' | 'format'>, files: FileSystem): Promise<void> {
  const opt = await trainer.optimizerState();
  const named: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(model.namedWeights())) named[`model:${k}`] = v;
  opt.forEach((w, i) => (named[`opt:${i}`] = w.tensor));
  const { data, specs } = await tf.io.encodeWeights(named);
  const stored: StoredState = { ...state, format: 'disco-checkpoint-v1', optimizerNames: opt.map((w) => w.name), specs };
  saveCheckpoint(out, { [CKPT_WEIGHTS]: new Uint8Array(data) }, stored, { fs: files });
}

/** A checkpoint read and checked by {@link readCheckpointFiles}. */
interface LoadedDiscoCheckpoint {
  dir: string;
  state: StoredState;
  weights: ArrayBuffer;
}

/**
 * Reads `<run>/checkpoint/` (completing an interrupted commit when `repair`), verifies the sha256
 * of its files, and checks the state and the weights (size against the specs, all finite).
 * Errors are one line starting with `flag` and naming the file.
 */
function readCheckpointFiles(run: string, flag: string, files: FileSystem, log: (l: string) => void, repair: boolean): LoadedDiscoCheckpoint {
  const dir = path.join(run, CKPT);
  let ck: ReturnType<typeof loadCheckpoint<StoredState>>;
  try {
    ck = loadCheckpoint<StoredState>(run, { fs: files, legacyFiles: [CKPT_WEIGHTS], log, repair });
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
  if (!ck) throw new Error(`${flag}: no checkpoint in '${dir}'`);
  const sf = path.join(ck.dir, 'state.json');
  const wf = path.join(ck.dir, CKPT_WEIGHTS);
  const st = ck.state;
  if (st.format !== 'disco-checkpoint-v1') throw new Error(`${flag}: ${sf}: not a DISCO checkpoint`);
  if (!Array.isArray(st.specs) || !Array.isArray(st.optimizerNames) || !st.config || !st.options) throw new Error(`${flag}: ${sf}: incomplete state (needs specs, optimizerNames, config, options)`);
  if (!ck.verified) log(`checkpoint: ${ck.dir} has no checksums (written by an older version); sizes are checked only`);
  const bytes = ck.files[CKPT_WEIGHTS]!;
  const need = st.specs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (bytes.byteLength !== need) throw new Error(`${flag}: ${wf}: ${bytes.byteLength} bytes, state.json needs ${need} (truncated or damaged)`);
  const weights = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  try {
    checkFiniteWeights(weights, st.specs, wf);
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
  return { dir: ck.dir, state: st, weights };
}

/** Sets the model and optimizer state from a checkpoint; errors name the weights file. */
async function applyCheckpoint(ck: LoadedDiscoCheckpoint, model: DiscoModel, trainer: Stage2Trainer): Promise<void> {
  const wf = path.join(ck.dir, CKPT_WEIGHTS);
  const named = tf.io.decodeWeights(ck.weights, ck.state.specs);
  try {
    const weights: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(named)) if (k.startsWith('model:')) weights[k.slice(6)] = v;
    model.setNamedWeights(weights);
    const opt = ck.state.optimizerNames.map((name, i) => {
      const tensor = named[`opt:${i}`];
      if (!tensor) throw new Error(`no optimizer weight opt:${i} (${name})`);
      return { name, tensor };
    });
    await trainer.setOptimizerState(opt);
  } catch (e) {
    throw new Error(`--resume: ${wf}: ${String((e as Error).message).split('\n')[0]}`);
  } finally {
    tf.dispose(Object.values(named).filter((t) => !t.isDisposed));
  }
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
  const files = io.fs ?? nodeFileSystem;
  let resumeState: CheckpointState | null = null;
  let resumeFrom: LoadedDiscoCheckpoint | null = null;
  if (flags.resume) {
    resumeFrom = readCheckpointFiles(out, '--resume', files, io.err, true);
    resumeState = resumeFrom.state;
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
  if (spixDir !== null && !fs.existsSync(spixDir)) throw new Error(`--spixnet: '${spixDir}' does not exist`);
  if (spixDir !== null && !fs.statSync(spixDir).isDirectory()) throw new Error(`--spixnet: '${spixDir}' is not a folder`);
  const fromDisco = spixDir !== null && fs.existsSync(path.join(spixDir, MODEL_FILES.json));
  if (spixDir !== null && !fromDisco && !fs.existsSync(path.join(spixDir, 'model.json'))) throw new Error(`--spixnet: no model.json (SPixNet) or ${MODEL_FILES.json} (DISCO model) in '${spixDir}'`);
  const spix = spixDir && !fromDisco ? await loadNet(spixDir, '--spixnet') : null;
  if (spix && spix.config.widths.length === 0) throw new Error('--spixnet: empty network');
  const model = DiscoModel.create(config, spix ?? SpixNet.create({ seed: config.seed }, config.spixnetPreset));
  if (fromDisco) {
    let src: DiscoModel;
    try {
      src = loadDiscoModel(spixDir);
    } catch (e) {
      model.dispose();
      throw new Error(`--spixnet: ${(e as Error).message.replace(/^--model: /, '')}`);
    }
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
  if (resumeState && resumeFrom) {
    await applyCheckpoint(resumeFrom, model, trainer);
    start = resumeState.step;
    elapsedBefore = resumeState.elapsedS;
    io.err(`train: resumed from step ${start} (${path.join(out, CKPT)})`);
  }
  const sources = flags.data.map((d) => path.resolve(d));
  const ds = await PhotoDataset.create({ sources, size: config.imageSize, batchSize: flags.batchSize, seed: flags.seed, split: 'train', output: 'lab' });
  // A small data set may hold out no photo at all: train anyway, without validation.
  const val = await PhotoDataset.create({ sources, size: config.imageSize, batchSize: flags.batchSize, seed: flags.seed, split: 'validation', output: 'lab', flip: false, dropRemainder: false }).catch((e: Error) => {
    if (!/no images in split/.test(e.message)) throw e;
    return null;
  });
  if (!val && flags.validateEvery > 0) io.err('train: warning: the validation split is empty (too few photos); validation is skipped');
  const perEpoch = Math.floor(ds.files.length / flags.batchSize);
  if (perEpoch < 1) throw new Error(`--data: ${ds.files.length} training images are fewer than one batch of ${flags.batchSize}`);
  const run = {
    command: 'disco train',
    run: collectRunInfo(),
    backend: backend.name,
    config,
    options,
    flags: { ...flags, data: sources },
    data: { train: ds.files.length, validation: val?.files.length ?? 0, batchesPerEpochAtMost: perEpoch },
    perceptual: featureNet?.name ?? 'none',
    spixnet: flags.spixnet ?? null,
    params: model.countParams(),
  };
  fs.mkdirSync(out, { recursive: true });
  // Temporary files a killed run left in the model folder (the checkpoint's are recovered, not removed, by the checkpoint scheme).
  removeStaleTemps(path.join(out, 'model'), files);
  writeJsonAtomic(path.join(out, resumeState ? `run.resume-${start}.json` : 'run.json'), run);
  io.err(`train: config ${flags.config}, ${run.params.total.toLocaleString('en')} parameters, ${ds.files.length} training / ${val?.files.length ?? 0} validation images, ≤ ${perEpoch} batches per epoch, seed ${flags.seed}, commit ${run.run.gitCommit.slice(0, 10)}`);
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
    if (!val) return {};
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
    // A checkpoint taken after an epoch's last batch records dataIndex = that epoch's batch count:
    // the resumed loop skips the whole epoch and goes on with the next.
    let epoch = resumeState?.dataEpoch ?? 0;
    let skip = resumeState?.dataIndex ?? 0;
    let reported = 0;
    const reportSkipped = (): void => {
      const bad = [...ds.skipped];
      for (const [file, why] of bad.slice(reported)) io.err(`train: warning: skipping ${file}: ${why} (${bad.length} of ${ds.files.length} training photos unreadable so far)`);
      reported = bad.length;
    };
    while (step < options.steps) {
      let index = 0;
      for await (const b of ds.batches(epoch)) {
        if (index < skip) {
          index++;
          tf.dispose([b.L!, b.ab!]);
          continue;
        }
        reportSkipped();
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
        if (val && flags.validateEvery > 0 && (step % flags.validateEvery === 0 || step === options.steps)) {
          const v = await validate();
          if (v.total === undefined) {
            const f = val.filtered();
            io.err(`validate step ${step}: no validation batch (${val.files.length} validation image(s): ${f.grey} near-grey, ${f.unreadable} unreadable); not logged`);
          } else {
            fs.appendFileSync(path.join(out, 'validation.jsonl'), `${JSON.stringify({ step, ...v })}\n`);
            io.err(`validate step ${step}: loss=${v.total.toFixed(4)} abL1=${v.abL1?.toFixed(2)}`);
          }
        }
        const stopping = flags.stopAt !== undefined && step >= flags.stopAt && step < options.steps;
        if (step % flags.checkpointEvery === 0 || step === options.steps || stopping) {
          const { resume: _r, stopAt: _s, ...kept } = flags;
          try {
            await writeCheckpoint(out, model, trainer, { step, config, options, flags: { ...kept, data: sources }, elapsedS, lastLosses, dataEpoch: epoch, dataIndex: index }, files);
          } catch (e) {
            if (e instanceof FileWriteError) throw new Error(`train: checkpoint at step ${step} not written: ${e.message}; ${lastCheckpoint > 0 ? `the checkpoint of step ${lastCheckpoint} is kept in ${path.join(out, CKPT)}` : 'no checkpoint yet'}`);
            throw e;
          }
          lastCheckpoint = step;
        }
        if (stopping) {
          io.err(`train: stopped at step ${step} as asked (--stop-at); continue with --resume`);
          return;
        }
        if (step >= options.steps) break;
      }
      reportSkipped();
      if (index === 0 && step < options.steps) {
        const f = ds.filtered();
        throw new Error(`--data: epoch ${epoch} served no batch: of ${ds.files.length} training photos ${f.grey} are near-grey and ${f.unreadable} unreadable, fewer than one batch of ${flags.batchSize} remain`);
      }
      if (index < skip) io.err(`train: warning: epoch ${epoch} has ${index} batches but the checkpoint recorded ${skip} consumed (the data changed since); continuing with epoch ${epoch + 1}`);
      epoch++;
      skip = 0;
    }
    const elapsedS = elapsedBefore + (performance.now() - t0) / 1000;
    const finalVal = flags.validateEvery > 0 ? await validate() : {};
    await saveDiscoModel(
      model,
      path.join(out, 'model'),
      {
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
      },
      files,
    );
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

/**
 * Most superpixel tokens `--mode pad` runs on (4096: 512² px with the tiny model's S = 8, 1024²
 * with the paper's S = 16). The transformers' attention grows with the square of the token count:
 * the tiny model peaked at 0.83 GB of tensors for 4096 tokens on wasm, whose heap is capped at a
 * few GB; past this limit an image is refused with one line rather than aborting the backend.
 */
export const PAD_MAX_TOKENS = 4096;

/**
 * Image files of the inputs: files as given, folders searched recursively (links followed, each
 * real folder once, so a link loop lists each image once), skipping the folders in `exclude`
 * (the output folder when it lies inside an input folder).
 */
function expandInputs(inputs: string[], exclude: string[] = []): string[] {
  const files: string[] = [];
  for (const p of inputs) {
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) files.push(...listFilesRecursive(p, { filter: (f) => IMAGE_EXT.test(f), exclude }));
    else files.push(p);
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

const HINT_KEYS = ['row', 'col', 'ab'];

/** `hints.json`: `{ "<file name or *>": [{ "row": px, "col": px, "ab": [a, b] }, …] }` (pixel coordinates, Lab ab). Unknown keys are rejected by name. */
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
      if (!a || typeof a !== 'object' || Array.isArray(a)) throw new Error(`--anchors-file: ${file}: '${k}'[${i}] must be {row: number, col: number, ab: [a, b]}`);
      const unknown = Object.keys(a).filter((key) => !HINT_KEYS.includes(key));
      if (unknown.length > 0) throw new Error(`--anchors-file: ${file}: '${k}'[${i}]: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; valid: ${HINT_KEYS.join(', ')}`);
      const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
      if (!finite(a.row) || !finite(a.col) || !Array.isArray(a.ab) || a.ab.length !== 2 || !a.ab.every(finite)) throw new Error(`--anchors-file: ${file}: '${k}'[${i}] must be {row: number, col: number, ab: [a, b]}`);
      if (a.row < 0 || a.col < 0) throw new Error(`--anchors-file: ${file}: '${k}'[${i}]: row and col must be ≥ 0 (pixels); got ${a.row}, ${a.col}`);
      return { row: a.row, col: a.col, units: 'pixel' as const, ab: [Number(a.ab[0]), Number(a.ab[1])] as [number, number] };
    });
  }
  return out;
}

/** One input's entry in `colorize.json` / `colorize.jsonl`. */
type ResultEntry = { input: string; outputs: string[]; anchors: number } | { input: string; error: string };

/**
 * Colorizes one file and writes its PNG(s). Full-resolution work stays on 8-bit bytes and row
 * bands ({@link composeRgb8}); `--mode resize` gives the model an input computed band by band at
 * its own size, `--mode pad` is capped at {@link PAD_MAX_TOKENS} superpixels.
 */
async function colorizeFile(file: string, base: string, ctx: { model: DiscoModel; flags: ColorizeFlags; hints: Record<string, UserAnchor[]> | null; oracleFor: ((f: string) => string) | null; variants: ColorVariant[]; K: number; files: FileSystem }): Promise<ResultEntry> {
  const { model, flags, variants } = ctx;
  const cell = model.config.cellSize;
  if (flags.mode === 'pad') {
    const { width: W, height: H } = await readImageSize(file, {}, ctx.files);
    const unit = model.sizeMultiple();
    const tokens = ((Math.ceil(H / unit) * unit) / cell) * ((Math.ceil(W / unit) * unit) / cell);
    if (tokens > PAD_MAX_TOKENS) throw new Error(`--mode pad: ${W}×${H} px is ${tokens} superpixels, above the limit of ${PAD_MAX_TOKENS} (attention memory grows with their square); use --mode resize`);
    if (tokens < ctx.K) throw new Error(`--mode pad: ${W}×${H} px gives ${tokens} superpixels, fewer than the ${ctx.K} anchors; use --mode resize or --anchors ≤ ${tokens}`);
  }
  const img: Rgb8Image = await decodeRgb8(file, {}, ctx.files);
  const { width: W, height: H } = img;
  const S = model.config.imageSize;
  const resize = flags.mode === 'resize';
  // Model-input coordinates per input pixel.
  const sy = resize ? S / H : 1;
  const sx = resize ? S / W : 1;
  let oracle: tf.Tensor4D | undefined;
  if (ctx.oracleFor) {
    const truth = await decodeRgb8(ctx.oracleFor(file), {}, ctx.files);
    if (truth.height !== H || truth.width !== W) throw new Error(`--oracle: ${ctx.oracleFor(file)} is ${truth.width}×${truth.height}, the input ${W}×${H}`);
    oracle = resize ? labAtModelSize(truth, 'ab', S, S) : labFull(truth, 'ab');
  }
  const L = resize ? labAtModelSize(img, 'L', S, S) : labFull(img, 'L');
  const user = ctx.hints ? (ctx.hints[path.basename(file)] ?? ctx.hints['*']) : undefined;
  const userScaled = user?.map((u) => ({ ...u, row: u.row * sy, col: u.col * sx }));
  let res: ReturnType<typeof colorizeL>;
  try {
    res = colorizeL(model, L, { mode: flags.mode, anchors: flags.anchors, variants, seed: flags.seed, userAnchors: userScaled, oracle });
  } finally {
    L.dispose();
    oracle?.dispose();
  }
  const written: string[] = [];
  let anchors = 0;
  try {
    for (const r of res) {
      const rgb = composeRgb8(img, r.ab);
      const marks = r.anchors.map((a) => ({ ...a, row: Math.min(H - 1, a.row / sy), col: Math.min(W - 1, a.col / sx) }));
      if (flags.showAnchors) drawAnchorMarkers(rgb, img, marks);
      const name = path.join(path.resolve(flags.output), `${base}${flags.diverse ? `_T${r.variant}` : ''}.png`);
      await writePng8(name, rgb, W, H, ctx.files);
      written.push(name);
      anchors = anchors || marks.length;
    }
  } finally {
    tf.dispose(res.map((r) => r.ab));
  }
  return { input: file, outputs: written, anchors: res[0]?.anchors.length ?? anchors };
}

async function colorize(inputs: string[], flags: ColorizeFlags, io: CliIo): Promise<number> {
  const files = io.fs ?? nodeFileSystem;
  await setupBackendForCli(flags.backend, io.err);
  const output = path.resolve(flags.output);
  const modelDir = flags.model ? path.resolve(flags.model) : embeddedModelDir();
  const hints = flags.anchorsFile ? readHints(flags.anchorsFile) : null;
  const inputsFound = expandInputs(inputs, [output]);
  if (inputsFound.length === 0) throw new Error('colorize: no input images');
  if (hints) {
    const names = new Set(inputsFound.map((f) => path.basename(f)));
    for (const k of Object.keys(hints)) if (k !== '*' && !names.has(k)) io.err(`colorize: warning: --anchors-file: '${k}' names no input image (keys are file names, or '*')`);
  }
  const oracleFor = flags.oracle ? oracleLookup(flags.oracle, inputsFound) : null;
  // Before any computing: the output folder must take files.
  ensureWritableDir(output, '-o', files);
  removeStaleTemps(output, files);
  const model = loadDiscoModel(modelDir);
  try {
    const K = flags.anchors ?? model.config.anchors;
    const tokens = (model.config.imageSize / model.config.cellSize) ** 2;
    if (flags.mode === 'resize' && K > tokens) throw new Error(`--anchors: ${K} is more than the ${tokens} superpixels of the model's ${model.config.imageSize}² input`);
    const jsonl = path.join(output, 'colorize.jsonl');
    const manifest = path.join(output, 'colorize.json');
    writeFileAtomic(jsonl, '', { fs: files });
    const variants: ColorVariant[] = flags.diverse ? [0, 1, 2] : [0];
    const progress = new Progress({ total: inputsFound.length, label: 'colorize', write: io.err, intervalMs: 1000 });
    let failed = 0;
    let stopped: string | null = null;
    const results: ResultEntry[] = [];
    const usedNames = new Set<string>();
    let lastManifest = -Infinity;
    const writeManifest = (complete: boolean): void => {
      writeJsonAtomic(manifest, { model: modelDir, seed: flags.seed, mode: flags.mode, diverse: !!flags.diverse, complete, results }, { fs: files });
      lastManifest = performance.now();
    };
    for (const [i, file] of inputsFound.entries()) {
      // Same base name from two folders: suffix _2, _3… instead of overwriting.
      const stem = path.basename(file).replace(/\.[^.]+$/, '');
      let base = stem;
      for (let k = 2; usedNames.has(base); k++) base = `${stem}_${k}`;
      usedNames.add(base);
      let entry: ResultEntry;
      try {
        entry = await colorizeFile(file, base, { model, flags, hints, oracleFor, variants, K, files });
      } catch (e) {
        failed++;
        const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
        io.err(`colorize: ${msg.includes(file) ? msg : `${file}: ${msg}`}`);
        entry = { input: file, error: msg };
        if (e instanceof FileWriteError && UNWRITABLE_CODES.includes(e.code ?? '')) stopped = msg;
      }
      results.push(entry);
      progress.update(i + 1, { failed });
      try {
        appendLine(jsonl, JSON.stringify(entry), { fs: files });
        if (!stopped && performance.now() - lastManifest >= 2000 && i + 1 < inputsFound.length) writeManifest(false);
      } catch (e) {
        stopped ??= (e as Error).message;
        io.err(`colorize: ${(e as Error).message}`);
      }
      if (stopped) break;
    }
    const notAttempted = inputsFound.length - results.length;
    for (const file of inputsFound.slice(results.length)) results.push({ input: file, error: `not attempted: ${stopped}` });
    try {
      writeManifest(notAttempted === 0);
    } catch (e) {
      io.err(`colorize: ${(e as Error).message}`);
    }
    const done = results.length - failed - notAttempted;
    io.out(`colorized ${done}/${inputsFound.length} images into ${flags.output}${failed ? ` (${failed} failed)` : ''}${notAttempted ? `; stopped, ${notAttempted} not attempted: the output folder takes no more files (${stopped})` : ''}`);
    return failed + notAttempted;
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// export

/** Turns a run's checkpoint into a model folder (e.g. to use a run that is still going). */
async function exportCheckpoint(run: string, outDir: string, io: CliIo): Promise<void> {
  const ck = readCheckpointFiles(path.resolve(run), '--run', io.fs ?? nodeFileSystem, io.err, false);
  const { state } = ck;
  const named = tf.io.decodeWeights(ck.weights, state.specs);
  const weights: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(named)) if (k.startsWith('model:')) weights[k.slice(6)] = v;
  const model = DiscoModel.create(state.config);
  try {
    model.setNamedWeights(weights);
    await saveDiscoModel(model, outDir, { exportedFrom: ck.dir, step: state.step, steps: state.options.steps, seed: state.options.seed, lastLosses: state.lastLosses, trainingTime: formatDuration(state.elapsedS) }, io.fs ?? nodeFileSystem);
  } finally {
    model.dispose();
    tf.dispose(Object.values(named));
  }
  io.out(`exported step ${state.step} of ${ck.dir} to ${outDir}`);
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
      if (flags.mode !== 'resize' && flags.mode !== 'pad') throw new Error(`--mode must be resize or pad; got '${flags.mode}'`);
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

/**
 * What the `disco` command prints for an error that ended it, and its exit status: `disco:
 * <message>` (one line), except for errors commander has already printed (its own parse errors,
 * whose messages start with `error:`) and help or version output (exit 0).
 */
export function describeCliError(e: unknown): { line: string | null; exitCode: number } {
  const err = e as { exitCode?: number; code?: string; message?: string };
  if (err?.code === 'commander.helpDisplayed' || err?.code === 'commander.version' || err?.code === 'commander.help') return { line: null, exitCode: 0 };
  const printed = typeof err?.code === 'string' && err.code.startsWith('commander.') && String(err.message).startsWith('error:');
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return { line: printed ? null : `disco: ${message}`, exitCode: err?.exitCode ?? 1 };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runDiscoCli(process.argv.slice(2)).catch((e: unknown) => {
    const { line, exitCode } = describeCliError(e);
    if (line) process.stderr.write(`${line}\n`);
    process.exit(exitCode);
  });
}
