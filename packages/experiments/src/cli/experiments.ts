/**
 * `disco-experiments`: the paper's ablations as commands (Xia et al. 2022, §5).
 *
 *   disco-experiments ablation <anchors|branch|superpixels|refinement|clustering|all>
 *       [--budget smoke|quick|full] [--seeds 0,1,2] [--jobs N] [--out <dir>]
 *       [--data <dir|list…>] [--heldout <dir|list…>] [--spixnet <dir>] [--baselines]
 *   disco-experiments run <job.json>        execute one run of a grid (what the grid spawns)
 *   disco-experiments report <grid dir>     rewrite results.json / report.* from finished runs
 *   disco-experiments parity <fixture dir> [--weights <file.pth>] [--json <file>]
 *       the tfjs FID Inception network against a parity fixture (exit 0 only within tolerance)
 *
 * Nx: `npx nx run experiments:ablation-anchors -- --budget smoke` (and ablation-branch, …, -all).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { defaultPhotoSets } from '@disco/photos';
import { collectRunInfo, intArg, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import { gatherResults, planGrid, runGrid } from '../ablation/grid.js';
import { executeRun, type RunJob } from '../ablation/run.js';
import { ABLATION_NAMES, BUDGETS } from '../ablation/variants.js';
import { formatParityTable, runFidInceptionParity } from '../node/fid_parity.js';
import { writeReport } from '../report/index.js';
import { resolveFromCaller as resolve } from './args.js';

const seedList = (v: string): number[] => {
  const seeds = v.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new InvalidArgumentError('--seeds must be a comma-separated list of integers >= 0, e.g. 0,1,2');
  return seeds;
};

interface AblationFlags {
  budget: string;
  seeds?: number[];
  jobs?: number;
  out?: string;
  data?: string[];
  heldout?: string[];
  spixnet?: string;
  baselines?: boolean;
  backend?: string;
  inception?: string;
}

const budgetHelp = Object.values(BUDGETS)
  .map((b) => `${b.name}: ${b.steps} steps at ${b.imageSize}², batch ${b.batchSize}, seeds ${b.seeds.join(',')}, ${b.heldoutImages} held-out photos at ${b.maxSide}px`)
  .join('; ');

/** Training and held-out photos: the flags, or the project's photo sets (fetched on first use). */
async function photoSets(flags: AblationFlags): Promise<{ data: string[]; heldout: string[] }> {
  if (flags.data && flags.heldout) return { data: flags.data.map(resolve), heldout: flags.heldout.map(resolve) };
  const sets = await defaultPhotoSets({ log: (l) => process.stderr.write(`${l}\n`) });
  return { data: flags.data ? flags.data.map(resolve) : [sets.train], heldout: flags.heldout ? flags.heldout.map(resolve) : [sets.heldout] };
}

/** The `disco-experiments` program. */
export function buildExperimentsProgram(): Command {
  const program = new Command('disco-experiments').description("DISCO's ablations (Xia et al. 2022, §5): train, score and compare variants").exitOverride();
  program
    .command('ablation')
    .description('train every (variant, seed) run of an ablation in separate processes, score them on held-out photos, and write results.json, report.md and report.html')
    .argument('<name>', `ablation: ${ABLATION_NAMES.join(', ')}`)
    .option('--budget <name>', `steps, sizes and seeds (${budgetHelp}). Times for all on 2 cores: smoke ≈ 1–2 min, quick ≈ 1.5 h, full ≈ 6 h`, 'quick')
    .option('--seeds <list>', "seeds, e.g. 0,1,2 (default: the budget's)", seedList)
    .option('--jobs <n>', 'runs at once, one process each (default: the core count)', intArg('--jobs', 1))
    .option('--out <dir>', 'grid folder (default runs/ablations/<name>-<budget>)')
    .option('--data <paths...>', 'training photos: folders or list files (default: the project photo set)')
    .option('--heldout <paths...>', 'held-out photos: folders or list files (default: the project held-out set)')
    .option('--spixnet <dir>', "stage-1 network: a SPixNet folder or a DISCO model folder (default: the embedded model's)")
    .option('--baselines', 'also train the per-pixel regression and classification baselines as reference rows')
    .option('--backend <name>', 'backend of the run processes: auto, tensorflow, wasm or cpu')
    .option('--inception <file.pth>', "FID/KID with the FID Inception weights (pytorch-fid's pt_inception-2015-12-05-6726825d.pth: comparable with published values) instead of the nsfwjs InceptionV3 (project-relative)")
    .action(async (name: string, flags: AblationFlags) => {
      if (!ABLATION_NAMES.includes(name)) throw new Error(`ablation: unknown '${name}'; valid: ${ABLATION_NAMES.join(', ')}`);
      if (!BUDGETS[flags.budget]) throw new Error(`--budget: unknown '${flags.budget}'; valid: ${Object.keys(BUDGETS).join(', ')}`);
      await setupBackendForCli(flags.backend);
      const sets = await photoSets(flags);
      const out = resolve(flags.out ?? path.join('runs', 'ablations', `${name}-${flags.budget}`));
      const controller = new AbortController();
      const stop = () => {
        process.stderr.write('grid: stopping: each running run checkpoints and exits; start the same command again to continue\n');
        controller.abort();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const s = await runGrid({ ablation: name, budget: flags.budget, seeds: flags.seeds, jobs: flags.jobs, out, data: sets.data, heldout: sets.heldout, spixnet: flags.spixnet ? resolve(flags.spixnet) : undefined, baselines: flags.baselines, backend: flags.backend, ...(flags.inception !== undefined ? { inception: resolve(flags.inception) } : {}), signal: controller.signal });
      if (s.report) process.stdout.write(fs.readFileSync(s.report.md, 'utf8'));
      const failed = Object.keys(s.failed);
      if (controller.signal.aborted) process.exitCode = 130;
      else if (failed.length > 0) {
        process.stderr.write(`disco-experiments: ${failed.length} run(s) failed: ${failed.join(', ')} (see <out>/runs/<id>/run.log)\n`);
        process.exitCode = 2;
      }
    });
  program
    .command('run')
    .description('execute one run of a grid from its job.json (skips finished work, resumes from the checkpoint); SIGTERM/SIGINT checkpoint and exit')
    .argument('<job>', 'job.json')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu (default $DISCO_BACKEND or auto)')
    .action(async (file: string, flags: { backend?: string }) => {
      const f = resolve(file);
      if (!fs.existsSync(f)) throw new Error(`run: '${f}' does not exist`);
      let job: RunJob;
      try {
        job = JSON.parse(fs.readFileSync(f, 'utf8')) as RunJob;
      } catch (e) {
        throw new Error(`run: ${f}: not JSON (${(e as Error).message.split('\n')[0]})`);
      }
      if (job.format !== 'disco-ablation-job-v1') throw new Error(`run: ${f}: not an ablation job (format ${String(job.format)})`);
      await setupBackendForCli(flags.backend);
      let stopping = false;
      const stop = () => (stopping = true);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const scores = await executeRun(job, { shouldStop: () => stopping });
      if (!scores) {
        process.stderr.write(`${job.id}: checkpointed and stopped; run again to continue\n`);
        process.exitCode = 130;
        return;
      }
      process.stdout.write(`${JSON.stringify({ id: job.id, metrics: scores.result.metrics })}\n`);
    });
  program
    .command('report')
    .description('gather the finished runs of a grid folder into results.json, report.md and report.html (no training)')
    .argument('<dir>', 'grid folder')
    .argument('[name]', 'ablation name the grid was run with', 'all')
    .action(async (dir: string, name: string) => {
      const out = resolve(dir);
      const jobs = fs
        .readdirSync(path.join(out, 'runs'))
        .map((id) => path.join(out, 'runs', id, 'job.json'))
        .filter((f) => fs.existsSync(f))
        .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as RunJob);
      if (jobs.length === 0) throw new Error(`report: no runs in '${path.join(out, 'runs')}'`);
      const results = gatherResults(out, jobs, jobs[0]!.budget, name);
      if (!results) throw new Error(`report: no finished run in '${out}'`);
      const r = writeReport(out, results);
      process.stdout.write(fs.readFileSync(r.md, 'utf8'));
    });
  program
    .command('parity')
    .description(
      "the tfjs FID Inception network against a parity fixture (the format of packages/experiments/test/fixtures/fid-inception): every case's recorded stages end to end and from the stored input of each stage, the batch's pool3/logits, FID and IS; tolerances from fixture.json; exit 0 only when every comparison is within them",
    )
    .argument('<fixture>', 'fixture folder (fixture.json, weights.json, explicit.bin, cases/, batch.*)')
    .option('--weights <file>', "a PyTorch state dict file (.pth) instead of the fixture's rule weights")
    .option('--json <file>', 'also write the report as JSON')
    .option('--cases <names>', 'only these cases, comma-separated (default: all)')
    .option('--no-from-stored', 'skip feeding each stage the stored output of the stage before')
    .option('--no-batch', "skip the batch (its pool3/logits end to end, FID and IS)")
    .option('--no-fold', 'keep BatchNorm as its own op instead of folding it into the convolutions')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu (default $DISCO_BACKEND or auto)')
    .action(async (dir: string, flags: { weights?: string; json?: string; cases?: string; fromStored: boolean; batch: boolean; fold: boolean; backend?: string }) => {
      const backend = await setupBackendForCli(flags.backend);
      const report = await runFidInceptionParity(resolve(dir), {
        ...(flags.weights !== undefined ? { weights: resolve(flags.weights) } : {}),
        ...(flags.cases !== undefined ? { cases: flags.cases.split(',').map((c) => c.trim()) } : {}),
        fromStored: flags.fromStored,
        batch: flags.batch,
        networkOptions: { foldBatchNorm: flags.fold },
        log: (l) => process.stderr.write(`parity: ${l}\n`),
      });
      process.stdout.write(formatParityTable(report));
      process.stderr.write(`parity: ${report.seconds.total.toFixed(1)} s (weights ${report.seconds.weights.toFixed(1)} s, network ${report.seconds.network.toFixed(1)} s), backend ${backend.name}\n`);
      if (flags.json !== undefined) {
        writeJsonAtomic(resolve(flags.json), { command: 'parity', ...report, backend: backend.name, foldBatchNorm: flags.fold, run: collectRunInfo() });
        process.stderr.write(`parity: wrote ${resolve(flags.json)}\n`);
      }
      if (!report.pass) process.exitCode = 1;
    });
  return program;
}

export { planGrid };

/** Runs the CLI on `argv` (without `node` and the script). */
export async function runExperimentsCli(argv: string[]): Promise<void> {
  await buildExperimentsProgram().parseAsync(argv, { from: 'user' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href && fileURLToPath(import.meta.url)) {
  runExperimentsCli(process.argv.slice(2)).catch((e: unknown) => {
    const err = e as { code?: string; exitCode?: number };
    if (err?.code === 'commander.helpDisplayed' || err?.code === 'commander.help' || err?.code === 'commander.version') process.exit(0);
    if (!(typeof err?.code === 'string' && err.code.startsWith('commander.'))) process.stderr.write(`disco-experiments: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
    process.exit(err?.exitCode ?? 1);
  });
}
