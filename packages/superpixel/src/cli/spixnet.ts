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
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { collectRunInfo, intArg, MAX_SEED, positiveArg, setupBackendForCli, writeJsonAtomic, type FileSystem } from '@disco/runtime/node';
import { boundaries, drawBoundaries, gridAssociation, labelMap, reconstructionError, SPIXNET_PRESETS, type SpixNetPreset } from '../index.js';
import { rgbToNormalizedLab } from '@disco/color';
import { listFolderImages, loadSpixNet, readRgb, writePng } from '../node/files.js';
import { trainSpixNetRun } from '../node/run.js';

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
  const r = await trainSpixNetRun({ ...flags, backend: backend.name, record: { ...flags } }, { log: io.err, ...(io.fs ? { fs: io.fs } : {}) });
  io.out(JSON.stringify({ step: r.step, loss: r.loss }));
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
    .option('--seed <n>', 'seed of weights and data order', intArg('--seed', 0, MAX_SEED), 0)
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
