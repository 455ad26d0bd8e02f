/**
 * Stage 1 as a library (Xia et al. 2022, §3.1): one resumable SPixNet training run in a folder —
 * `run.json` (resolved config, seed, backend, commit), `checkpoint/` (network, Adam state and
 * step, committed atomically with checksums by `saveCheckpoint` of `@disco/runtime/node`) and
 * `model/` at the end. The `spixnet train` command is a thin wrapper around {@link trainSpixNetRun}.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { collectRunInfo, loadCheckpoint, nodeFileSystem, Progress, removeStaleTemps, saveCheckpoint, writeJsonAtomic, type FileSystem } from '@disco/runtime/node';
import { imageBatches, listFolderImages, netFiles, netFromFiles, saveSpixNet } from './files.js';
import { SpixNet, type SpixNetPreset } from '../spixnet.js';
import { createSpixNetOptimizer, loadOptimizerState, resolveTrainSpixNetOptions, saveOptimizerState, trainSpixNet, type TrainSpixNetOptions, type TrainStepInfo } from '../train.js';

/** What one stage-1 run trains, on what, and where it writes. */
export interface TrainSpixNetRunSpec {
  /** Folder of training photos (searched recursively). */
  data: string;
  /** Run folder. */
  out: string;
  /** Network preset. Default `tiny`. */
  preset?: SpixNetPreset;
  /** Square crop side in pixels. */
  size: number;
  /** Superpixel cell size S. */
  cell: number;
  /** Images per batch. */
  batchSize: number;
  /** Optimisation steps (the learning-rate schedule's length). */
  steps: number;
  /** Initial learning rate. */
  lr: number;
  /** Seed of the network's initialisation and the data order. Default 0. */
  seed?: number;
  /** Steps between checkpoints. Default 100. */
  checkpointEvery?: number;
  /** Continue from `<out>/checkpoint`. */
  resume?: boolean;
  /** Backend name, recorded in `run.json`. Default the current one. */
  backend?: string;
  /** Extra JSON recorded in `run.json` (e.g. the command line's flags). */
  record?: Record<string, unknown>;
}

/** Hooks of {@link trainSpixNetRun}; every one is optional. */
export interface TrainSpixNetRunHooks {
  /** Status lines (default: stderr). */
  log?: (line: string) => void;
  /** Progress lines with rate and ETA (default: `log`; null: none). */
  progress?: ((line: string) => void) | null;
  /** After every step. */
  onStep?: (info: TrainStepInfo) => void;
  /** After every step: true checkpoints and stops (continue later with `resume`). */
  shouldStop?: (step: number) => boolean;
  /** File-system layer of checkpoints and the model (tests inject faults). Default `node:fs`. */
  fs?: FileSystem;
}

/** What {@link trainSpixNetRun} returns. */
export interface TrainSpixNetRunResult {
  /** `finished` (all steps; `model/` written) or `stopped` (checkpointed by `shouldStop`). */
  status: 'finished' | 'stopped';
  /** Steps done. */
  step: number;
  /** Loss of the last step (NaN when none ran in this call). */
  loss: number;
  /** The model folder, or null when stopped. */
  model: string | null;
}

/** What the checkpoint folder's `state.json` holds. */
interface CheckpointState {
  step: number;
  loss: number;
  train: TrainSpixNetOptions;
  preset: SpixNetPreset;
  seed: number;
  size: number;
  batch: number;
  optimizer: tf.io.WeightsManifestEntry[];
}

/** The files of a SPixNet checkpoint besides `state.json`. */
const CKPT_FILES = ['model.json', 'weights.bin', 'optimizer.bin'] as const;

async function writeCheckpoint(outDir: string, net: SpixNet, optimizer: tf.AdamOptimizer, state: Omit<CheckpointState, 'optimizer'>, files: FileSystem): Promise<void> {
  const nf = await netFiles(net);
  const opt = await saveOptimizerState(optimizer);
  saveCheckpoint(outDir, { ...nf, 'optimizer.bin': new Uint8Array(opt.data) }, { ...state, optimizer: opt.specs }, { fs: files });
}

/**
 * Trains (or resumes) one SPixNet run. A resumed run replays exactly the batches an
 * uninterrupted one would see, so it ends with the same weights bit for bit. Errors are one line
 * naming the argument (`--data`, `--size`, `--resume`) and the file.
 *
 * @example
 * ```ts
 * import { trainSpixNetRun } from '@disco/superpixel/node';
 * const r = await trainSpixNetRun({ data: 'photos/', out: 'runs/spix', size: 64, cell: 8, batchSize: 8, steps: 1500, lr: 1e-3 });
 * // r.model === 'runs/spix/model'; interrupted? the same call with resume: true continues
 * ```
 */
export async function trainSpixNetRun(spec: TrainSpixNetRunSpec, hooks: TrainSpixNetRunHooks = {}): Promise<TrainSpixNetRunResult> {
  const log = hooks.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const fsl = hooks.fs ?? nodeFileSystem;
  const preset = spec.preset ?? 'tiny';
  const seed = spec.seed ?? 0;
  const checkpointEvery = spec.checkpointEvery ?? 100;
  const files = listFolderImages(spec.data);
  const ckptDir = path.join(spec.out, 'checkpoint');
  let net: SpixNet;
  let startStep = 0;
  const options = resolveTrainSpixNetOptions({ steps: spec.steps, learningRate: spec.lr, cellSize: spec.cell });
  const optimizer = createSpixNetOptimizer(options);
  if (spec.resume) {
    let ck: ReturnType<typeof loadCheckpoint<CheckpointState>>;
    try {
      ck = loadCheckpoint<CheckpointState>(spec.out, { fs: fsl, legacyFiles: CKPT_FILES, log });
    } catch (e) {
      throw new Error(`--resume: ${(e as Error).message}`);
    }
    if (!ck) throw new Error(`--resume: no checkpoint in '${ckptDir}'`);
    if (!ck.verified) log(`checkpoint: ${ckptDir} has no checksums (written by an older version); sizes are checked only`);
    const state = ck.state;
    net = await netFromFiles(ck.files['model.json']!, ck.files['weights.bin']!, { json: path.join(ckptDir, 'model.json'), weights: path.join(ckptDir, 'weights.bin') }).catch((e: Error) => {
      throw new Error(`--resume: ${e.message}`);
    });
    const ob = ck.files['optimizer.bin']!;
    try {
      await loadOptimizerState(optimizer, { specs: state.optimizer, data: ob.buffer.slice(ob.byteOffset, ob.byteOffset + ob.byteLength) as ArrayBuffer });
    } catch (e) {
      net.dispose();
      throw new Error(`--resume: ${path.join(ckptDir, 'optimizer.bin')}: ${String((e as Error).message).split('\n')[0]}`);
    }
    startStep = state.step;
    log(`resumed from ${ckptDir} at step ${startStep} (loss ${state.loss.toFixed(4)})`);
  } else {
    net = SpixNet.create({ seed }, preset);
  }
  try {
    const stride = Math.max(net.stride, spec.cell);
    if (spec.size % stride !== 0 || spec.size % spec.cell !== 0) throw new Error(`--size: ${spec.size} must be a multiple of ${net.stride} (network) and of --cell ${spec.cell}`);
    const run = collectRunInfo();
    const backend = spec.backend ?? tf.getBackend();
    const runJson = { command: 'spixnet train', flags: spec.record ?? { ...spec }, resolved: { net: net.config, train: options, preset, seed }, images: files.length, backend, run, startStep };
    log(`config ${JSON.stringify({ preset, seed, net: net.config, train: options, backend, gitCommit: run.gitCommit, gitDirty: run.gitDirty })}`);
    writeJsonAtomic(path.join(spec.out, 'run.json'), runJson);
    const progressWrite = hooks.progress === undefined ? log : hooks.progress;
    const progress = progressWrite ? new Progress({ total: options.steps, label: 'train', start: startStep, write: progressWrite }) : null;
    let last = { step: startStep, loss: NaN };
    let stopRequested = false;
    const save = async (step: number, loss: number) => writeCheckpoint(spec.out, net, optimizer, { step, loss, train: options, preset, seed, size: spec.size, batch: spec.batchSize }, fsl);
    const batches = imageBatches(files, spec.size, spec.batchSize, seed, startStep, options.steps, () => stopRequested);
    const result = await trainSpixNet(net, batches, options, {
      startStep,
      optimizer,
      onStep: async (s) => {
        last = { step: s.step, loss: s.loss };
        progress?.update(s.step, { loss: s.loss, feat: s.feat, pos: s.pos, lr: s.learningRate });
        hooks.onStep?.(s);
        stopRequested = s.step < options.steps && (hooks.shouldStop?.(s.step) ?? false);
        if ((s.step % checkpointEvery === 0 || stopRequested) && s.step < options.steps) await save(s.step, s.loss);
      },
    });
    if (stopRequested && result.step < options.steps) {
      log(`stopped at step ${result.step}; checkpoint ${ckptDir} (continue with resume)`);
      return { status: 'stopped', step: result.step, loss: last.loss, model: null };
    }
    await save(result.step, last.loss);
    const modelDir = path.join(spec.out, 'model');
    removeStaleTemps(modelDir, fsl);
    await saveSpixNet(net, modelDir, fsl);
    log(`saved checkpoint ${ckptDir} and tfjs model ${modelDir} at step ${result.step}`);
    return { status: 'finished', step: result.step, loss: last.loss, model: modelDir };
  } finally {
    optimizer.dispose();
    net.dispose();
  }
}
