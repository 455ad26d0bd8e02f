/**
 * `spixnet`: stage-1 training of SPixNet, its quality report and boundary pictures.
 *
 *   spixnet train --data <dir> --out <dir> [--preset tiny|paper] [--steps N] [--resume] …
 *   spixnet quality --model <dir> --data <dir> [--report file.json]
 *   spixnet boundaries --model <dir> --image <file> --out <file.png>
 *
 * Run with `node --conditions=@disco/source --import tsx packages/colorize/src/cli/spixnet.ts`
 * or `npx nx run superpixel:train -- …` / `superpixel:quality -- …`.
 * Images are read with sharp by a small local helper (the shared dataset of `@disco/colorize/node`
 * did not exist yet when this was written): resized to `--size`² (cover crop), RGB → Lab.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { collectRunInfo, Progress, setupBackendForCli, writeFileAtomic, writeJsonAtomic } from '@disco/runtime/node';
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
} from '@disco/superpixel';
import { rgbToNormalizedLab } from '../color/lab.js';

const IMAGE_EXT = /\.(png|jpe?g|webp|tiff?)$/i;

/** Where the CLI writes its lines (tests capture them). */
export interface CliIo {
  /** Results (tables, JSON). */
  out: (line: string) => void;
  /** Logs and progress. */
  err: (line: string) => void;
}

const defaultIo: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

function intArg(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}; got '${v}'`);
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

/** Image files of a folder and its subfolders, sorted by path. */
function listImages(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--data: '${dir}' is not a folder`);
  const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => IMAGE_EXT.test(f)).sort().map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`--data: no images (${IMAGE_EXT.source}) in '${dir}'`);
  return files;
}

/** Reads an image as sRGB in [0, 1], resized (cover crop) to `size`²: `[1, size, size, 3]`. */
async function readRgb(file: string, size: number): Promise<tf.Tensor4D> {
  const { data, info } = await sharp(file).rotate().resize(size, size, { fit: 'cover' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const v = new Float32Array(info.width * info.height * 3);
  for (let i = 0; i < v.length; i++) v[i] = data[i]! / 255;
  return tf.tensor4d(v, [1, info.height, info.width, 3]);
}

/** Writes `[1, H, W, 3]` sRGB in [0, 1] as a PNG. */
async function writePng(file: string, rgb: tf.Tensor4D): Promise<void> {
  const [, H, W] = rgb.shape;
  const bytes = Uint8Array.from(await rgb.data(), (x) => Math.round(Math.min(1, Math.max(0, x)) * 255));
  const png = await sharp(Buffer.from(bytes), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  writeFileAtomic(file, png);
}

/** Deterministic permutation of `n` items for `(seed, epoch)` (mulberry32 + Fisher–Yates). */
function permutation(n: number, seed: number, epoch: number): number[] {
  let a = (seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
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
      if (!perms.has(epoch)) perms.set(epoch, permutation(files.length, seed, epoch));
      rgbs.push(await readRgb(files[perms.get(epoch)![pos % files.length]!]!, size));
    }
    const rgb = tf.concat(rgbs, 0) as tf.Tensor4D;
    tf.dispose(rgbs);
    const lab = rgbToNormalizedLab(rgb);
    rgb.dispose();
    yield lab;
  }
}

/** tfjs `io` handler writing `model.json` + `weights.bin` into `dir` (each file atomically). */
function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
    const modelJson = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      userDefinedMetadata: artifacts.userDefinedMetadata,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    writeFileAtomic(path.join(dir, 'weights.bin'), weights);
    writeJsonAtomic(path.join(dir, 'model.json'), modelJson);
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
}

/** Loads a SPixNet from a folder written by the `train` command (`model.json` + `weights.bin`). */
export async function loadNet(dir: string): Promise<SpixNet> {
  const file = path.join(dir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`--model: no model.json in '${dir}'`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as tf.io.ModelJSON;
  const manifest = json.weightsManifest[0]!;
  const buf = fs.readFileSync(path.join(dir, manifest.paths[0]!));
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return SpixNet.load(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: manifest.weights, weightData, userDefinedMetadata: json.userDefinedMetadata, format: json.format, generatedBy: json.generatedBy }),
  );
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

/** Writes a complete checkpoint into a temporary folder, then swaps it in by renaming. */
async function writeCheckpoint(outDir: string, net: SpixNet, optimizer: tf.AdamOptimizer, state: Omit<CheckpointState, 'optimizer'>): Promise<void> {
  const final = path.join(outDir, 'checkpoint');
  const tmp = path.join(outDir, `.checkpoint.${process.pid}.tmp`);
  fs.rmSync(tmp, { recursive: true, force: true });
  await net.save(fileSaveHandler(tmp));
  const opt = await saveOptimizerState(optimizer);
  writeFileAtomic(path.join(tmp, 'optimizer.bin'), new Uint8Array(opt.data));
  writeJsonAtomic(path.join(tmp, 'state.json'), { ...state, optimizer: opt.specs });
  const old = path.join(outDir, `.checkpoint.${process.pid}.old`);
  if (fs.existsSync(final)) fs.renameSync(final, old);
  fs.renameSync(tmp, final);
  fs.rmSync(old, { recursive: true, force: true });
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
  const files = listImages(flags.data);
  const ckptDir = path.join(flags.out, 'checkpoint');
  let net: SpixNet;
  let startStep = 0;
  const options = resolveTrainSpixNetOptions({ steps: flags.steps, learningRate: flags.lr, cellSize: flags.cell });
  const optimizer = createSpixNetOptimizer(options);
  if (flags.resume) {
    if (!fs.existsSync(path.join(ckptDir, 'state.json'))) throw new Error(`--resume: no checkpoint in '${ckptDir}'`);
    const state = JSON.parse(fs.readFileSync(path.join(ckptDir, 'state.json'), 'utf8')) as CheckpointState;
    net = await loadNet(ckptDir);
    const buf = fs.readFileSync(path.join(ckptDir, 'optimizer.bin'));
    await loadOptimizerState(optimizer, { specs: state.optimizer, data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
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
  const save = async (step: number, loss: number) => writeCheckpoint(flags.out, net, optimizer, { step, loss, train: options, preset: flags.preset, seed: flags.seed, size: flags.size, batch: flags.batchSize });
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
  await net.save(fileSaveHandler(path.join(flags.out, 'model')));
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
  const net = await loadNet(flags.model);
  const files = listImages(flags.data);
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
  const net = await loadNet(flags.model);
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
    .option('--lr <rate>', 'initial Adam learning rate (linear decay to 1%)', numArg('--lr'), 2e-4)
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
