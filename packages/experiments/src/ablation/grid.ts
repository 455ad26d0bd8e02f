/**
 * The ablation grid: every (variant, seed) run of the chosen ablations, executed as separate
 * processes `jobs` at a time, finished runs skipped, interrupted runs resumed, then gathered into
 * `results.json` and the report (Xia et al. 2022, §5 ablations).
 *
 * Layout of the output folder:
 *
 *   heldout/<photo>.png, heldout/<photo>-grey.png   held-out photos at the budget's size
 *   real-features.json, references.json             shared by every run
 *   runs/<variant>-s<seed>/job.json                 the job (one process executes it)
 *   runs/<variant>-s<seed>/train/…                  trainDisco's run folder (checkpoint, log, model)
 *   runs/<variant>-s<seed>/scores.json              written last: the run is done
 *   results.json, report.md, report.html
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { normalizedLabToRgb, resizeArea, rgbToNormalizedLab } from '@disco/color';
import { embeddedModelDir } from '@disco/colorize/node';
import { listImages, readImage, writeImage } from '@disco/images';
import { formatDuration, writeJsonAtomic } from '@disco/runtime/node';
import { extractImageSetFeatures } from '../node/eval_fid.js';
import { constantMethod, greyMethod, meanTrainingAb, scoreHeldout } from '../node/heldout.js';
import { loadFidInception, loadNsfwInception } from '../node/inception.js';
import { writeReport } from '../report/index.js';
import { readRunScores, type RunJob, type StoredFeatures } from './run.js';
import type { Budget, GridResults, MetricKey } from './types.js';
import { ablationsNamed, BUDGETS, VARIANTS, variantsOf } from './variants.js';

/** Options of {@link runGrid}. */
export interface GridOptions {
  /** `anchors`, `branch`, `superpixels`, `refinement`, `clustering` or `all`. */
  ablation: string;
  /** Budget name or a full budget. Default `quick`. */
  budget: string | Budget;
  /** Seeds (default: the budget's). */
  seeds?: number[];
  /** Runs at once, each its own process. Default: the core count. */
  jobs?: number;
  /** Output folder. */
  out: string;
  /** Training photos: folders or list files. */
  data: string[];
  /** Held-out photos: folders or list files. */
  heldout: string[];
  /** Stage-1 network (SPixNet or DISCO model folder). Default: the embedded model's SPixNet. */
  spixnet?: string;
  /** Also train the two baselines (per-pixel regression and classification) as reference rows. */
  baselines?: boolean;
  /** Backend of the run processes. Default `auto`. */
  backend?: string;
  /**
   * FID/KID network: the FID Inception weights file (`pt_inception-2015-12-05-6726825d.pth`, scores
   * comparable with published values) instead of the nsfwjs InceptionV3 (project-relative).
   */
  inception?: string;
  /** Status lines. Default stderr. */
  log?: (line: string) => void;
  /** Signal: when aborted, running processes are asked to checkpoint and stop. */
  signal?: AbortSignal;
}

/** What {@link runGrid} returns. */
export interface GridSummary {
  /** Runs the grid holds. */
  runs: number;
  /** Runs executed in this invocation (the rest were already done). */
  executed: string[];
  /** Runs that failed (id → last line of their log). */
  failed: Record<string, string>;
  /** Paths of results.json, report.md, report.html (null when runs are missing). */
  report: { json: string; md: string; html: string } | null;
}

/** The number of sample photos shown per variant in the report. */
export const SAMPLE_PHOTOS = 4;

const stem = (f: string): string => path.basename(f).replace(/\.[^.]+$/, '');

/** Resolves a budget name (or object) with optional seed override. */
export function resolveBudget(budget: string | Budget, seeds?: number[]): Budget {
  const b = typeof budget === 'string' ? BUDGETS[budget] : budget;
  if (!b) throw new Error(`--budget: unknown '${String(budget)}'; valid: ${Object.keys(BUDGETS).join(', ')}`);
  return seeds && seeds.length > 0 ? { ...b, seeds: [...seeds] } : { ...b };
}

/** Writes the held-out photos at the budget's long side (truth and grey PNGs); returns the truth files. */
async function prepareHeldout(files: string[], dir: string, maxSide: number): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of files) {
    let name = stem(f).replace(/[^A-Za-z0-9._-]+/g, '_');
    while (seen.has(name)) name += '_';
    seen.add(name);
    const truth = path.join(dir, `${name}.png`);
    const grey = path.join(dir, `${name}-grey.png`);
    out.push(truth);
    if (fs.existsSync(truth) && fs.existsSync(grey)) continue;
    const rgb = await readImage(f);
    const [H, W] = rgb.shape;
    const s = Math.min(1, maxSide / Math.max(H, W));
    const h = Math.max(8, Math.round(H * s));
    const w = Math.max(8, Math.round(W * s));
    const small = tf.tidy(() => tf.squeeze(tf.clipByValue(resizeArea(tf.expandDims(rgb, 0) as tf.Tensor4D, h, w), 0, 1), [0]) as tf.Tensor3D);
    const g = tf.tidy(() => {
      const { L } = rgbToNormalizedLab(tf.expandDims(small, 0) as tf.Tensor4D);
      return tf.squeeze(tf.clipByValue(normalizedLabToRgb(L, tf.zeros([1, h, w, 2]) as tf.Tensor4D), 0, 1), [0]) as tf.Tensor3D;
    });
    await writeImage(grey, g);
    await writeImage(truth, small);
    tf.dispose([rgb, small, g]);
  }
  return out;
}

/**
 * Node arguments that execute the run-one command: the built `.js`, or in a workspace checkout
 * the TypeScript source through tsx with the `@disco/source` export condition.
 */
function runCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const entry = path.join(path.dirname(here), '..', 'cli', `experiments${path.extname(here)}`);
  if (!entry.endsWith('.ts')) return [entry];
  return ['--conditions=@disco/source', '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, entry];
}

/** Lists the grid's jobs (writing each `job.json`) without running anything. */
export async function planGrid(options: GridOptions): Promise<{ jobs: RunJob[]; budget: Budget; heldout: string[] }> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const budget = resolveBudget(options.budget, options.seeds);
  const ablations = ablationsNamed(options.ablation);
  const out = path.resolve(options.out);
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });
  const heldoutAll = options.heldout.flatMap((h) => listImages(path.resolve(h)));
  if (heldoutAll.length < 2) throw new Error(`--heldout: ${heldoutAll.length} photo(s) found; FID needs at least 2`);
  const chosen = [...heldoutAll].sort().slice(0, budget.heldoutImages);
  const heldout = await prepareHeldout(chosen, path.join(out, 'heldout'), budget.maxSide);
  // References (grey, the training mean color) and the real features: computed once per grid.
  const refFile = path.join(out, 'references.json');
  const featFile = path.join(out, options.inception === undefined ? 'real-features.json' : 'real-features-fid-inception.json');
  if (!fs.existsSync(refFile)) {
    const train = options.data.flatMap((d) => listImages(path.resolve(d)));
    const meanAb = await meanTrainingAb(train);
    const s = await scoreHeldout(heldout, [greyMethod(), constantMethod(meanAb)]);
    const refs: Record<string, Partial<Record<MetricKey, number>>> = {};
    for (const [name, m] of Object.entries(s.methods)) refs[name] = { abError: m.meanError, auc: m.auc, colorfulness: m.colorfulness, green: m.green, red: m.red };
    refs['ground truth'] = { abError: 0, auc: 1, colorfulness: s.truth.colorfulness, green: s.truth.green, red: s.truth.red };
    writeJsonAtomic(refFile, { meanTrainingAb: meanAb, references: refs });
  }
  if (!fs.existsSync(featFile)) {
    log(`grid: features of ${heldout.length} held-out photos`);
    const net = options.inception === undefined ? await loadNsfwInception() : await loadFidInception(path.resolve(options.inception));
    try {
      const f = await extractImageSetFeatures(heldout, net, { write: () => {} });
      const stored: StoredFeatures = { files: f.files, features: f.features.map((m) => ({ rows: m.rows, cols: m.cols, data: Array.from(m.data) })), colorfulness: f.colorfulness, network: net.name };
      writeJsonAtomic(featFile, stored);
    } finally {
      net.dispose();
    }
  }
  // The embedded models share one SPixNet (tiny-pf was trained on tiny's); `tiny` gives it without loading InceptionV3.
  const spixnet = path.resolve(options.spixnet ?? embeddedModelDir('tiny'));
  const samples = heldout.slice(0, SAMPLE_PHOTOS).map(stem);
  const jobs: RunJob[] = [];
  // Seeds outermost: a grid stopped early still covers every variant at its first seeds.
  for (const seed of budget.seeds) {
    for (const v of variantsOf(ablations, options.baselines ?? false)) {
      const id = `${v}-s${seed}`;
      const dir = path.join(out, 'runs', id);
      const job: RunJob = {
        format: 'disco-ablation-job-v1',
        id,
        variant: VARIANTS[v]!,
        seed,
        budget,
        data: options.data.map((d) => path.resolve(d)),
        heldout,
        samples,
        spixnet,
        realFeatures: featFile,
        testTimeK: v === 'base' && ablations.some((a) => a.id === 'anchors'),
        gridDir: out,
        dir,
        backend: options.backend ?? 'auto',
        ...(options.inception !== undefined ? { inception: path.resolve(options.inception) } : {}),
      };
      fs.mkdirSync(dir, { recursive: true });
      const jobFile = path.join(dir, 'job.json');
      const before = fs.existsSync(jobFile) ? fs.readFileSync(jobFile, 'utf8') : null;
      const text = `${JSON.stringify(job, null, 2)}\n`;
      if (before !== null && before !== text && readRunScores(dir)) log(`grid: warning: ${id} was scored under a different job description; delete ${path.join(dir, 'scores.json')} to redo it`);
      if (before !== text) writeJsonAtomic(jobFile, job);
      jobs.push(job);
    }
  }
  return { jobs, budget, heldout };
}

/** Steps done by a running job (lines of its training log). */
function stepsDone(job: RunJob): number {
  const f = path.join(job.dir, 'train', 'log.jsonl');
  if (!fs.existsSync(f)) return 0;
  return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length;
}

/** Runs one job in its own process; resolves with the exit code. Output goes to `<run>/run.log`. */
function spawnJob(job: RunJob, signal: AbortSignal | undefined): Promise<number> {
  return new Promise((resolve) => {
    const logFd = fs.openSync(path.join(job.dir, 'run.log'), 'a');
    const child = spawn(process.execPath, [...runCommand(), 'run', path.join(job.dir, 'job.json')], {
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, DISCO_BACKEND: job.backend === 'auto' ? (process.env.DISCO_BACKEND ?? '') : job.backend },
    });
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    child.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', stop);
      fs.closeSync(logFd);
      resolve(code ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1));
    });
  });
}

function lastLine(file: string): string {
  if (!fs.existsSync(file)) return '(no log)';
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return lines.at(-1) ?? '(empty log)';
}

/** Gathers the finished runs of a planned grid into {@link GridResults} (null when none finished). */
export function gatherResults(out: string, jobs: RunJob[], budget: Budget, ablation: string): GridResults | null {
  const runs: GridResults['runs'] = [];
  const testTimeK: NonNullable<GridResults['testTimeK']> = [];
  for (const j of jobs) {
    const s = readRunScores(j.dir);
    if (!s) continue;
    runs.push(s.result);
    for (const row of s.testTimeK ?? []) testTimeK.push({ seed: j.seed, K: row.K, metrics: row.metrics });
  }
  if (runs.length === 0) return null;
  const refs = JSON.parse(fs.readFileSync(path.join(out, 'references.json'), 'utf8')) as { references: GridResults['references'] };
  const ids = new Set(jobs.map((j) => j.variant.id));
  const sampleNames = jobs[0]!.samples;
  return {
    format: 'disco-ablation-results-v1',
    created: new Date().toISOString(),
    budget,
    variants: Object.fromEntries([...ids].map((id) => [id, VARIANTS[id]!])),
    ablations: ablationsNamed(ablation),
    runs,
    references: refs.references,
    samplePhotos: sampleNames.map((name) => ({ name, truth: path.join('heldout', `${name}.png`), grey: path.join('heldout', `${name}-grey.png`) })),
    ...(testTimeK.length > 0 ? { testTimeK } : {}),
  };
}

/**
 * Runs the grid: plans it, executes the missing runs `jobs` at a time (each its own process, so
 * both cores work), and writes `results.json`, `report.md` and `report.html` when every run is done.
 *
 * @example
 * ```ts
 * const s = await runGrid({ ablation: 'all', budget: 'quick', out: 'runs/ablations', data: ['.cache/disco-photos/train.txt'], heldout: ['.cache/disco-photos/heldout.txt'] });
 * console.log(s.report?.md);
 * ```
 */
export async function runGrid(options: GridOptions): Promise<GridSummary> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const out = path.resolve(options.out);
  const { jobs, budget } = await planGrid(options);
  const todo = jobs.filter((j) => !readRunScores(j.dir));
  const width = Math.max(1, Math.min(options.jobs ?? os.cpus().length, todo.length || 1));
  log(`grid: ${jobs.length} runs (${budget.name}: ${budget.steps} steps at ${budget.imageSize}², seeds ${budget.seeds.join(',')}), ${jobs.length - todo.length} already done, ${todo.length} to run, ${width} at a time`);
  const executed: string[] = [];
  const failed: Record<string, string> = {};
  const running = new Set<RunJob>();
  const t0 = performance.now();
  let finished = 0;
  const status = setInterval(() => {
    const elapsed = (performance.now() - t0) / 1000;
    const doneSteps = finished * budget.steps + [...running].reduce((n, j) => n + Math.min(budget.steps, stepsDone(j)), 0);
    const total = todo.length * budget.steps;
    const eta = doneSteps > 0 ? (elapsed * (total - doneSteps)) / doneSteps : Infinity;
    log(`grid ${finished}/${todo.length} runs done; running ${[...running].map((j) => `${j.id} ${stepsDone(j)}/${budget.steps}`).join(', ') || '-'}; elapsed ${formatDuration(elapsed)} ETA ${formatDuration(eta)}`);
  }, 30_000);
  try {
    const queue = [...todo];
    const worker = async (): Promise<void> => {
      for (let job = queue.shift(); job && !options.signal?.aborted; job = queue.shift()) {
        running.add(job);
        const code = await spawnJob(job, options.signal);
        running.delete(job);
        finished++;
        if (code === 0 && readRunScores(job.dir)) {
          executed.push(job.id);
          log(`grid: ${job.id} done`);
        } else if (!options.signal?.aborted) {
          failed[job.id] = lastLine(path.join(job.dir, 'run.log'));
          log(`grid: ${job.id} failed (exit ${code}): ${failed[job.id]}`);
        }
      }
    };
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    clearInterval(status);
  }
  const missing = jobs.filter((j) => !readRunScores(j.dir));
  const results = gatherResults(out, jobs, budget, options.ablation);
  if (!results) return { runs: jobs.length, executed, failed, report: null };
  if (missing.length > 0) log(`grid: ${missing.length} run(s) missing (${missing.map((j) => j.id).join(', ')}); the report covers the ${results.runs.length} finished`);
  const report = writeReport(out, results);
  log(`grid: wrote ${report.json}, ${report.md}, ${report.html}`);
  return { runs: jobs.length, executed, failed, report };
}
