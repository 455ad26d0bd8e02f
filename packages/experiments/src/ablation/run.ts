/**
 * One run of the ablation grid: (variant, seed) trained by the library's stage-2 loop
 * ({@link trainDisco}) and evaluated on held-out photos. A run is a plain job description
 * (`job.json`) that one process executes on its own: a grid runs several at once, an external
 * scheduler may run them anywhere. Finished work is skipped; an interrupted run resumes from its
 * checkpoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { asDiscoModel, colorizeL, perceptualWeightFor, recipeConfig, resolveDiscoConfig, type ColorizationModel, type DiscoConfigOverrides, type DiscoModel } from '@disco/colorize';
import { loadDiscoModel, MODEL_FILES, trainDisco } from '@disco/colorize/node';
import { writeImage } from '@disco/images';
import { collectRunInfo, writeJsonAtomic } from '@disco/runtime/node';
import { extractImageSetFeatures, scoreFeatureSets, type ImageSetFeatures } from '../node/eval_fid.js';
import { discoMethod, scoreHeldout, type HeldoutMethod, type MethodScores } from '../node/heldout.js';
import { loadFidInception, loadNsfwInception } from '../node/inception.js';
import type { Budget, CurvePoint, MetricKey, RunResult, Variant } from './types.js';
import { ANCHOR_COUNTS, BASE_RECIPE } from './variants.js';

/** Everything one process needs to execute a run (`<run dir>/job.json`). */
export interface RunJob {
  format: 'disco-ablation-job-v1';
  /** `<variant>-s<seed>`. */
  id: string;
  variant: Variant;
  seed: number;
  budget: Budget;
  /** Training photo folders or lists. */
  data: string[];
  /** Held-out photos, already prepared at the budget's size (PNG). */
  heldout: string[];
  /** Names (basenames without extension) of the held-out photos whose colorizations are kept as samples. */
  samples: string[];
  /** Stage-1 network folder (SPixNet or DISCO model). */
  spixnet: string;
  /** Real-image features of the held-out set (JSON written by the grid), for FID/KID. */
  realFeatures: string;
  /** Evaluate the base model at test-time K too (the anchors ablation's extra curve). */
  testTimeK: boolean;
  /** The grid folder (absolute). */
  gridDir: string;
  /** This run's folder (absolute). */
  dir: string;
  /** Backend name (`auto`, `wasm`, `cpu`, `tensorflow`). */
  backend: string;
  /** FID Inception weights file for FID/KID (absent: the nsfwjs InceptionV3, project-relative). */
  inception?: string;
}

/** What `<run dir>/scores.json` holds. */
export interface RunScores {
  format: 'disco-ablation-scores-v1';
  result: RunResult;
  /** Test-time K evaluation of this model (base only). */
  testTimeK?: Array<{ K: number; metrics: Partial<Record<MetricKey, number>> }>;
}

/** The model-config overrides of a variant at a seed and budget: the base recipe's, with the variant's block swapped. */
export function variantConfig(v: Variant, seed: number, budget: Budget): DiscoConfigOverrides {
  const o = v.overrides;
  const c: DiscoConfigOverrides = { ...recipeConfig(BASE_RECIPE), seed, imageSize: budget.imageSize, ablation: {} };
  if (o.anchors !== undefined) c.anchors = o.anchors;
  if (o.anchorBranch === false) c.ablation!.anchorBranch = false;
  if (o.superpixels === 'hard') c.ablation!.superpixels = 'hard';
  if (o.refinement === false) c.ablation!.refinement = false;
  if (o.placement === 'random') c.ablation!.placement = 'random';
  if (o.arch !== undefined) c.extensions = { ...c.extensions, arch: o.arch };
  return c;
}

const scoresFile = (dir: string): string => path.join(dir, 'scores.json');

/** The scores of a finished run, or null. */
export function readRunScores(dir: string): RunScores | null {
  const f = scoresFile(dir);
  if (!fs.existsSync(f)) return null;
  try {
    const s = JSON.parse(fs.readFileSync(f, 'utf8')) as RunScores;
    return s.format === 'disco-ablation-scores-v1' ? s : null;
  } catch {
    return null;
  }
}

/** Training curve from a run's `log.jsonl`, at most `points` points (evenly subsampled, last kept). */
export function readCurve(dir: string, points = 200): CurvePoint[] {
  const f = path.join(dir, 'train', 'log.jsonl');
  if (!fs.existsSync(f)) return [];
  const rows = fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CurvePoint);
  const every = Math.max(1, Math.ceil(rows.length / points));
  return rows.filter((_, i) => i % every === 0 || i === rows.length - 1).map((r) => ({ step: r.step + 1, total: r.total, ceModeler: r.ceModeler, ceGenerator: r.ceGenerator, abL1: r.abL1 }));
}

/** Serialised features (what the grid writes for the real set). */
export interface StoredFeatures {
  files: string[];
  features: Array<{ rows: number; cols: number; data: number[] }>;
  /** Per-image colorfulness of the real photos. */
  colorfulness: number[];
  /** The feature network's name (absent in grids written before it was recorded: nsfw-inception). */
  network?: string;
}

/** Loads the real-set features written by the grid. */
export function loadFeatures(file: string): ImageSetFeatures {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredFeatures;
  return { files: s.files, features: s.features.map((m) => ({ rows: m.rows, cols: m.cols, data: Float32Array.from(m.data) })), probs: null, colorfulness: s.colorfulness, seconds: 0, skipped: [] };
}

/** A method that colorizes with predicted anchors (T = 0) and measures the spread of the three samplings T = 0, 1, 2. */
function diverseMethod(model: DiscoModel, spread: number[]): HeldoutMethod {
  return {
    name: 'predicted',
    predict: (L) => {
      const res = colorizeL(model, L, { variants: [0, 1, 2] });
      const d = tf.tidy(() => {
        const pairs: Array<[number, number]> = [
          [0, 1],
          [0, 2],
          [1, 2],
        ];
        let sum = 0;
        for (const [i, j] of pairs) sum += tf.mean(tf.norm(tf.mul(tf.sub(res[i]!.ab, res[j]!.ab), 110), 'euclidean', -1)).dataSync()[0]!;
        return sum / pairs.length;
      });
      spread.push(d);
      for (const r of res.slice(1)) r.ab.dispose();
      return res[0]!.ab;
    },
  };
}

const stem = (f: string): string => path.basename(f).replace(/\.[^.]+$/, '');

function metricsOf(m: MethodScores, prefix: '' | 'oracle'): Partial<Record<MetricKey, number>> {
  if (prefix === 'oracle') return { oracleAbError: m.meanError, oracleAuc: m.auc, oracleColorfulness: m.colorfulness };
  return { abError: m.meanError, auc: m.auc, colorfulness: m.colorfulness, green: m.green, red: m.red };
}

/** Scores a trained model on the job's held-out photos; writes outputs and samples under the run folder. */
async function evaluate(job: RunJob, model: ColorizationModel, log: (l: string) => void): Promise<{ metrics: Partial<Record<MetricKey, number>>; samples: RunResult['samples'] }> {
  const outputs = path.join(job.dir, 'outputs');
  const samplesDir = path.join(job.dir, 'samples');
  fs.rmSync(outputs, { recursive: true, force: true });
  fs.mkdirSync(outputs, { recursive: true });
  fs.mkdirSync(samplesDir, { recursive: true });
  const spread: number[] = [];
  const anchored = job.variant.hasAnchors;
  const methods: HeldoutMethod[] = anchored ? [diverseMethod(asDiscoModel(model, job.id), spread), discoMethod(model, { oracle: true, name: 'oracle' })] : [discoMethod(model, { name: 'predicted' })];
  const keep = new Set(job.samples);
  const scores = await scoreHeldout(job.heldout, methods, {
    onOutput: async (file, method, rgb) => {
      const name = stem(file);
      if (method === 'predicted') await writeImage(path.join(outputs, `${name}.png`), rgb);
      if (keep.has(name)) await writeImage(path.join(samplesDir, `${name}${method === 'oracle' ? '-oracle' : ''}.png`), rgb);
    },
    onImage: (i, n) => log(`eval ${job.id}: ${i}/${n} photos`),
  });
  const metrics: Partial<Record<MetricKey, number>> = { ...metricsOf(scores.methods.predicted!, '') };
  if (anchored) Object.assign(metrics, metricsOf(scores.methods.oracle!, 'oracle'), { diversity: spread.reduce((a, b) => a + b, 0) / Math.max(1, spread.length) });
  const net = job.inception === undefined ? await loadNsfwInception() : await loadFidInception(job.inception);
  try {
    const stored = (JSON.parse(fs.readFileSync(job.realFeatures, 'utf8')) as StoredFeatures).network ?? 'nsfw-inception';
    if (stored !== net.name) throw new Error(`${job.realFeatures}: real features of network ${stored}, but this run scores with ${net.name}; delete the file to recompute it`);
    const real = loadFeatures(job.realFeatures);
    const fake = await extractImageSetFeatures(
      job.heldout.map((f) => path.join(outputs, `${stem(f)}.png`)),
      net,
      { write: () => {} },
    );
    const s = scoreFeatureSets(real, fake, net);
    const pool = s.layers.find((l) => l.layer === 'pool') ?? s.layers[0]!;
    metrics.fid = pool.fid;
    metrics.kid = pool.kid.mean;
  } finally {
    net.dispose();
  }
  const rel = (p: string) => path.relative(job.gridDir, p);
  const samples = job.samples.map((name) => ({
    photo: name,
    predicted: rel(path.join(samplesDir, `${name}.png`)),
    ...(anchored ? { oracle: rel(path.join(samplesDir, `${name}-oracle.png`)) } : {}),
  }));
  return { metrics, samples };
}

/** Test-time K: the same model evaluated with K ∈ {@link ANCHOR_COUNTS} anchors. */
async function evaluateTestTimeK(job: RunJob, model: DiscoModel): Promise<NonNullable<RunScores['testTimeK']>> {
  const rows: NonNullable<RunScores['testTimeK']> = [];
  for (const K of ANCHOR_COUNTS) {
    const s = await scoreHeldout(job.heldout, [discoMethod(model, { anchors: K, name: 'predicted' }), discoMethod(model, { anchors: K, oracle: true, name: 'oracle' })]);
    rows.push({ K, metrics: { ...metricsOf(s.methods.predicted!, ''), ...metricsOf(s.methods.oracle!, 'oracle') } });
  }
  return rows;
}

/** Options of {@link executeRun}. */
export interface ExecuteRunOptions {
  /** Status lines. Default stderr. */
  log?: (line: string) => void;
  /** Asked after each training step: `true` checkpoints and stops the run (it resumes next time). */
  shouldStop?: () => boolean;
}

/**
 * Executes one run: skips it when `scores.json` exists, trains (resuming from the checkpoint, or
 * skipping training when the model exists), evaluates, and writes `scores.json`.
 *
 * @returns the scores, or null when training was stopped early (`shouldStop`).
 */
export async function executeRun(job: RunJob, options: ExecuteRunOptions = {}): Promise<RunScores | null> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const done = readRunScores(job.dir);
  if (done) {
    log(`${job.id}: already scored; skipped`);
    return done;
  }
  fs.mkdirSync(job.dir, { recursive: true });
  const trainDir = path.join(job.dir, 'train');
  const modelDir = path.join(trainDir, 'model');
  const b = job.budget;
  const t0 = performance.now();
  let trainS = 0;
  if (!fs.existsSync(path.join(modelDir, MODEL_FILES.json))) {
    const resume = fs.existsSync(path.join(trainDir, 'checkpoint'));
    const r = await trainDisco(
      {
        config: resolveDiscoConfig(variantConfig(job.variant, job.seed, b), BASE_RECIPE.preset),
        data: job.data,
        out: trainDir,
        options: { ...BASE_RECIPE.options, steps: b.steps, learningRate: b.learningRate, seed: job.seed, perceptualWeight: perceptualWeightFor(BASE_RECIPE.perceptual) },
        batchSize: b.batchSize,
        validateEvery: 0,
        checkpointEvery: b.checkpointEvery,
        spixnet: job.spixnet,
        perceptual: BASE_RECIPE.perceptual,
        resume,
        // Without a checkpoint, whatever a run killed before its first checkpoint left is started over.
        overwrite: !resume,
        backend: tf.getBackend(),
        record: { ablationRun: job.id, recipe: BASE_RECIPE.name, variant: job.variant.id, budget: b.name },
        command: 'experiments ablation run',
      },
      { log, progress: log, shouldStop: options.shouldStop ? () => options.shouldStop!() : undefined },
    );
    if (r.status === 'stopped') return null;
    trainS = r.trainingS;
  } else {
    const card = JSON.parse(fs.readFileSync(path.join(modelDir, MODEL_FILES.json), 'utf8')) as { meta?: { trainingTime?: string } };
    log(`${job.id}: model exists (${card.meta?.trainingTime ?? 'time unknown'}); evaluating`);
  }
  const trainedS = (performance.now() - t0) / 1000;
  const model = await loadDiscoModel(modelDir);
  const e0 = performance.now();
  try {
    const { metrics, samples } = await evaluate(job, model, log);
    const testTimeK = job.testTimeK && job.variant.hasAnchors ? await evaluateTestTimeK(job, asDiscoModel(model, job.id)) : undefined;
    const info = collectRunInfo();
    const result: RunResult = {
      id: job.id,
      variant: job.variant.id,
      seed: job.seed,
      dir: path.relative(job.gridDir, job.dir),
      config: { model: model.config as unknown as Record<string, unknown>, budget: b },
      provenance: { gitCommit: info.gitCommit, backend: tf.getBackend(), machine: `${info.machine.cpu}, ${info.machine.cores} cores`, date: new Date().toISOString() },
      wallS: { train: trainS || trainedS, eval: (performance.now() - e0) / 1000 },
      metrics,
      curve: readCurve(job.dir),
      samples,
    };
    const scores: RunScores = { format: 'disco-ablation-scores-v1', result, ...(testTimeK ? { testTimeK } : {}) };
    writeJsonAtomic(scoresFile(job.dir), scores);
    fs.rmSync(path.join(job.dir, 'outputs'), { recursive: true, force: true });
    return scores;
  } finally {
    model.dispose();
  }
}
