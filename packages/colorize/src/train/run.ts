/**
 * Stage-2 training of DISCO (Xia et al. 2022, §3.4) as a library: one resumable loop over a photo
 * folder with hooks for progress, validation, checkpoints and stopping. `disco train` and the
 * ablation grid both call {@link trainDisco}; a researcher can call it directly.
 *
 * A run folder holds `run.json` (resolved config, options, provenance), `log.jsonl` (one line per
 * step), `validation.jsonl`, `checkpoint/` (weights of the model and of Adam, data position; the
 * atomic checksummed scheme of `@disco/runtime/node`) and, when finished, `model/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { SpixNet } from '@disco/superpixel';
import {
  collectRunInfo,
  FileWriteError,
  formatDuration,
  loadCheckpoint,
  nodeFileSystem,
  Progress,
  removeStaleTemps,
  saveCheckpoint,
  writeFileAtomic,
  writeJsonAtomic,
  type FileSystem,
} from '@disco/runtime/node';
import { PhotoDataset } from '@disco/photos';
import { checkFiniteWeights, loadDiscoModel, MODEL_FILES, saveDiscoModel } from '../io/model_files.js';
import { extensionsOf, resolveStoredConfig, type DiscoConfig } from '../model/config.js';
import { createColorizationModel, type ColorizationModel } from '../model/baseline.js';
import type { FrozenNetwork } from '../model/frozen.js';
import { loadPerceptualNetwork } from '../model/perceptual.js';
import { loadPretrainedFeatures } from '../model/pretrained.js';
import type { ParamCounts } from '../model/params.js';
import { loadSpixNet } from '@disco/superpixel/node';
import { ParallelStage2Trainer } from './parallel.js';
import { perceptualWeightFor, TRAIN_DEFAULTS, type TrainDefaults } from './defaults.js';
import { resolveStage2Options, Stage2Trainer, type Stage2Batch, type Stage2Losses, type Stage2Options, type Stage2OptionsOverrides } from './stage2.js';

/** What one stage-2 run trains, on what, and where it writes. */
export interface TrainDiscoSpec {
  /** The resolved model config (on resume the checkpoint's config is used). */
  config: DiscoConfig;
  /** Folders or list files of training photos (absolute or relative to the process folder). */
  data: string[];
  /** Run folder. */
  out: string;
  /** Stage-2 options (steps, learning rate, loss weights, seed). */
  options: Stage2OptionsOverrides;
  /** Images per batch. Default: {@link TRAIN_DEFAULTS}. */
  batchSize?: number;
  /** Steps between validations (0: never). Default: {@link TRAIN_DEFAULTS}. */
  validateEvery?: number;
  /** Batches per validation. Default: {@link TRAIN_DEFAULTS}. */
  validationBatches?: number;
  /** Steps between checkpoints. Default: {@link TRAIN_DEFAULTS}. */
  checkpointEvery?: number;
  /** A SPixNet folder (`model.json`) or a DISCO model folder whose SPixNet is reused; absent: untrained. */
  spixnet?: string | null;
  /** Perceptual feature network name (`none` or a registered one). Default: {@link TRAIN_DEFAULTS}. */
  perceptual?: string;
  /** Continue from `<out>/checkpoint`. */
  resume?: boolean;
  /**
   * Start over in a run folder that holds a run (its checkpoint, model, logs are removed first).
   * Without it (and without `resume`) such a folder is refused, so a finished run is never wiped
   * by accident.
   */
  overwrite?: boolean;
  /**
   * Names of `record` entries (for the CLI: flags, as `--lr` or `lr`) that may differ from the
   * checkpoint's on `resume`. Any other difference is refused, naming the flag.
   */
  allowChanged?: readonly string[];
  /** Checkpoint and return once this step is done (time-boxed sessions). */
  stopAt?: number;
  /** Backend name, recorded in the run's provenance. */
  backend?: string;
  /**
   * Threads per step (data parallel, {@link ParallelStage2Trainer}): the batch is split into this
   * many shards, one per thread, and the gradients averaged. Default: {@link TRAIN_DEFAULTS}. Not with a perceptual network.
   */
  workers?: number;
  /** Extra JSON recorded in `run.json` and each checkpoint (e.g. the command line's flags). */
  record?: Record<string, unknown>;
  /** Name of the command or caller, recorded in `run.json` and the model card. Default `trainDisco`. */
  command?: string;
}

/** One finished step, as passed to {@link TrainDiscoHooks.onStep}. */
export interface TrainStepReport {
  /** Steps done (1-based count). */
  step: number;
  /** Loss terms of this step. */
  losses: Stage2Losses;
  /** Learning rate used. */
  learningRate: number;
  /** Wall milliseconds of the step. */
  ms: number;
}

/** Hooks of {@link trainDisco}; every one is optional. */
export interface TrainDiscoHooks {
  /** Warnings and status lines (default: stderr). */
  log?: (line: string) => void;
  /** Progress lines with rate and ETA (default: `log`; `null`: none). */
  progress?: ((line: string) => void) | null;
  /** After every step. */
  onStep?: (report: TrainStepReport) => void;
  /** After every validation, with the mean loss terms. */
  onValidation?: (step: number, losses: Partial<Stage2Losses>) => void;
  /** After every committed checkpoint. */
  onCheckpoint?: (step: number, dir: string) => void;
  /** Asked after each step: `true` checkpoints and stops (resume later with `resume: true`). */
  shouldStop?: (step: number) => boolean;
  /** File system for the run folder (tests inject faults). Default: Node's. */
  fs?: FileSystem;
}

/** What {@link trainDisco} returns. */
export interface TrainDiscoResult {
  /** `finished`: all steps done and `model/` written; `stopped`: checkpointed early (stopAt / shouldStop). */
  status: 'finished' | 'stopped';
  /** Steps done. */
  step: number;
  /** Total steps of the schedule. */
  steps: number;
  /** Seconds of training over all sessions of the run. */
  trainingS: number;
  /** Loss terms of the last step. */
  lastLosses: Stage2Losses | null;
  /** Final validation (finished runs with validation). */
  validation: Partial<Stage2Losses>;
  /** The model folder (finished runs). */
  model: string | null;
}

/** The checkpoint's state file (the shared scheme adds `integrity`). */
export interface DiscoCheckpointState {
  /** Format marker. */
  format: 'disco-checkpoint-v1';
  /** Steps done at the checkpoint. */
  step: number;
  /** The resolved model config. */
  config: DiscoConfig;
  /** The resolved stage-2 options. */
  options: Stage2Options;
  /** The spec's `record` (for the CLI: its flags). */
  flags: Record<string, unknown>;
  /** Names of the Adam state tensors, in `opt:<i>` order. */
  optimizerNames: string[];
  /** Training seconds over all sessions so far. */
  elapsedS: number;
  /** Loss terms of the last step. */
  lastLosses: Stage2Losses | null;
  /** Epoch of the data stream at the checkpoint. */
  dataEpoch: number;
  /** Batches of that epoch already consumed. */
  dataIndex: number;
  /** Weight specs of `weights.bin` (model first, then optimizer). */
  specs: tf.io.WeightsManifestEntry[];
}

/** A checkpoint read and checked by {@link readDiscoCheckpoint}. */
export interface LoadedDiscoCheckpoint {
  /** The checkpoint folder. */
  dir: string;
  /** The checked state file. */
  state: DiscoCheckpointState;
  /** Raw `weights.bin`. */
  weights: ArrayBuffer;
}

const CKPT = 'checkpoint';
const CKPT_WEIGHTS = 'weights.bin';

async function writeCheckpoint(out: string, model: ColorizationModel, trainer: Stage2Trainer, state: Omit<DiscoCheckpointState, 'optimizerNames' | 'format' | 'specs'>, files: FileSystem): Promise<void> {
  const opt = await trainer.optimizerState();
  const named: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(model.namedWeights())) named[`model:${k}`] = v;
  opt.forEach((w, i) => (named[`opt:${i}`] = w.tensor));
  const { data, specs } = await tf.io.encodeWeights(named);
  const stored: DiscoCheckpointState = { ...state, format: 'disco-checkpoint-v1', optimizerNames: opt.map((w) => w.name), specs };
  saveCheckpoint(out, { [CKPT_WEIGHTS]: new Uint8Array(data) }, stored, { fs: files });
}

/**
 * Reads `<run>/checkpoint/` (completing an interrupted commit when `repair`), verifies the sha256
 * of its files, and checks the state and the weights (size against the specs, all finite).
 * Errors are one line starting with `flag` and naming the file.
 *
 * @example
 * ```ts
 * const ck = readDiscoCheckpoint('runs/tiny', '--run');
 * console.log(ck.state.step, ck.state.config.anchors);
 * ```
 */
export function readDiscoCheckpoint(run: string, flag: string, options: { fs?: FileSystem; log?: (l: string) => void; repair?: boolean } = {}): LoadedDiscoCheckpoint {
  const files = options.fs ?? nodeFileSystem;
  const log = options.log ?? (() => {});
  const dir = path.join(run, CKPT);
  let ck: ReturnType<typeof loadCheckpoint<DiscoCheckpointState>>;
  try {
    ck = loadCheckpoint<DiscoCheckpointState>(run, { fs: files, legacyFiles: [CKPT_WEIGHTS], log, repair: options.repair ?? false });
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

/** The model of a checkpoint, DISCO or a baseline (its optimizer state is ignored); the caller disposes it. */
export function modelFromCheckpoint(ck: LoadedDiscoCheckpoint): ColorizationModel {
  const named = tf.io.decodeWeights(ck.weights, ck.state.specs);
  const weights: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(named)) if (k.startsWith('model:')) weights[k.slice(6)] = v;
  const model = createColorizationModel(resolveStoredConfig(ck.state.config));
  try {
    model.setNamedWeights(weights);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    tf.dispose(Object.values(named));
  }
  return model;
}

async function applyCheckpoint(ck: LoadedDiscoCheckpoint, model: ColorizationModel, trainer: Stage2Trainer): Promise<void> {
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

/** `batchSize` → `--batch-size`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** What a run folder holds of an earlier run (a checkpoint, its candidates, a model, a log), as paths; empty when none. */
export function runFolderContents(out: string, files: FileSystem = nodeFileSystem): string[] {
  if (!files.existsSync(out)) return [];
  let names: string[];
  try {
    names = files.readdirSync(out);
  } catch {
    return [];
  }
  return names.filter((n) => n === CKPT || n === 'model' || n === 'run.json' || n === 'log.jsonl' || n === 'validation.jsonl' || /^run\.resume-\d+\.json$/.test(n) || /^\.checkpoint\./.test(n)).sort();
}

/**
 * The entries of `now` (a run's flags) that differ from the checkpoint's `stored` ones and are not
 * in `allowed` (names as `--lr` or `lr`), as `--flag (was X, now Y)`.
 */
export function changedFlags(stored: Record<string, unknown>, now: Record<string, unknown>, allowed: readonly string[] = []): string[] {
  const ok = new Set(allowed.map((a) => flagName(a.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()))));
  const keys = [...new Set([...Object.keys(stored), ...Object.keys(now)])].sort();
  const show = (v: unknown): string => (v === undefined ? 'unset' : JSON.stringify(v));
  return keys.filter((k) => JSON.stringify(stored[k]) !== JSON.stringify(now[k]) && !ok.has(flagName(k))).map((k) => `${flagName(k)} (was ${show(stored[k])}, now ${show(now[k])})`);
}

/** Builds the model of `config` with the stage-1 network named by `spixnet` (see {@link TrainDiscoSpec.spixnet}). */
async function modelWithSpixnet(config: DiscoConfig, spixnet: string | null | undefined): Promise<ColorizationModel> {
  const spixDir = spixnet ? path.resolve(spixnet) : null;
  if (spixDir !== null && !fs.existsSync(spixDir)) throw new Error(`--spixnet: '${spixDir}' does not exist`);
  if (spixDir !== null && !fs.statSync(spixDir).isDirectory()) throw new Error(`--spixnet: '${spixDir}' is not a folder`);
  const fromDisco = spixDir !== null && fs.existsSync(path.join(spixDir, MODEL_FILES.json));
  if (spixDir !== null && !fromDisco && !fs.existsSync(path.join(spixDir, 'model.json'))) throw new Error(`--spixnet: no model.json (SPixNet) or ${MODEL_FILES.json} (DISCO model) in '${spixDir}'`);
  const spix = spixDir && !fromDisco ? await loadSpixNet(spixDir, '--spixnet') : null;
  await loadPretrainedFeatures(config);
  if (spix && spix.config.widths.length === 0) throw new Error('--spixnet: empty network');
  const model = createColorizationModel(config, spix ?? SpixNet.create({ seed: config.seed, padding: extensionsOf(config).padding }, config.spixnetPreset));
  if (fromDisco) {
    let src: ColorizationModel;
    try {
      src = await loadDiscoModel(spixDir);
    } catch (e) {
      model.dispose();
      throw new Error(`--spixnet: ${(e as Error).message.replace(/^--model: /, '')}`);
    }
    try {
      const only = (n: string) => n.startsWith('spixnet.');
      model.setNamedWeights(Object.fromEntries(Object.entries(src.namedWeights()).filter(([n]) => only(n))), { only });
    } catch (e) {
      model.dispose();
      throw new Error(`--spixnet: ${spixDir}: ${(e as Error).message}`);
    } finally {
      src.dispose();
    }
  }
  return model;
}

/**
 * A {@link TrainDiscoSpec} with its defaults applied, checked, and (on resume) its checkpoint read:
 * the run settings of {@link TrainDefaults}, and what the run trains.
 */
interface ResolvedRun extends Omit<TrainDefaults, 'preset' | 'options'> {
  /** Absolute run folder. */
  out: string;
  /** Absolute data sources. */
  sources: string[];
  /** The flags recorded in `run.json` and each checkpoint: the spec's `record` and the data. */
  flags: Record<string, unknown>;
  /** The model config (on resume, the checkpoint's). */
  config: DiscoConfig;
  /** The resolved stage-2 options. */
  options: Stage2Options;
  /** The checkpoint resumed from, or null. */
  resumeFrom: LoadedDiscoCheckpoint | null;
}

/**
 * Applies the defaults of a spec and checks it against the run folder: on `resume`, the
 * checkpoint's flags must equal the spec's (except `allowChanged`) and its model config wins;
 * otherwise a folder holding a run is refused unless `overwrite` (which clears it).
 */
function resolveRun(spec: TrainDiscoSpec, log: (l: string) => void, files: FileSystem): ResolvedRun {
  const out = path.resolve(spec.out);
  const perceptual = spec.perceptual ?? TRAIN_DEFAULTS.perceptual;
  const sources = spec.data.map((d) => path.resolve(d));
  const flags = { ...(spec.record ?? {}), data: sources };
  let config = spec.config;
  let resumeFrom: LoadedDiscoCheckpoint | null = null;
  if (spec.resume && spec.overwrite) throw new Error('--resume and --overwrite exclude each other: continue the run, or start it over');
  if (spec.resume) {
    resumeFrom = readDiscoCheckpoint(out, '--resume', { fs: files, log, repair: true });
    // `out` names where the run lives (a moved run folder resumes), not how it trains.
    const { out: _storedOut, ...stored } = resumeFrom.state.flags ?? {};
    const { out: _out, ...now }: Record<string, unknown> = flags;
    const changed = changedFlags(stored, now, spec.allowChanged);
    if (changed.length > 0) throw new Error(`--resume: ${changed.join(', ')} differ${changed.length === 1 ? 's' : ''} from the checkpoint's flags in ${path.join(out, CKPT)}; give the same flags, or name the ones to change with --allow-changed ${changed.map((c) => c.split(' ')[0]!.slice(2)).join(',')}`);
    config = resolveStoredConfig(resumeFrom.state.config);
    if (JSON.stringify(config) !== JSON.stringify(resolveStoredConfig(spec.config))) log("train: warning: --resume keeps the checkpoint's model config; a changed model flag has no effect on it");
  } else {
    const held = runFolderContents(out, files);
    if (held.length > 0 && !spec.overwrite) throw new Error(`--out: ${out} holds a training run (${held.join(', ')}); continue it with --resume, or start it over with --overwrite`);
    for (const n of held) files.rmSync(path.join(out, n), { recursive: true, force: true });
  }
  return {
    out,
    batchSize: spec.batchSize ?? TRAIN_DEFAULTS.batchSize,
    validateEvery: spec.validateEvery ?? TRAIN_DEFAULTS.validateEvery,
    validationBatches: spec.validationBatches ?? TRAIN_DEFAULTS.validationBatches,
    checkpointEvery: spec.checkpointEvery ?? TRAIN_DEFAULTS.checkpointEvery,
    perceptual,
    workers: spec.workers ?? TRAIN_DEFAULTS.workers,
    sources,
    flags,
    config,
    options: resolveStage2Options({ perceptualWeight: perceptualWeightFor(perceptual), ...spec.options }),
    resumeFrom,
  };
}

/** Checks the worker count against the batch and the perceptual network (one line naming `--workers`). */
function checkWorkers(workers: number, batchSize: number, featureNet: FrozenNetwork | null): void {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers: must be an integer ≥ 1 (got ${workers})`);
  if (workers > 1 && featureNet) throw new Error('--workers: a perceptual feature network is not supported with more than one worker (use --perceptual none)');
  if (workers > batchSize) throw new Error(`--workers: ${workers} workers need a batch of at least ${workers} images (--batch-size ${batchSize})`);
}

/** The training split and the validation split (null when it holds no photo) of a run's data. */
async function openData(run: ResolvedRun, log: (l: string) => void): Promise<{ train: PhotoDataset; validation: PhotoDataset | null }> {
  const common = { sources: run.sources, size: run.config.imageSize, batchSize: run.batchSize, seed: run.options.seed, output: 'lab' as const };
  const train = await PhotoDataset.create({ ...common, split: 'train' });
  // A small data set may hold out no photo at all: train anyway, without validation.
  const validation = await PhotoDataset.create({ ...common, split: 'validation', flip: false, dropRemainder: false }).catch((e: Error) => {
    if (!/no images in split/.test(e.message)) throw e;
    return null;
  });
  if (!validation && run.validateEvery > 0) log('train: warning: the validation split is empty (too few photos); validation is skipped');
  if (Math.floor(train.files.length / run.batchSize) < 1) throw new Error(`--data: ${train.files.length} training images are fewer than one batch of ${run.batchSize}`);
  return { train, validation };
}

/**
 * The position of a run in its training data, and the batches from there on. Epochs are consumed
 * in order; a checkpoint records (epoch, batches of it consumed) so that a resumed run replays
 * exactly the batches an uninterrupted one sees (epoch lengths vary with the grey filter). A
 * checkpoint taken after an epoch's last batch records that epoch's batch count: the resumed
 * cursor skips the whole epoch and goes on with the next.
 */
class DataCursor {
  /** Epoch being consumed. */
  epoch: number;
  /** Batches of {@link epoch} consumed (handed out). */
  index = 0;
  /** Batches of {@link epoch} to pass over (consumed before a resume). */
  private skip: number;
  private reported = 0;

  constructor(
    private readonly ds: PhotoDataset,
    private readonly log: (l: string) => void,
    start: { epoch: number; index: number } = { epoch: 0, index: 0 },
  ) {
    this.epoch = start.epoch;
    this.skip = start.index;
  }

  /** Batches, `L` `[B,H,W,1]` and `ab` `[B,H,W,2]`, epoch after epoch without end (the caller disposes each and stops). */
  async *batches(): AsyncGenerator<Stage2Batch> {
    for (;;) {
      let index = 0;
      try {
        for await (const b of this.ds.batches(this.epoch)) {
          index++;
          if (index <= this.skip) {
            tf.dispose([b.L!, b.ab!]);
            continue;
          }
          this.reportSkipped();
          this.index = index;
          yield { L: b.L!, ab: b.ab! };
        }
      } finally {
        this.reportSkipped();
      }
      if (index === 0) {
        const f = this.ds.filtered();
        throw new Error(`--data: epoch ${this.epoch} served no batch: of ${this.ds.files.length} training photos ${f.grey} are near-grey and ${f.unreadable} unreadable, fewer than one batch of ${this.ds.options.batchSize} remain`);
      }
      if (index < this.skip) this.log(`train: warning: epoch ${this.epoch} has ${index} batches but the checkpoint recorded ${this.skip} consumed (the data changed since); continuing with epoch ${this.epoch + 1}`);
      this.epoch++;
      this.index = 0;
      this.skip = 0;
    }
  }

  /** Logs the photos found unreadable since the last call. */
  private reportSkipped(): void {
    const bad = [...this.ds.skipped];
    for (const [file, why] of bad.slice(this.reported)) this.log(`train: warning: skipping ${file}: ${why} (${bad.length} of ${this.ds.files.length} training photos unreadable so far)`);
    this.reported = bad.length;
  }
}

/**
 * The mean loss terms over the first `batches` batches of the validation split (inference mode,
 * anchors seeded `seed`); empty when no batch was served.
 */
async function validate(trainer: Stage2Trainer, val: PhotoDataset, batches: number, seed: number): Promise<Partial<Stage2Losses>> {
  const sums: Record<string, number> = {};
  let n = 0;
  for await (const b of val.batches(0)) {
    if (n < batches) {
      const l = trainer.evaluate({ L: b.L!, ab: b.ab! }, seed);
      for (const [k, v] of Object.entries(l)) sums[k] = (sums[k] ?? 0) + v;
      n++;
    }
    tf.dispose([b.L!, b.ab!]);
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, n)]));
}

/**
 * The step log `<out>/log.jsonl` (one JSON line per step): on resume, the lines of the steps after
 * the checkpoint (to be replayed) are dropped; on a fresh run, an old log is removed.
 */
function prepareStepLog(out: string, resumedAt: number | null): string {
  const logFile = path.join(out, 'log.jsonl');
  if (resumedAt !== null && fs.existsSync(logFile)) {
    const kept = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l && (JSON.parse(l) as { step: number }).step < resumedAt);
    writeFileAtomic(logFile, kept.map((l) => `${l}\n`).join(''));
  } else if (resumedAt === null) {
    fs.rmSync(logFile, { force: true });
  }
  return logFile;
}

/**
 * Trains (or resumes) one stage-2 run. Anchors are located on ground-truth superpixel colors and
 * colored with the true bins, as in the paper's training; the SPixNet is frozen.
 *
 * A resumed run replays exactly the batches an uninterrupted run would see, so its weights equal
 * the uninterrupted run's bit for bit. A non-finite loss stops the run with the last good
 * checkpoint kept (error `exitCode` 3).
 *
 * @example
 * ```ts
 * const config = resolveDiscoConfig({ seed: 0, anchors: 8 }, 'tiny');
 * const r = await trainDisco(
 *   { config, data: ['photos/'], out: 'runs/k8', options: { steps: 500, learningRate: 5e-4, perceptualWeight: 0, extensions: { pixelWeight: 1 } }, spixnet: 'models/tiny' },
 *   { onStep: ({ step, losses }) => step % 100 === 0 && console.log(step, losses.total) },
 * );
 * // r.model === 'runs/k8/model' once all 500 steps are done
 * ```
 */
export async function trainDisco(spec: TrainDiscoSpec, hooks: TrainDiscoHooks = {}): Promise<TrainDiscoResult> {
  const log = hooks.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const files = hooks.fs ?? nodeFileSystem;
  const run = resolveRun(spec, log, files);
  const featureNet = run.perceptual === 'none' ? null : await loadPerceptualNetwork(run.perceptual);
  checkWorkers(run.workers, run.batchSize, featureNet);
  const model = await modelWithSpixnet(run.config, spec.spixnet);
  if (!spec.spixnet) log('train: warning: no --spixnet given; SPixNet is untrained (association ≈ uniform). Train one with `nx run superpixel:train`.');
  const trainer = new Stage2Trainer(model, run.options, featureNet);
  let par: ParallelStage2Trainer | null = null;
  try {
    if (run.resumeFrom) {
      await applyCheckpoint(run.resumeFrom, model, trainer);
      log(`train: resumed from step ${run.resumeFrom.state.step} (${path.join(run.out, CKPT)})`);
    }
    // Workers copy the model as it is now (after a resume: the checkpoint's weights).
    if (run.workers > 1) par = await ParallelStage2Trainer.create(trainer, { workers: run.workers, backend: spec.backend ?? tf.getBackend() });
    const data = await openData(run, log);
    const record = writeRunRecord(spec, run, data, featureNet, model, files);
    log(`train: ${record.params.total.toLocaleString('en')} parameters, ${record.data.train} training / ${record.data.validation} validation images, ≤ ${record.data.batchesPerEpochAtMost} batches per epoch, seed ${run.options.seed}, backend ${record.backend}, commit ${record.run.gitCommit.slice(0, 10)}`);
    const step = par ? (b: Stage2Batch, s: number) => par!.step(b, s) : async (b: Stage2Batch, s: number) => trainer.step(b, s);
    const loop = await trainSteps(spec, hooks, run, { trainer, step, data, log, files });
    if (loop.status === 'stopped') return { status: 'stopped', step: loop.step, steps: run.options.steps, trainingS: loop.elapsedS, lastLosses: loop.lastLosses, validation: {}, model: null };
    const validation = run.validateEvery > 0 && data.validation ? await validate(trainer, data.validation, run.validationBatches, run.options.seed) : {};
    const modelDir = path.join(run.out, 'model');
    await saveDiscoModel(model, modelDir, modelCard(spec, run, record, { elapsedS: loop.elapsedS, lastLosses: loop.lastLosses, validation, trainingImages: data.train.files.length }), files);
    return { status: 'finished', step: loop.step, steps: run.options.steps, trainingS: loop.elapsedS, lastLosses: loop.lastLosses, validation, model: modelDir };
  } finally {
    await par?.dispose();
    trainer.dispose();
    model.dispose();
  }
}

/** `run.json` (or `run.resume-<step>.json`): what the run trains, on what, where. */
interface RunRecord {
  command: string;
  run: ReturnType<typeof collectRunInfo>;
  backend: string;
  config: DiscoConfig;
  options: Stage2Options;
  flags: Record<string, unknown>;
  data: { train: number; validation: number; batchesPerEpochAtMost: number };
  perceptual: string;
  spixnet: string | null;
  workers: number;
  params: ParamCounts;
}

/** Writes the run's record into its folder (clearing a killed run's temporary model files) and returns it. */
function writeRunRecord(spec: TrainDiscoSpec, run: ResolvedRun, data: { train: PhotoDataset; validation: PhotoDataset | null }, featureNet: FrozenNetwork | null, model: ColorizationModel, files: FileSystem): RunRecord {
  const record: RunRecord = {
    command: spec.command ?? 'trainDisco',
    run: collectRunInfo(),
    backend: spec.backend ?? tf.getBackend(),
    config: run.config,
    options: run.options,
    flags: run.flags,
    data: { train: data.train.files.length, validation: data.validation?.files.length ?? 0, batchesPerEpochAtMost: Math.floor(data.train.files.length / run.batchSize) },
    perceptual: featureNet?.name ?? 'none',
    spixnet: spec.spixnet ?? null,
    workers: run.workers,
    params: model.countParams(),
  };
  fs.mkdirSync(run.out, { recursive: true });
  // Temporary files a killed run left in the model folder (the checkpoint's are recovered, not removed, by the checkpoint scheme).
  removeStaleTemps(path.join(run.out, 'model'), files);
  writeJsonAtomic(path.join(run.out, run.resumeFrom ? `run.resume-${run.resumeFrom.state.step}.json` : 'run.json'), record);
  return record;
}

/** The model card's facts (`meta` of the saved model). */
function modelCard(spec: TrainDiscoSpec, run: ResolvedRun, record: RunRecord, end: { elapsedS: number; lastLosses: Stage2Losses | null; validation: Partial<Stage2Losses>; trainingImages: number }): Record<string, unknown> {
  const o = run.options;
  return {
    trainedWith: record.command,
    gitCommit: record.run.gitCommit,
    date: new Date().toISOString(),
    config: (run.flags.config as string | undefined) ?? null,
    steps: o.steps,
    batchSize: run.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    perceptual: record.perceptual,
    spixnet: spec.spixnet ?? null,
    backend: record.backend,
    machine: record.run.machine,
    trainingTime: formatDuration(end.elapsedS),
    trainingImages: end.trainingImages,
    pixelWeight: o.extensions.pixelWeight,
    softTargets: o.extensions.softTargets,
    rebalance: o.extensions.rebalance,
    lastLosses: end.lastLosses,
    validation: end.validation,
  };
}

/** What {@link trainSteps} needs besides the spec: the trainer, its step (one thread or data parallel), the data. */
interface StepLoop {
  trainer: Stage2Trainer;
  /** One optimisation step at a 0-based step number. */
  step: (batch: Stage2Batch, step: number) => Promise<Stage2Losses>;
  data: { train: PhotoDataset; validation: PhotoDataset | null };
  log: (l: string) => void;
  files: FileSystem;
}

/**
 * The steps of a run from its start (or checkpoint) on: each step is logged, reported, validated
 * every `validateEvery` steps and at the last, checkpointed every `checkpointEvery` steps, at the
 * last and when stopping. Returns when every step is done or a stop was asked (then checkpointed).
 */
async function trainSteps(spec: TrainDiscoSpec, hooks: TrainDiscoHooks, run: ResolvedRun, loop: StepLoop): Promise<{ status: 'finished' | 'stopped'; step: number; elapsedS: number; lastLosses: Stage2Losses | null }> {
  const { trainer, log, files } = loop;
  const { out, options } = run;
  const val = loop.data.validation;
  const resumed = run.resumeFrom?.state ?? null;
  const start = resumed?.step ?? 0;
  const elapsedBefore = resumed?.elapsedS ?? 0;
  const logFile = prepareStepLog(out, resumed ? start : null);
  const progressWrite = hooks.progress === undefined ? log : hooks.progress;
  const progress = progressWrite ? new Progress({ total: options.steps, label: 'train', write: progressWrite, start }) : null;
  const t0 = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
  let lastLosses: Stage2Losses | null = resumed?.lastLosses ?? null;
  let lastCheckpoint = start;
  let step = start;
  if (step >= options.steps) return { status: 'finished', step, elapsedS: elapsed(), lastLosses };
  const cursor = new DataCursor(loop.data.train, log, { epoch: resumed?.dataEpoch ?? 0, index: resumed?.dataIndex ?? 0 });
  for await (const batch of cursor.batches()) {
    const ts = performance.now();
    let losses: Stage2Losses;
    try {
      losses = await loop.step(batch, step);
    } finally {
      tf.dispose([batch.L, batch.ab]);
    }
    if (!Object.values(losses).every(Number.isFinite)) {
      throw Object.assign(new Error(`train: non-finite loss at step ${step} (${JSON.stringify(losses)}); stopped. The last good checkpoint (step ${lastCheckpoint}) is kept in ${path.join(out, CKPT)}`), { exitCode: 3 });
    }
    lastLosses = losses;
    const learningRate = trainer.learningRate;
    const ms = Math.round(performance.now() - ts);
    fs.appendFileSync(logFile, `${JSON.stringify({ step, lr: learningRate, ms, ...losses })}\n`);
    step++;
    hooks.onStep?.({ step, losses, learningRate, ms });
    progress?.update(step, { loss: losses.total, ceM: losses.ceModeler, ceG: losses.ceGenerator, perc: losses.perceptual, abL1: losses.abL1 });
    const elapsedS = elapsed();
    if (val && run.validateEvery > 0 && (step % run.validateEvery === 0 || step === options.steps)) {
      const v = await validate(trainer, val, run.validationBatches, options.seed);
      if (v.total === undefined) {
        const f = val.filtered();
        log(`validate step ${step}: no validation batch (${val.files.length} validation image(s): ${f.grey} near-grey, ${f.unreadable} unreadable); not logged`);
      } else {
        fs.appendFileSync(path.join(out, 'validation.jsonl'), `${JSON.stringify({ step, ...v })}\n`);
        log(`validate step ${step}: loss=${v.total.toFixed(4)} abL1=${v.abL1?.toFixed(2)}`);
        hooks.onValidation?.(step, v);
      }
    }
    const asked = (spec.stopAt !== undefined && step >= spec.stopAt) || (hooks.shouldStop?.(step) ?? false);
    const stopping = asked && step < options.steps;
    if (step % run.checkpointEvery === 0 || step === options.steps || stopping) {
      try {
        await writeCheckpoint(out, trainer.model, trainer, { step, config: run.config, options, flags: run.flags, elapsedS, lastLosses, dataEpoch: cursor.epoch, dataIndex: cursor.index }, files);
      } catch (e) {
        if (e instanceof FileWriteError) throw new Error(`train: checkpoint at step ${step} not written: ${e.message}; ${lastCheckpoint > 0 ? `the checkpoint of step ${lastCheckpoint} is kept in ${path.join(out, CKPT)}` : 'no checkpoint yet'}`);
        throw e;
      }
      lastCheckpoint = step;
      hooks.onCheckpoint?.(step, path.join(out, CKPT));
    }
    if (stopping) {
      log(`train: stopped at step ${step} as asked; continue with --resume`);
      return { status: 'stopped', step, elapsedS, lastLosses };
    }
    if (step >= options.steps) break;
  }
  return { status: 'finished', step, elapsedS: elapsed(), lastLosses };
}
