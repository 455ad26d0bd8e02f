/**
 * `disco`: the DISCO command line.
 *
 *   disco train --config tiny --data <dir|list> [--out runs/x] [--workers N] [--resume]
 *   disco colorize <images|folders|globs|lists.txt…> -o <dir> [--model <dir>] [--anchors K] [--diverse] [--show-anchors]
 *                  [--anchors-file hints.json] [--seed n] [--mode resize|pad] [--shard i/n|auto] [--workers N] [--overwrite]
 *   disco params --config paper
 *   disco parity <fixture dir> [--weights <checkpoint | model dir>] [--json <file>]
 *   disco convert <checkpoint.pth[.tar]> -o <model dir>
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import type { ColorVariant, UserAnchor } from '@disco/anchors';
import {
  appendLine,
  ensureWritableDir,
  FileWriteError,
  formatDuration,
  fileError,
  intArg,
  MAX_SEED,
  parseShard,
  shardOfPath,
  shardSuffix,
  showPath,
  nodeFileSystem,
  numberArg,
  positiveArg,
  Progress,
  realPathOf,
  sha256File,
  sha256Hex,
  removeStaleTemps,
  setupBackendForCli,
  convolutionEngineStatus,
  startModuleWorker,
  UNWRITABLE_CODES,
  writeFileAtomic,
  writeJsonAtomic,
  type FileSystem,
} from '@disco/runtime/node';
import { composeRgb8, drawAnchorMarkers, labAtModelSize, labFull, type Rgb8Image } from '../io/banded.js';
import { decodeRgb8, expandImageInputs, IMAGE_EXTENSIONS, readImageSize, writePng8 } from '@disco/images';
import { DEFAULT_MODEL, EMBEDDED_MODELS, loadDiscoModel, MODEL_FILES, resolveModelArg, saveDiscoModel } from '../io/model_files.js';
import { DISCO_ARCHS, PRETRAINED_FEATURES_DEFAULTS, PRETRAINED_LAYERS, resolveDiscoConfig, resolveStoredConfig, type DiscoArch, type DiscoConfigOverrides, type DiscoExtensionsOverrides, type PretrainedFeaturesConfig } from '../model/config.js';
import type { ColorizationModel } from '../model/baseline.js';
import { DiscoModel } from '../model/disco.js';
import { colorizeL, guidedChromaOptions, type ChromaUpsampling } from '../model/infer.js';
import { loadPretrainedFeatures } from '../model/pretrained.js';
import { modelFromCheckpoint, readDiscoCheckpoint, trainDisco } from '../train/run.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import type { CliIo } from '@disco/superpixel/node';
import { addOfficialCommands } from './official.js';
import { ABLATION_FLAGS, applyRecipe } from './recipe.js';

const defaultIo: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };


/** A feature network factory for `--perceptual`, registered by name (pluggable). */

// ---------------------------------------------------------------------------------------------
// train

interface TrainFlags {
  recipe?: string;
  config: 'paper' | 'tiny';
  data: string[];
  out: string;
  workers: number;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  spixnet?: string;
  perceptual: string;
  laplacian: number;
  pixel: number;
  softTargets?: boolean;
  rebalance?: boolean;
  validateEvery: number;
  validationBatches: number;
  checkpointEvery: number;
  resume?: boolean;
  overwrite?: boolean;
  allowChanged?: string[];
  stopAt?: number;
  backend?: string;
  ablation?: string[];
  anchors?: number;
  hintEncoding?: 'onehot' | 'soft';
  residualRefinement?: boolean;
  decodeTemperature?: number;
  hintBroadcast?: boolean;
  arch?: string;
  pretrainedLayer?: string;
  pretrainedInputSize?: number;
}

function parseAblations(list: string[] | undefined): DiscoConfigOverrides['ablation'] {
  const a: NonNullable<DiscoConfigOverrides['ablation']> = {};
  for (const item of list ?? []) {
    const set = ABLATION_FLAGS[item];
    if (!set) throw new Error(`--ablation: unknown '${item}'; valid: ${Object.keys(ABLATION_FLAGS).join(', ')}`);
    Object.assign(a, set);
  }
  return a;
}

/** The extensions `disco train`'s flags set (only those given). */
function parseExtensions(flags: TrainFlags): DiscoExtensionsOverrides {
  const e: DiscoExtensionsOverrides = {};
  if (flags.arch !== undefined) {
    if (!(DISCO_ARCHS as readonly string[]).includes(flags.arch)) throw new Error(`--arch: unknown '${flags.arch}'; valid: ${DISCO_ARCHS.join(', ')}`);
    e.arch = flags.arch as DiscoArch;
  }
  if (flags.hintEncoding !== undefined) e.hintEncoding = flags.hintEncoding;
  if (flags.hintBroadcast) e.hintBroadcast = true;
  if (flags.residualRefinement) e.residualRefinement = true;
  if (flags.decodeTemperature !== undefined) e.decodeTemperature = flags.decodeTemperature;
  if (flags.pretrainedLayer !== undefined) {
    if (!(flags.pretrainedLayer in PRETRAINED_LAYERS)) throw new Error(`--pretrained-layer: unknown '${flags.pretrainedLayer}'; valid: ${Object.keys(PRETRAINED_LAYERS).join(', ')}`);
    e.pretrainedFeatures = { layer: flags.pretrainedLayer as PretrainedFeaturesConfig['layer'], ...(flags.pretrainedInputSize !== undefined ? { inputSize: flags.pretrainedInputSize } : {}) };
  } else if (flags.pretrainedInputSize !== undefined) {
    throw new Error('--pretrained-input-size needs --pretrained-layer (the layer turns the pretrained features on)');
  }
  return e;
}

async function train(flags: TrainFlags, io: CliIo): Promise<void> {
  const backend = await setupBackendForCli(flags.backend, io.err);
  const overrides: DiscoConfigOverrides = { seed: flags.seed, ablation: parseAblations(flags.ablation), extensions: parseExtensions(flags) };
  if (flags.anchors !== undefined) overrides.anchors = flags.anchors;
  const { resume, stopAt, overwrite, allowChanged, ...kept } = flags;
  const result = await trainDisco(
    {
      config: resolveDiscoConfig(overrides, flags.config),
      data: flags.data,
      out: flags.out,
      options: { steps: flags.steps, learningRate: flags.lr, seed: flags.seed, extensions: { laplacianWeight: flags.laplacian, pixelWeight: flags.pixel, softTargets: flags.softTargets ?? TRAIN_DEFAULTS.options.extensions.softTargets, rebalance: flags.rebalance ?? TRAIN_DEFAULTS.options.extensions.rebalance } },
      batchSize: flags.batchSize,
      validateEvery: flags.validateEvery,
      validationBatches: flags.validationBatches,
      checkpointEvery: flags.checkpointEvery,
      spixnet: flags.spixnet ?? null,
      perceptual: flags.perceptual,
      resume,
      overwrite,
      allowChanged,
      stopAt,
      backend: backend.name,
      workers: flags.workers,
      record: kept as unknown as Record<string, unknown>,
      command: 'disco train',
    },
    { log: io.err, fs: io.fs },
  );
  if (result.status === 'finished') io.out(JSON.stringify({ steps: result.steps, trainingTime: formatDuration(result.trainingS), lastLosses: result.lastLosses, validation: result.validation, model: result.model }));
}

// ---------------------------------------------------------------------------------------------
// colorize

/** The flags of `disco colorize`. */
export interface ColorizeFlags {
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
  anchorColors?: 'mode' | 'expected';
  anchorTemperature?: number;
  anchorRebalance?: number;
  /** `guided` (default: edge-aware, guided by the full-resolution L) or `bilinear` (the raw network output). */
  chromaUpsampling?: ChromaUpsampling;
  shard?: string;
  overwrite?: boolean;
  workers?: number;
}

/**
 * Most superpixel tokens `--mode pad` runs on (4096: 512² px with the tiny model's S = 8, 1024²
 * with the paper's S = 16). The transformers' attention grows with the square of the token count:
 * the tiny model peaked at 0.83 GB of tensors for 4096 tokens on wasm, whose heap is capped at a
 * few GB; past this limit an image is refused with one line rather than aborting the backend.
 */
export const PAD_MAX_TOKENS = 4096;

/**
 * Largest aspect ratio (long side ÷ short side) `disco colorize` takes, checked from the file's
 * header before decoding: the model sees a square, and a 1×1 000 000 px strip peaked at 2.8 GB
 * where a 64 MP photo takes 0.69 GB (1×3 000 000 aborted the wasm backend).
 */
export const MAX_ASPECT_RATIO = 1024;

/**
 * `--oracle <image|folder>`: the color original of each input. A file serves a single input; in a
 * folder the original is the image with the input's base name (any extension; must be unique).
 */
export function oracleLookup(spec: string, files: string[]): (file: string) => string {
  if (!fs.existsSync(spec)) throw new Error(`--oracle: '${spec}' does not exist`);
  if (!fs.statSync(spec).isDirectory()) {
    if (files.length !== 1) throw new Error(`--oracle: a single image serves a single input, got ${files.length} inputs (give a folder)`);
    return () => spec;
  }
  const byName = new Map<string, string>();
  for (const { file: f } of expandImageInputs([spec])) {
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
export function readHints(file: string): Record<string, UserAnchor[]> {
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

/**
 * What determines one input's outputs, as sha256 hashes: the settings (model identity and every
 * inference setting), the input's bytes, its `--anchors-file` entry and its `--oracle` original.
 * A later run keeps an output only when its key is equal.
 */
export interface OutputKey {
  settings: string;
  input: string | null;
  anchors: string | null;
  oracle: string | null;
}

/** One input's entry in `colorize.json` / `colorize.jsonl`; `key` and `outputsSha256` let a later run tell whether the outputs are still current. */
export type ResultEntry = { input: string; outputs: string[]; anchors: number; outputsSha256?: string[]; key?: OutputKey } | { input: string; error: string; key?: OutputKey };

/**
 * Colorizes one file and writes its PNG(s). Full-resolution work stays on 8-bit bytes and row
 * bands ({@link composeRgb8}); `--mode resize` gives the model an input computed band by band at
 * its own size, `--mode pad` is capped at {@link PAD_MAX_TOKENS} superpixels.
 */
async function colorizeFile(file: string, base: string, ctx: ColorizeContext): Promise<ResultEntry> {
  const { model, flags, variants } = ctx;
  const cell = model.config.cellSize;
  const size = await readImageSize(file, {}, ctx.files);
  const ratio = Math.max(size.width, size.height) / Math.max(1, Math.min(size.width, size.height));
  if (ratio > MAX_ASPECT_RATIO) throw new Error(`${size.width}×${size.height} px: aspect ratio ${Math.round(ratio)}:1 is above the limit of ${MAX_ASPECT_RATIO}:1 (the model sees a square; so thin a strip gives no colors and exhausts memory); crop it first`);
  if (flags.mode === 'pad') {
    const { width: W, height: H } = size;
    const unit = model.sizeMultiple();
    const tokens = ((Math.ceil(H / unit) * unit) / cell) * ((Math.ceil(W / unit) * unit) / cell);
    if (tokens > PAD_MAX_TOKENS) throw new Error(`--mode pad: ${W}×${H} px is ${tokens} superpixels, above the limit of ${PAD_MAX_TOKENS} (attention memory grows with their square); use --mode resize`);
    if (tokens < ctx.K) throw new Error(`--mode pad: ${W}×${H} px gives ${tokens} superpixels, fewer than the ${ctx.K} anchors; use --mode resize or --anchors ≤ ${tokens}`);
  }
  const img: Rgb8Image = await decodeRgb8(file, {}, ctx.files);
  const { width: W, height: H } = img;
  const hintKey = ctx.hints ? (ctx.hints[path.basename(file)] ? path.basename(file) : '*') : null;
  const user = ctx.hints && hintKey !== null ? ctx.hints[hintKey] : undefined;
  user?.forEach((u, i) => {
    if (u.row >= H || u.col >= W) throw new Error(`--anchors-file: ${JSON.stringify(hintKey)}[${i}]: row ${u.row}, col ${u.col} lies outside the ${W}×${H} px image (rows 0 … ${H - 1}, cols 0 … ${W - 1})`);
  });
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
  const userScaled = user?.map((u) => ({ ...u, row: u.row * sy, col: u.col * sx }));
  const chroma = flags.chromaUpsampling ?? 'guided';
  // resize: the model-size ab meets the full-resolution L in composeRgb8 (guided or bilinear, band by
  // band); pad: colorizeL's ab is already at full size (guided inside colorizeL).
  const compose = resize && chroma === 'guided' ? { guide: { L, ...guidedChromaOptions(model) } } : {};
  let res: ReturnType<typeof colorizeL>;
  try {
    res = colorizeL(model, L, { chromaUpsampling: resize ? 'bilinear' : chroma, mode: flags.mode, anchors: flags.anchors, variants, seed: flags.seed, userAnchors: userScaled, oracle, extensions: { anchorColors: flags.anchorColors ?? 'mode', ...(flags.anchorTemperature !== undefined ? { anchorTemperature: flags.anchorTemperature } : {}), ...(flags.anchorRebalance !== undefined ? { anchorRebalance: flags.anchorRebalance } : {}) } });
  } catch (e) {
    L.dispose();
    throw e;
  } finally {
    oracle?.dispose();
  }
  const written: string[] = [];
  let anchors = 0;
  const outDir = path.resolve(flags.output);
  const sub = path.dirname(path.join(outDir, base));
  const hashes: string[] = [];
  try {
    if (sub !== outDir) {
      try {
        ctx.files.mkdirSync(sub, { recursive: true });
      } catch (e) {
        throw fileError('cannot create', sub, e);
      }
    }
    for (const r of res) {
      const rgb = composeRgb8(img, r.ab, compose);
      const marks = r.anchors.map((a) => ({ ...a, row: Math.min(H - 1, a.row / sy), col: Math.min(W - 1, a.col / sx) }));
      if (flags.showAnchors) drawAnchorMarkers(rgb, img, marks);
      const name = path.join(outDir, `${base}${flags.diverse ? `_T${r.variant}` : ''}.png`);
      hashes.push(await writePng8(name, rgb, W, H, ctx.files));
      written.push(name);
      anchors = anchors || marks.length;
    }
  } finally {
    tf.dispose(res.map((r) => r.ab));
    L.dispose();
  }
  return { input: file, outputs: written, anchors: res[0]?.anchors.length ?? anchors, outputsSha256: hashes };
}

/** Everything {@link colorizeFile} needs besides the file; one per thread. */
export interface ColorizeContext {
  model: ColorizationModel;
  flags: ColorizeFlags;
  hints: Record<string, UserAnchor[]> | null;
  oracleFor: ((f: string) => string) | null;
  variants: ColorVariant[];
  K: number;
  files: FileSystem;
}

/** One image of a batch: its input, and its output path relative to `-o` without extension. */
export interface ColorizeJob {
  i: number;
  file: string;
  base: string;
  /** What its outputs depend on (set by the main thread). */
  key?: OutputKey;
}

/** What a job gave: its entry, or the first line of its error (with the code of a write error). */
export type JobResult = { entry: ResultEntry } | { error: string; writeCode: string | null; fatal?: boolean };

/** Whether an error left the wasm backend unusable (an abort or a memory fault): the thread's backend must be replaced before the next image. */
function isBackendFatal(e: unknown): boolean {
  return (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) || /memory access out of bounds|Aborted\(/.test(String((e as Error)?.message ?? e));
}

/** Runs one job in this thread; errors become a {@link JobResult} with the message's first line. */
export async function runColorizeJob(job: ColorizeJob, ctx: ColorizeContext): Promise<JobResult> {
  try {
    return { entry: await colorizeFile(job.file, job.base, ctx) };
  } catch (e) {
    return { error: (e instanceof Error ? e.message : String(e)).split('\n')[0]!, writeCode: e instanceof FileWriteError ? (e.code ?? '') : null, ...(isBackendFatal(e) ? { fatal: true } : {}) };
  }
}

/** What a colorize worker thread receives at start. */
export interface ColorizeWorkerInit {
  flags: ColorizeFlags;
  modelDir: string;
  /** Every input of the batch (an `--oracle` folder is matched against them). */
  inputs: string[];
}

/**
 * The settings that determine every output of a run besides the input itself: the model's
 * identity (sha256 of its files), every inference setting and the backend. `--workers` and
 * `--shard` are not among them: results do not depend on them.
 */
function colorizeSettings(flags: ColorizeFlags, modelDir: string, modelSha256: string, K: number, backend: string): Record<string, unknown> {
  return {
    model: modelDir,
    modelSha256,
    backend,
    seed: flags.seed,
    mode: flags.mode,
    diverse: !!flags.diverse,
    anchors: K,
    showAnchors: !!flags.showAnchors,
    anchorsFile: flags.anchorsFile ? path.resolve(flags.anchorsFile) : null,
    oracle: flags.oracle ? path.resolve(flags.oracle) : null,
    anchorColors: flags.anchorColors ?? 'mode',
    chromaUpsampling: flags.chromaUpsampling ?? 'guided',
    ...(flags.anchorTemperature !== undefined ? { anchorTemperature: flags.anchorTemperature } : {}),
    ...(flags.anchorRebalance !== undefined ? { anchorRebalance: flags.anchorRebalance } : {}),
  };
}

/** A worker thread with its own backend and model, running one job at a time. */
class ColorizeWorker {
  private readonly worker: Worker;
  private pending: ((r: JobResult) => void) | null = null;
  private failure: string | null = null;
  readonly ready: Promise<void>;

  constructor(init: ColorizeWorkerInit) {
    // From the TypeScript sources (tests, `nx run`, a workspace bin) the worker loads its module through tsx.
    this.worker = startModuleWorker(new URL(`./colorize_worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url), init);
    let started: () => void = () => {};
    let failed: (e: Error) => void = () => {};
    this.ready = new Promise<void>((res, rej) => {
      started = res;
      failed = rej;
    });
    this.worker.on('message', (m: { ready: true } | { error: string } | JobResult) => {
      if ('ready' in m) started();
      else {
        const p = this.pending;
        this.pending = null;
        p?.(m as JobResult);
      }
    });
    const die = (why: string): void => {
      this.failure ??= why;
      failed(new Error(`colorize worker: ${why}`));
      const p = this.pending;
      this.pending = null;
      p?.({ error: `colorize worker stopped: ${why}`, writeCode: null });
    };
    this.worker.on('error', (e) => die(e.message.split('\n')[0]!));
    this.worker.on('exit', (code) => die(`exit status ${code}`));
  }

  run(job: ColorizeJob): Promise<JobResult> {
    if (this.failure) return Promise.resolve({ error: `colorize worker stopped: ${this.failure}`, writeCode: null });
    return new Promise((res) => {
      this.pending = res;
      this.worker.postMessage(job);
    });
  }

  get dead(): boolean {
    return this.failure !== null;
  }

  async close(): Promise<void> {
    this.failure ??= 'closed';
    await this.worker.terminate();
  }
}

/** The settings of {@link colorizeSettings} that enter the output key (paths are not: the files' contents are keyed instead). */
function keyedSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const { model: _model, anchorsFile: _anchorsFile, oracle, ...keyed } = settings;
  return { ...keyed, oracle: oracle !== null };
}

const DONE_RECORD = /^colorize(-\d+-of-\d+)?\.jsonl$/;
const MANIFEST = /^colorize(-\d+-of-\d+)?\.json$/;

/**
 * The done-record of an output folder: the entries with outputs of every `colorize*.jsonl` in it
 * (unsharded and sharded runs alike), by first output, in file order (a torn last line is skipped);
 * and the settings of its manifests by their hash, to say which setting changed.
 */
function readDoneRecord(output: string, files: FileSystem): { entries: Map<string, ResultEntry[]>; settings: Map<string, Record<string, unknown>> } {
  const entries = new Map<string, ResultEntry[]>();
  const settings = new Map<string, Record<string, unknown>>();
  if (!files.existsSync(output)) return { entries, settings };
  for (const name of files.readdirSync(output).sort()) {
    const f = path.join(output, name);
    if (MANIFEST.test(name)) {
      try {
        const m = JSON.parse(files.readFileSync(f).toString('utf8')) as Record<string, unknown>;
        const { settingsSha256, complete: _complete, results: _results, shard: _shard, ...rest } = m;
        if (typeof settingsSha256 === 'string') settings.set(settingsSha256, keyedSettings(rest));
      } catch {
        // a damaged manifest only loses the names of changed settings
      }
    }
    if (!DONE_RECORD.test(name)) continue;
    for (const line of files.readFileSync(f).toString('utf8').split('\n')) {
      let e: ResultEntry;
      try {
        e = JSON.parse(line) as ResultEntry;
      } catch {
        continue;
      }
      if (e && 'outputs' in e && Array.isArray(e.outputs) && e.outputs.length > 0) entries.set(e.outputs[0]!, [...(entries.get(e.outputs[0]!) ?? []), e]);
    }
  }
  return { entries, settings };
}

/** Why an earlier entry for a job's outputs cannot be kept, or `null` when it can (same key, outputs unchanged). */
function staleReason(e: ResultEntry, job: ColorizeJob, files: FileSystem, settingsBy: Map<string, Record<string, unknown>>, now: Record<string, unknown>): string | null {
  if (!('outputs' in e)) return 'failed before';
  if (e.input !== job.file) return 'another input';
  const k = e.key;
  if (!k) return 'no record of its settings (an older version)';
  const key = job.key!;
  if (k.settings !== key.settings) {
    const was = settingsBy.get(k.settings);
    const changed = was ? Object.keys({ ...was, ...now }).filter((n) => JSON.stringify(was[n]) !== JSON.stringify(now[n])) : [];
    return changed.length > 0 ? `settings ${changed.join(', ')}` : 'settings';
  }
  if (k.input !== key.input || key.input === null) return 'input content';
  if (k.anchors !== key.anchors) return 'anchors entry';
  if (k.oracle !== key.oracle) return 'oracle original';
  const sums = e.outputsSha256 ?? [];
  if (sums.length !== e.outputs.length || e.outputs.some((o, i) => sha256File(o, files) !== sums[i])) return 'output file missing or changed';
  return null;
}

/** Output PNG paths of a job (`<base>.png`, or `<base>_T0/1/2.png` with `--diverse`). */
function jobOutputs(job: ColorizeJob, output: string, flags: ColorizeFlags): string[] {
  return (flags.diverse ? ['_T0', '_T1', '_T2'] : ['']).map((t) => path.join(output, `${job.base}${t}.png`));
}

/** Refuses, before any work, a batch in which an output file would be one of the inputs (compared by real path). */
function refuseOverwritingInputs(jobs: readonly ColorizeJob[], output: string, flags: ColorizeFlags, files: FileSystem): void {
  const inputs = new Map(jobs.map((j) => [realPathOf(j.file, files), j.file]));
  for (const j of jobs) {
    for (const o of jobOutputs(j, output, flags)) {
      const hit = inputs.get(realPathOf(o, files));
      if (hit !== undefined) throw new Error(`colorize: the output ${JSON.stringify(o)} would overwrite the input ${JSON.stringify(hit)}; choose another -o`);
    }
  }
}

async function colorize(inputs: string[], flags: ColorizeFlags, io: CliIo): Promise<number> {
  const files = io.fs ?? nodeFileSystem;
  const shard = parseShard(flags.shard);
  const backend = await setupBackendForCli(flags.backend, io.err);
  const output = path.resolve(flags.output);
  const modelDir = resolveModelArg(flags.model);
  const hints = flags.anchorsFile ? readHints(flags.anchorsFile) : null;
  const emptyGlobs: string[] = [];
  const all = expandImageInputs(inputs, { exclude: [output], fs: files, onEmptyGlob: (g) => emptyGlobs.push(g) });
  const globs = emptyGlobs.map((g) => `'${showPath(g)}'`).join(', ');
  if (all.length === 0) throw new Error(`colorize: no input images${emptyGlobs.length ? `: the glob${emptyGlobs.length > 1 ? 's' : ''} ${globs} match${emptyGlobs.length > 1 ? '' : 'es'} no image` : ''}`);
  if (emptyGlobs.length > 0) io.err(`colorize: warning: the glob${emptyGlobs.length > 1 ? 's' : ''} ${globs} match${emptyGlobs.length > 1 ? '' : 'es'} no image (extensions: ${IMAGE_EXTENSIONS.join(' ')})`);
  if (hints) {
    const names = new Set(all.map((f) => path.basename(f.file)));
    for (const k of Object.keys(hints)) if (k !== '*' && !names.has(k)) io.err(`colorize: warning: --anchors-file: '${k}' names no input image (keys are file names, or '*')`);
  }
  const oracleFor = flags.oracle ? oracleLookup(flags.oracle, all.map((f) => f.file)) : null;
  // Output names: the input's relative path without extension; two inputs with one relative path get _2, _3…
  const usedNames = new Set<string>();
  const jobsAll: ColorizeJob[] = all.map(({ file, rel }, i) => {
    const stem = rel.replace(/\.[^./]+$/, '');
    let base = stem;
    for (let k = 2; usedNames.has(base); k++) base = `${stem}_${k}`;
    usedNames.add(base);
    return { i, file, base };
  });
  const mine = shard === null ? jobsAll : jobsAll.filter((j) => shardOfPath(all[j.i]!.rel, shard.count) === shard.index);
  refuseOverwritingInputs(jobsAll, output, flags, files);
  // Before any computing: the output folder must take files.
  ensureWritableDir(output, '-o', files);
  let model: ColorizationModel | null = await loadDiscoModel(modelDir);
  try {
    const K = flags.anchors ?? model.config.anchors;
    const tokens = (model.config.imageSize / model.config.cellSize) ** 2;
    if (flags.mode === 'resize' && K > tokens) throw new Error(`--anchors: ${K} is more than the ${tokens} superpixels of the model's ${model.config.imageSize}² input`);
    const tag = shardSuffix(shard);
    const jsonl = path.join(output, `colorize${tag}.jsonl`);
    const manifest = path.join(output, `colorize${tag}.json`);
    // The model's identity: a model folder's two files, or a published checkpoint file itself.
    const modelIsFile = files.existsSync(modelDir) && files.statSync(modelDir).isFile();
    const modelSha256 = modelIsFile ? sha256File(modelDir, files) ?? '' : sha256Hex([MODEL_FILES.json, MODEL_FILES.weights].map((f) => sha256File(path.join(modelDir, f), files) ?? '').join(' '));
    const settings = colorizeSettings(flags, modelDir, modelSha256, K, `${backend.name}${backend.convolutions ? ' +onnxruntime' : ''}`);
    const keyed = keyedSettings(settings);
    const settingsSha256 = sha256Hex(JSON.stringify(keyed));
    for (const j of mine) {
      const hint = hints ? (hints[path.basename(j.file)] ?? hints['*']) : undefined;
      j.key = { settings: settingsSha256, input: sha256File(j.file, files), anchors: hint ? sha256Hex(JSON.stringify(hint)) : null, oracle: oracleFor ? sha256File(oracleFor(j.file), files) : null };
    }
    // Resume: keep an earlier output (of any run into this folder, sharded or not) exactly when
    // everything it depends on is unchanged; redo the rest and say why. --overwrite redoes all.
    const results = new Map<number, ResultEntry>();
    const redone = new Map<string, number>();
    if (!flags.overwrite) {
      const { entries, settings: settingsBy } = readDoneRecord(output, files);
      for (const j of mine) {
        const earlier = entries.get(jobOutputs(j, output, flags)[0]!) ?? [];
        if (earlier.length === 0) continue;
        const reasons = earlier.map((e) => staleReason(e, j, files, settingsBy, keyed));
        const ok = reasons.indexOf(null);
        if (ok >= 0) results.set(j.i, earlier[ok]!);
        else redone.set(reasons.at(-1)!, (redone.get(reasons.at(-1)!) ?? 0) + 1);
      }
    }
    const todo = mine.filter((j) => !results.has(j.i));
    for (const d of new Set([output, ...todo.map((j) => path.dirname(path.join(output, j.base)))])) if (files.existsSync(d)) removeStaleTemps(d, files);
    writeFileAtomic(jsonl, [...results.values()].map((e) => `${JSON.stringify(e)}\n`).join(''), { fs: files });
    if (shard) io.err(`colorize: shard ${shard.index}/${shard.count}: ${mine.length} of ${all.length} inputs`);
    if (results.size > 0) io.err(`colorize: ${results.size} of ${mine.length} already done in ${flags.output} with the same model, settings and inputs (kept; --overwrite redoes them)`);
    if (redone.size > 0) io.err(`colorize: redoing ${[...redone.values()].reduce((a, b) => a + b, 0)} earlier output${[...redone.values()].reduce((a, b) => a + b, 0) === 1 ? '' : 's'} in ${flags.output}, changed since: ${[...redone].map(([why, n]) => `${why} (${n})`).join('; ')}`);
    const variants: ColorVariant[] = flags.diverse ? [0, 1, 2] : [0];
    const ordered = (): ResultEntry[] => [...results.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
    let lastManifest = -Infinity;
    const writeManifest = (complete: boolean): void => {
      writeJsonAtomic(manifest, { ...settings, settingsSha256, ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}), complete, results: ordered() }, { fs: files });
      lastManifest = performance.now();
    };
    const workers = Math.max(1, Math.min(flags.workers ?? (io.fs ? 1 : os.availableParallelism()), todo.length));
    const progress = new Progress({ total: todo.length, label: 'colorize', write: io.err, intervalMs: 1000 });
    let failed = 0;
    let finished = 0;
    let stopped: string | null = null;
    const handle = (job: ColorizeJob, r: JobResult): void => {
      let entry: ResultEntry;
      if ('entry' in r) entry = { ...r.entry, key: job.key! };
      else {
        failed++;
        io.err(`colorize: ${r.error.includes(showPath(job.file)) ? r.error : `${showPath(job.file)}: ${r.error}`}`);
        entry = { input: job.file, error: r.error };
        if (r.writeCode !== null && UNWRITABLE_CODES.includes(r.writeCode)) stopped ??= r.error;
      }
      results.set(job.i, entry);
      progress.update(++finished, { failed });
      try {
        appendLine(jsonl, JSON.stringify(entry), { fs: files });
        if (!stopped && performance.now() - lastManifest >= 2000 && finished < todo.length) writeManifest(false);
      } catch (e) {
        stopped ??= (e as Error).message;
        io.err(`colorize: ${(e as Error).message}`);
      }
    };
    let next = 0;
    const take = (): ColorizeJob | undefined => (stopped ? undefined : todo[next++]);
    // n worker threads, each with its own backend; a worker whose backend aborted on an image (or
    // that died) is replaced by a fresh one, so one bad image does not fail the rest of the batch.
    const runPool = async (n: number): Promise<void> => {
      const init: ColorizeWorkerInit = { flags, modelDir, inputs: all.map((f) => f.file) };
      await Promise.all(
        Array.from({ length: n }, async () => {
          let w = new ColorizeWorker(init);
          try {
            for (;;) {
              try {
                await w.ready;
              } catch (e) {
                stopped ??= (e as Error).message;
                return;
              }
              let broke: ColorizeJob | null = null;
              for (let job = take(); job; job = take()) {
                const r = await w.run(job);
                handle(job, r);
                if (('fatal' in r && r.fatal) || w.dead) {
                  broke = job;
                  break;
                }
              }
              if (!broke) return;
              io.err(`colorize: the backend failed on ${JSON.stringify(broke.file)}; going on with a fresh one`);
              await w.close();
              w = new ColorizeWorker(init);
            }
          } finally {
            await w.close();
          }
        }),
      );
    };
    if (workers === 1) {
      const ctx: ColorizeContext = { model, flags, hints, oracleFor, variants, K, files };
      for (let job = take(); job; job = take()) {
        const r = await runColorizeJob(job, ctx);
        handle(job, r);
        if ('fatal' in r && r.fatal) {
          // This thread's backend is unusable: the rest goes to a worker thread with a fresh one.
          io.err(`colorize: the backend failed on ${JSON.stringify(job.file)}; going on with a fresh one`);
          model = null;
          await runPool(1);
          break;
        }
      }
    } else {
      // Each worker loads its own backend and model; this thread's copy is not needed.
      model.dispose();
      model = null;
      await runPool(workers);
    }
    const notAttempted = todo.filter((j) => !results.has(j.i));
    for (const j of notAttempted) results.set(j.i, { input: j.file, error: `not attempted: ${stopped}` });
    try {
      writeManifest(notAttempted.length === 0);
    } catch (e) {
      io.err(`colorize: ${(e as Error).message}`);
    }
    const ok = [...results.values()].filter((e) => 'outputs' in e).length;
    io.out(`colorized ${ok}/${mine.length} images into ${flags.output}${failed ? ` (${failed} failed)` : ''}${notAttempted.length ? `; stopped, ${notAttempted.length} not attempted: the output folder takes no more files (${stopped})` : ''}`);
    return failed + notAttempted.length;
  } finally {
    model?.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// export

/** Turns a run's checkpoint into a model folder (e.g. to use a run that is still going). */
async function exportCheckpoint(run: string, outDir: string, io: CliIo): Promise<void> {
  const files = io.fs ?? nodeFileSystem;
  const target = realPathOf(outDir, files);
  const ckDir = realPathOf(path.join(run, 'checkpoint'), files);
  const insideCheckpoint = target === ckDir || target.startsWith(`${ckDir}${path.sep}`) || files.existsSync(path.join(outDir, 'state.json'));
  if (insideCheckpoint) throw new Error(`export: -o ${JSON.stringify(outDir)} is a training checkpoint folder; writing the model there would destroy the checkpoint; choose another folder (e.g. ${path.join(run, 'model')})`);
  const ck = readDiscoCheckpoint(path.resolve(run), '--run', { fs: io.fs, log: io.err });
  const { state } = ck;
  await loadPretrainedFeatures(resolveStoredConfig(state.config));
  const model = modelFromCheckpoint(ck);
  try {
    await saveDiscoModel(model, outDir, { exportedFrom: ck.dir, step: state.step, steps: state.options.steps, seed: state.options.seed, lastLosses: state.lastLosses, trainingTime: formatDuration(state.elapsedS) }, io.fs ?? nodeFileSystem);
  } finally {
    model.dispose();
  }
  io.out(`exported step ${state.step} of ${ck.dir} to ${outDir}`);
}

// ---------------------------------------------------------------------------------------------
// params

/** Learnable parameters of the released DISCO model (its state dict less the BatchNorm statistics and spectral-norm vectors). */
const PUBLISHED_PARAMETERS = 43_063_739;

function params(config: 'paper' | 'tiny', io: CliIo): void {
  const model = DiscoModel.create(resolveDiscoConfig({}, config));
  const c = model.countParams();
  model.dispose();
  io.out(`| block | parameters |\n|---|---:|`);
  for (const [k, v] of Object.entries(c)) io.out(`| ${k} | ${v.toLocaleString('en')} |`);
  if (config === 'paper') io.out(`\npaper model: ${c.total.toLocaleString('en')} learnable parameters (the released model: ${PUBLISHED_PARAMETERS.toLocaleString('en')})`);
}

// ---------------------------------------------------------------------------------------------

/** The version of this package (`package.json` two folders up from `src/cli/` and `dist/cli/`). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

/** The `disco` program (commander), wired to `io`. */
export function buildDiscoProgram(io: CliIo = defaultIo): Command {
  const program = new Command('disco').description('DISCO: disentangled image colorization via global anchors').exitOverride();
  program.configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  program.version(packageVersion(), '-V, --version', 'print the version');
  // Which convolution engine this installation runs, and how to get the fast one when it is missing.
  program.addHelpText('after', () => `\n${convolutionEngineStatus().line}`);
  const D = TRAIN_DEFAULTS;
  program
    .command('train')
    .description('stage-2 training of the colorization model on a folder or list of photos')
    .option('--recipe <name|file>', 'a training recipe: tiny, tiny-pf, paper (packages/colorize/src/recipes/) or a JSON file of that shape; the flags below override its fields')
    .option('--config <preset>', 'model preset: tiny or paper', D.preset)
    .requiredOption('--data <paths...>', 'folders or list files of training photos')
    .option('--out <dir>', 'run folder: checkpoint/, model/, log.jsonl, run.json', 'runs/disco')
    .option('--steps <n>', 'optimisation steps', intArg('--steps', 1), D.options.steps)
    .option('--batch-size <n>', 'images per batch', intArg('--batch-size', 1), D.batchSize)
    .option('--lr <rate>', 'initial Adam learning rate (linear decay to 1 %)', positiveArg('--lr'), D.options.learningRate)
    .option('--seed <n>', 'seed of data order, anchors and dropout', intArg('--seed', 0, MAX_SEED), D.options.seed)
    .option('--spixnet <dir>', 'trained SPixNet folder (model.json), or a DISCO model folder whose SPixNet is reused')
    .option('--perceptual <net>', `perceptual feature network: none or inception (nsfwjs InceptionV3 stem; the paper's loss, weight ${D.options.perceptualWeight})`, D.perceptual)
    .option('--laplacian <w>', 'extension: weight of the Laplacian-gradient L1 (0: off, the paper)', numberArg('--laplacian', 0), D.options.extensions.laplacianWeight)
    .option('--pixel <w>', 'extension: weight of a direct L1 on ab/110 (0: off, the paper)', numberArg('--pixel', 0), D.options.extensions.pixelWeight)
    .option('--soft-targets', "extension: cross-entropies against the soft encoding of each superpixel's color (Gaussian over 5 nearest bins; Zhang et al. 2016) instead of its nearest bin")
    .option('--no-rebalance', 'extension: plain cross-entropies, without class rebalancing')
    .option('--arch <name>', 'extension: disco (default), or a baseline on the same backbone: regression (per-pixel ab, L1) or classification (per-pixel 313-way rebalanced CE, annealed mean T = 0.38; Zhang et al. 2016)')
    .option('--anchors <k>', 'number of anchors K', intArg('--anchors', 1))
    .option('--pretrained-layer <layer>', `extension: fuse frozen nsfwjs InceptionV3 features up to this layer into the tokens (off by default): ${Object.keys(PRETRAINED_LAYERS).join(', ')}; a baseline (--arch) fuses them per pixel`)
    .option('--pretrained-input-size <px>', `with --pretrained-layer: longer side the network reads the model's input at (≥ 75; default ${PRETRAINED_FEATURES_DEFAULTS.inputSize})`, intArg('--pretrained-input-size', 75))
    .option('--ablation <names...>', `the paper's ablations: ${Object.keys(ABLATION_FLAGS).join(', ')}`)
    .option('--hint-encoding <enc>', 'extension: anchor colors into the generator: onehot (paper) or soft (Gaussian over nearby bins)')
    .option('--hint-broadcast', 'extension: every token also receives the color of its nearest anchor (locator features)')
    .option('--residual-refinement', 'extension: refinement predicts a residual on the diffused decoded generator colors')
    .option('--decode-temperature <t>', 'extension: annealed-mean temperature of the generator decoding (1: mean, the paper; 0.38: Zhang et al.)', positiveArg('--decode-temperature'))
    .option('--validate-every <n>', 'steps between validations (0: never)', intArg('--validate-every', 0), D.validateEvery)
    .option('--validation-batches <n>', 'batches per validation', intArg('--validation-batches', 1), D.validationBatches)
    .option('--checkpoint-every <n>', 'steps between checkpoints', intArg('--checkpoint-every', 1), D.checkpointEvery)
    .option('--workers <n>', 'threads per step (data parallel: the batch split into n shards, gradients averaged; not with a perceptual network)', intArg('--workers', 1), D.workers)
    .option('--resume', 'continue from <out>/checkpoint (every other flag must equal the checkpoint\'s, see --allow-changed)')
    .option('--overwrite', 'start over in an --out folder that holds a run (its checkpoint, model and logs are removed)')
    .option('--allow-changed <flags>', 'with --resume: flags that may differ from the checkpoint\'s, comma-separated (e.g. lr,steps); the model config always stays the checkpoint\'s', (v: string) => v.split(',').map((f) => f.trim()).filter((f) => f !== ''))
    .option('--stop-at <step>', 'checkpoint and stop once this step is done (time-boxed sessions; continue with --resume)', intArg('--stop-at', 1))
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu (default $DISCO_BACKEND or auto)')
    .action(async (flags: TrainFlags, cmd: Command) => train(applyRecipe(flags, cmd), io));
  program
    .command('colorize')
    .description('colorize images (files, folders, globs or .txt lists); writes PNGs keeping the relative folders, colorize.jsonl and colorize.json')
    .argument('<inputs...>', 'image files, folders, globs or .txt list files (one path per line)')
    .requiredOption('-o, --output <dir>', 'output folder')
    .option('--model <dir|name|file>', `model folder, an embedded model (${EMBEDDED_MODELS.join(', ')}; default ${DEFAULT_MODEL}, the best embedded one by rebalanced AuC), or a published DISCO checkpoint (.pth / .pth.tar, converted on load: the paper model, best of all)`)
    .option('--anchors <k>', 'number of anchors', intArg('--anchors', 1))
    .option('--diverse', 'three results from anchor color samplings T = 0, 1, 2')
    .option('--show-anchors', 'mark the anchors on the output')
    .option('--anchors-file <file>', 'user anchors: {"<image name>|*": [{"row", "col", "ab": [a, b]}]} in pixels / Lab')
    .option('--seed <n>', 'seed of anchor placement', intArg('--seed', 0, MAX_SEED), 0)
    .option('--mode <mode>', 'resize (model size, ab upsampled) or pad (full resolution)', 'resize')
    .option('--anchor-colors <how>', "extension: anchor colors of the first result: mode (the modeler's most probable bin, the paper) or expected (the bin nearest its annealed mean; more muted, fewer wrong colors)", 'mode')
    .option('--anchor-temperature <t>', 'annealed-mean temperature of --anchor-colors expected (default: the model\'s decode temperature; lower: closer to mode)', positiveArg('--anchor-temperature'))
    .option('--anchor-rebalance <alpha>', "extension: post-hoc class rebalancing α ≥ -1 of the predicted anchor colors: α × log-weights of Zhang et al.'s rebalancing added to the modeler's logits (α > 0 for models trained with --no-rebalance; α = -1 undoes training-time rebalancing; 0: off)", numberArg('--anchor-rebalance', -1))
    .option('--chroma-upsampling <how>', "how the model-size ab meets the image's L: guided (edge-aware guided filter, He et al. 2013, no blocks at the superpixel grid) or bilinear (the raw network output)", 'guided')
    .option('--oracle <image|folder>', 'oracle anchors: locate and color the anchors from these color originals (matched by name): the upper bound')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .option('--shard <i/n|auto>', 'colorize only shard i of n (0-based; by a hash of the relative path); auto: from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID')
    .option('--overwrite', 'redo images an earlier run into -o finished (default: keep them)')
    .option('--workers <n>', 'worker threads, each with its own backend and model (default: the core count)', intArg('--workers', 1))
    .action(async (inputs: string[], flags: ColorizeFlags) => {
      if (flags.mode !== 'resize' && flags.mode !== 'pad') throw new Error(`--mode must be resize or pad; got '${flags.mode}'`);
      if (flags.anchorColors !== 'mode' && flags.anchorColors !== 'expected') throw new Error(`--anchor-colors must be mode or expected; got '${String(flags.anchorColors)}'`);
      if (flags.chromaUpsampling !== 'guided' && flags.chromaUpsampling !== 'bilinear') throw new Error(`--chroma-upsampling must be guided or bilinear; got '${String(flags.chromaUpsampling)}'`);
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
  addOfficialCommands(program, io);
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
