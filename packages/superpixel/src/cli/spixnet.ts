/**
 * `spixnet`: stage-1 training of SPixNet, its quality report and boundary pictures.
 *
 *   spixnet train --data <dir> --out <dir> [--preset tiny|paper] [--steps N] [--resume] …
 *   spixnet quality --model <dir> --data <dir> [--report file.json]
 *   spixnet boundaries --model <dir> --image <file> --out <file.png>
 *
 * Installed as the `spixnet` bin of `@disco/superpixel`; in the workspace
 * `npx nx run superpixel:train -- …` / `superpixel:quality -- …` / `superpixel:boundaries -- …`.
 * Images are listed and read by `@disco/images` (the lister and reader of stage 2 and evaluation),
 * resized to `--size`² (cover crop), RGB → Lab.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { collectRunInfo, intArg, loadCheckpoint, nodeFileSystem, positiveArg, Progress, removeStaleTemps, saveCheckpoint, setupBackendForCli, writeFileAtomic, writeJsonAtomic, type FileSystem } from '@disco/runtime/node';
import {
  boundaries,
  createSpixNetOptimizer,
  drawBoundaries,
  gridAssociation,
  labelMap,
  loadOptimizerState,
  reconstructionError,
  resolveTrainSpixNetOptions,
  saveOptimizerState,
  SPIXNET_PRESETS,
  SpixNet,
  trainSpixNet,
  type SpixNetPreset,
  type Stage1Batch,
  type TrainSpixNetOptions,
} from '../index.js';
import { rgbToNormalizedLab } from '@disco/color';
import { decodeImage, listImages, writePng8 } from '@disco/images';
import { mulberry32, permutation } from '@disco/random';

/** Where the CLI writes its lines (tests capture them). */
export interface CliIo {
  /** Results (tables, JSON). */
  out: (line: string) => void;
  /** Logs and progress. */
  err: (line: string) => void;
  /** File-system layer of checkpoints and outputs. Default `node:fs` (tests inject faults). */
  fs?: FileSystem;
}

const defaultIo: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };



/** The image files of a folder and its subfolders, sorted by path (the one image lister of `@disco/images`). */
function listFolderImages(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--data: '${dir}' is not a folder`);
  try {
    return listImages(dir);
  } catch (e) {
    throw new Error(`--data: ${(e as Error).message}`);
  }
}

/** Reads an image as sRGB in [0, 1], alpha dropped, resized (cover crop) to `size`²: `[1, size, size, 3]`. */
async function readRgb(file: string, size: number): Promise<tf.Tensor4D> {
  const { data, width, height } = await decodeImage(file, { alpha: 'drop', cover: size });
  return tf.tensor4d(data, [1, height, width, 3]);
}

/** Writes `[1, H, W, 3]` sRGB in [0, 1] as a PNG. */
async function writePng(file: string, rgb: tf.Tensor4D): Promise<void> {
  const [, H, W] = rgb.shape;
  const bytes = Uint8Array.from(await rgb.data(), (x) => Math.round(Math.min(1, Math.max(0, x)) * 255));
  await writePng8(file, bytes, W, H);
}

/** Deterministic permutation of `n` items for `(seed, epoch)` (mulberry32 + Fisher–Yates). */
function epochPermutation(n: number, seed: number, epoch: number): number[] {
  return permutation(n, mulberry32((seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0));
}

/**
 * Batches for steps `[startStep, steps)`: image `pos = step*batch + i` of the run is
 * `perm(epoch = pos div n)[pos mod n]`, so a resumed run sees exactly the batches it would have seen.
 */
async function* imageBatches(files: string[], size: number, batch: number, seed: number, startStep: number, steps: number): AsyncGenerator<Stage1Batch> {
  const perms = new Map<number, number[]>();
  for (let step = startStep; step < steps; step++) {
    const rgbs: tf.Tensor4D[] = [];
    for (let i = 0; i < batch; i++) {
      const pos = step * batch + i;
      const epoch = Math.floor(pos / files.length);
      if (!perms.has(epoch)) perms.set(epoch, epochPermutation(files.length, seed, epoch));
      rgbs.push(await readRgb(files[perms.get(epoch)![pos % files.length]!]!, size));
    }
    const rgb = tf.concat(rgbs, 0) as tf.Tensor4D;
    tf.dispose(rgbs);
    const lab = rgbToNormalizedLab(rgb);
    rgb.dispose();
    yield lab;
  }
}

/** A SPixNet as the two files of a tfjs model folder: `model.json` and `weights.bin`. */
async function netFiles(net: SpixNet): Promise<{ 'model.json': Uint8Array; 'weights.bin': Uint8Array }> {
  let files: { 'model.json': Uint8Array; 'weights.bin': Uint8Array } | null = null;
  await net.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      files = { 'model.json': Buffer.from(`${JSON.stringify(modelJson, null, 2)}\n`), 'weights.bin': new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!)) };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return files!;
}

/**
 * Writes a SPixNet as `model.json` + `weights.bin` into `dir` (each file atomically), the folder
 * {@link loadSpixNet} reads.
 *
 * @example
 * ```ts
 * await saveSpixNet(SpixNet.create({}, 'tiny'), 'out/spixnet');
 * ```
 */
export async function saveSpixNet(net: SpixNet, dir: string, files: FileSystem = nodeFileSystem): Promise<void> {
  const f = await netFiles(net);
  writeFileAtomic(path.join(dir, 'weights.bin'), f['weights.bin'], { fs: files });
  writeFileAtomic(path.join(dir, 'model.json'), f['model.json'], { fs: files });
}

/** Builds a SPixNet from the bytes of `model.json` and its weights; errors are one line naming `where`. */
async function netFromFiles(json: Uint8Array, weights: Uint8Array, where: { json: string; weights: string }): Promise<SpixNet> {
  let model: tf.io.ModelJSON;
  try {
    model = JSON.parse(Buffer.from(json).toString('utf8')) as tf.io.ModelJSON;
  } catch (e) {
    throw new Error(`${where.json}: not valid JSON: ${String((e as Error).message).split('\n')[0]}`);
  }
  const manifest = Array.isArray(model?.weightsManifest) ? model.weightsManifest[0] : undefined;
  if (!manifest || !Array.isArray(manifest.weights) || !Array.isArray(manifest.paths) || !model.modelTopology) throw new Error(`${where.json}: not a tfjs layers model (needs modelTopology and weightsManifest)`);
  const need = manifest.weights.reduce((n, w) => n + (Array.isArray(w.shape) ? w.shape.reduce((a, b) => a * b, 1) : 0) * 4, 0);
  if (weights.byteLength !== need) throw new Error(`${where.weights}: ${weights.byteLength} bytes, ${path.basename(where.json)} needs ${need} (truncated or from another model)`);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const v = new Float32Array(weightData);
  if (!v.every(Number.isFinite)) throw new Error(`${where.weights}: weights are not finite (NaN or Infinity)`);
  try {
    return await SpixNet.load(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: manifest.weights, weightData, userDefinedMetadata: model.userDefinedMetadata, format: model.format, generatedBy: model.generatedBy }));
  } catch (e) {
    throw new Error(`${where.json}: ${String((e as Error).message).split('\n')[0]}`);
  }
}

/**
 * Loads a SPixNet from a folder written by the `train` command or {@link saveSpixNet}
 * (`model.json` + `weights.bin`): the one SPixNet loader. The sizes of the weights are checked
 * against `model.json` and every weight must be finite. Errors are one line starting with `flag`
 * (the option that named the folder) and naming the file.
 *
 * @example
 * ```ts
 * import { loadSpixNet } from '@disco/superpixel/node';
 * const net = await loadSpixNet('runs/spixnet-tiny/model');
 * const association = net.predict(L); // [B, H, W, 9]
 * ```
 */
export async function loadSpixNet(dir: string, flag = '--model'): Promise<SpixNet> {
  if (!fs.existsSync(dir)) throw new Error(`${flag}: '${dir}' does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${flag}: '${dir}' is not a folder`);
  const file = path.join(dir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`${flag}: no model.json in '${dir}'`);
  const read = (f: string): Buffer => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new Error(`${flag}: ${f}: ${String((e as Error).message).split('\n')[0]}`);
    }
  };
  const json = read(file);
  let wname = 'weights.bin';
  try {
    wname = (JSON.parse(json.toString('utf8')) as tf.io.ModelJSON).weightsManifest[0]!.paths[0]!;
  } catch {
    // reported by netFromFiles
  }
  const wf = path.join(dir, path.basename(wname));
  const weights = fs.existsSync(wf) ? read(wf) : new Uint8Array(0);
  try {
    return await netFromFiles(json, weights, { json: file, weights: wf });
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
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

/** Commits `<outDir>/checkpoint/` with the shared atomic, checksummed scheme ({@link saveCheckpoint}). */
async function writeCheckpoint(outDir: string, net: SpixNet, optimizer: tf.AdamOptimizer, state: Omit<CheckpointState, 'optimizer'>, files: FileSystem): Promise<void> {
  const nf = await netFiles(net);
  const opt = await saveOptimizerState(optimizer);
  saveCheckpoint(outDir, { ...nf, 'optimizer.bin': new Uint8Array(opt.data) }, { ...state, optimizer: opt.specs }, { fs: files });
}

interface TrainFlags {
  data: string;
  out: string;
  preset: SpixNetPreset;
  size: number;
  cell: number;
  batchSize: number;
  steps: number;
  lr: number;
  seed: number;
  checkpointEvery: number;
  resume?: boolean;
  backend?: string;
}

async function train(flags: TrainFlags, io: CliIo): Promise<void> {
  const backend = await setupBackendForCli(flags.backend, io.err);
  const files = listFolderImages(flags.data);
  const ckptDir = path.join(flags.out, 'checkpoint');
  const fsl = io.fs ?? nodeFileSystem;
  let net: SpixNet;
  let startStep = 0;
  const options = resolveTrainSpixNetOptions({ steps: flags.steps, learningRate: flags.lr, cellSize: flags.cell });
  const optimizer = createSpixNetOptimizer(options);
  if (flags.resume) {
    let ck: ReturnType<typeof loadCheckpoint<CheckpointState>>;
    try {
      ck = loadCheckpoint<CheckpointState>(flags.out, { fs: fsl, legacyFiles: CKPT_FILES, log: io.err });
    } catch (e) {
      throw new Error(`--resume: ${(e as Error).message}`);
    }
    if (!ck) throw new Error(`--resume: no checkpoint in '${ckptDir}'`);
    if (!ck.verified) io.err(`checkpoint: ${ckptDir} has no checksums (written by an older version); sizes are checked only`);
    const state = ck.state;
    net = await netFromFiles(ck.files['model.json']!, ck.files['weights.bin']!, { json: path.join(ckptDir, 'model.json'), weights: path.join(ckptDir, 'weights.bin') }).catch((e: Error) => {
      throw new Error(`--resume: ${e.message}`);
    });
    const ob = ck.files['optimizer.bin']!;
    try {
      await loadOptimizerState(optimizer, { specs: state.optimizer, data: ob.buffer.slice(ob.byteOffset, ob.byteOffset + ob.byteLength) as ArrayBuffer });
    } catch (e) {
      throw new Error(`--resume: ${path.join(ckptDir, 'optimizer.bin')}: ${String((e as Error).message).split('\n')[0]}`);
    }
    startStep = state.step;
    io.err(`resumed from ${ckptDir} at step ${startStep} (loss ${state.loss.toFixed(4)})`);
  } else {
    net = SpixNet.create({ seed: flags.seed }, flags.preset);
  }
  const stride = Math.max(net.stride, flags.cell);
  if (flags.size % stride !== 0 || flags.size % flags.cell !== 0) throw new Error(`--size: ${flags.size} must be a multiple of ${net.stride} (network) and of --cell ${flags.cell}`);
  const run = collectRunInfo();
  const runJson = { command: 'spixnet train', flags, resolved: { net: net.config, train: options }, images: files.length, backend: backend.name, run, startStep };
  io.err(`config ${JSON.stringify({ preset: flags.preset, seed: flags.seed, net: net.config, train: options, backend: backend.name, gitCommit: run.gitCommit, gitDirty: run.gitDirty })}`);
  writeJsonAtomic(path.join(flags.out, 'run.json'), runJson);
  const progress = new Progress({ total: options.steps, label: 'train', start: startStep, write: io.err });
  let last = { step: startStep, loss: NaN };
  const save = async (step: number, loss: number) => writeCheckpoint(flags.out, net, optimizer, { step, loss, train: options, preset: flags.preset, seed: flags.seed, size: flags.size, batch: flags.batchSize }, fsl);
  const result = await trainSpixNet(net, imageBatches(files, flags.size, flags.batchSize, flags.seed, startStep, options.steps), options, {
    startStep,
    optimizer,
    onStep: async (s) => {
      last = { step: s.step, loss: s.loss };
      progress.update(s.step, { loss: s.loss, feat: s.feat, pos: s.pos, lr: s.learningRate });
      if (s.step % flags.checkpointEvery === 0 && s.step < options.steps) await save(s.step, s.loss);
    },
  });
  await save(result.step, last.loss);
  removeStaleTemps(path.join(flags.out, 'model'), fsl);
  await saveSpixNet(net, path.join(flags.out, 'model'), fsl);
  io.err(`saved checkpoint ${ckptDir} and tfjs model ${path.join(flags.out, 'model')} at step ${result.step}`);
  io.out(JSON.stringify({ step: result.step, loss: last.loss }));
  optimizer.dispose();
  net.dispose();
}

interface QualityFlags {
  model: string;
  data: string;
  size: number;
  cell: number;
  report?: string;
  backend?: string;
}

async function quality(flags: QualityFlags, io: CliIo): Promise<void> {
  const backend = await setupBackendForCli(flags.backend, io.err);
  const net = await loadSpixNet(flags.model);
  const files = listFolderImages(flags.data);
  const rows: Array<{ file: string; trained: number; grid: number }> = [];
  for (const file of files) {
    const rgb = await readRgb(file, flags.size);
    const { L, ab } = rgbToNormalizedLab(rgb);
    const [trained, grid] = tf.tidy(() => [
      reconstructionError(L, ab, net.predict(L), flags.cell).dataSync()[0]!,
      reconstructionError(L, ab, gridAssociation(1, flags.size, flags.size), flags.cell).dataSync()[0]!,
    ]);
    tf.dispose([rgb, L, ab]);
    rows.push({ file: path.basename(file), trained, grid });
  }
  const mean = (k: 'trained' | 'grid') => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  const summary = { trained: mean('trained'), grid: mean('grid') };
  const report = {
    metric: 'mean per-pixel CIE76 ‖ΔLab‖ of the image rebuilt through pool→diffuse (lower is better)',
    model: flags.model,
    data: flags.data,
    size: flags.size,
    cellSize: flags.cell,
    backend: backend.name,
    images: rows,
    mean: summary,
    trainedBetter: summary.trained < summary.grid,
    relativeImprovement: 1 - summary.trained / summary.grid,
    run: collectRunInfo(),
  };
  io.out('| image | trained ΔLab | grid ΔLab |');
  io.out('| --- | ---: | ---: |');
  for (const r of rows) io.out(`| ${r.file} | ${r.trained.toFixed(3)} | ${r.grid.toFixed(3)} |`);
  io.out(`| mean (${rows.length}) | ${summary.trained.toFixed(3)} | ${summary.grid.toFixed(3)} |`);
  io.out(`trained is ${report.trainedBetter ? 'better' : 'NOT better'} than the grid (${(100 * report.relativeImprovement).toFixed(1)}% lower error)`);
  if (flags.report) {
    writeJsonAtomic(flags.report, report);
    io.err(`wrote ${flags.report}`);
  }
  net.dispose();
}

interface BoundaryFlags {
  model: string;
  image: string;
  out: string;
  size: number;
  cell: number;
  backend?: string;
}

async function drawCommand(flags: BoundaryFlags, io: CliIo): Promise<void> {
  await setupBackendForCli(flags.backend, io.err);
  const net = await loadSpixNet(flags.model);
  const rgb = await readRgb(flags.image, flags.size);
  const { L, ab } = rgbToNormalizedLab(rgb);
  const painted = tf.tidy(() => drawBoundaries(rgb, boundaries(labelMap(net.predict(L), flags.cell))));
  await writePng(flags.out, painted);
  tf.dispose([rgb, L, ab, painted]);
  net.dispose();
  io.err(`wrote ${flags.out}`);
}

/** Builds the commander program; `io` receives the output lines. */
export function buildSpixnetProgram(io: CliIo = defaultIo): Command {
  const program = new Command('spixnet')
    .description('SPixNet (DISCO stage 1): train, report quality, draw superpixel boundaries')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  const presets = Object.keys(SPIXNET_PRESETS);
  program
    .command('train')
    .description('train SPixNet on a folder of images (checkpoints, --resume, tfjs export)')
    .requiredOption('--data <dir>', 'folder of training images')
    .requiredOption('--out <dir>', 'output folder: checkpoint/, model/ (tfjs), run.json')
    .option('--preset <name>', `network preset: ${presets.join(', ')}`, (v) => {
      if (!presets.includes(v)) throw new InvalidArgumentError(`valid: ${presets.join(', ')}`);
      return v;
    }, 'paper')
    .option('--size <px>', 'images are resized to size×size', intArg('--size', 1), 256)
    .option('--cell <px>', 'superpixel cell size S', intArg('--cell', 1), 16)
    .option('--batch-size <n>', 'batch size', intArg('--batch-size', 1), 8)
    .option('--steps <n>', 'total optimisation steps', intArg('--steps', 1), 1000)
    .option('--lr <rate>', 'initial Adam learning rate (linear decay to 1%)', positiveArg('--lr'), 2e-4)
    .option('--seed <n>', 'seed of weights and data order', intArg('--seed', 0), 0)
    .option('--checkpoint-every <n>', 'steps between checkpoints', intArg('--checkpoint-every', 1), 100)
    .option('--resume', 'continue from <out>/checkpoint')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu (default $DISCO_BACKEND or auto)')
    .action(async (flags: TrainFlags) => train(flags, io));
  program
    .command('quality')
    .description('reconstruction error through pool→diffuse: trained association vs the plain grid')
    .requiredOption('--model <dir>', 'folder with model.json (e.g. <out>/model)')
    .requiredOption('--data <dir>', 'folder of held-out images')
    .option('--size <px>', 'images are resized to size×size', intArg('--size', 1), 256)
    .option('--cell <px>', 'superpixel cell size S', intArg('--cell', 1), 16)
    .option('--report <file>', 'write the JSON report here')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .action(async (flags: QualityFlags) => quality(flags, io));
  program
    .command('boundaries')
    .description('write a PNG of an image with its superpixel boundaries drawn')
    .requiredOption('--model <dir>', 'folder with model.json')
    .requiredOption('--image <file>', 'input image')
    .requiredOption('--out <file>', 'output PNG')
    .option('--size <px>', 'the image is resized to size×size', intArg('--size', 1), 256)
    .option('--cell <px>', 'superpixel cell size S', intArg('--cell', 1), 16)
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .action(async (flags: BoundaryFlags) => drawCommand(flags, io));
  return program;
}

/** Runs the CLI on `argv` (without `node` and the script), e.g. `['train', '--data', 'imgs', …]`. */
export async function runSpixnetCli(argv: string[], io: CliIo = defaultIo): Promise<void> {
  await buildSpixnetProgram(io).parseAsync(argv, { from: 'user' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runSpixnetCli(process.argv.slice(2)).catch((e: unknown) => {
    const code = (e as { exitCode?: number }).exitCode;
    if (code === undefined) process.stderr.write(`spixnet: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(code ?? 1);
  });
}
