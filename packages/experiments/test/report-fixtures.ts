/**
 * A synthetic ablation grid for the report's tests: all five ablations (anchors K ∈ {1, 2, 4,
 * 16} against the base K = 8, no anchor branch, hard superpixels, no refinement, random anchor
 * placement), a few seeds, seeded noise around built-in effects, training curves, test-time K,
 * reference rows and — with {@link writeSyntheticGrid} — small sample PNGs written by sharp in
 * the grid folder layout (`photos/`, `runs/<run>/samples/`).
 *
 * Effects built in (so tests know the verdicts): k1, k2 and no-branch much worse FID than the
 * base (reproduced); random placement better (contradicted); hard superpixels no effect
 * (inconclusive); k16 has no paper claim.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Ablation, CurvePoint, GridResults, MetricKey, RunResult, Variant } from '../src/ablation/types.js';
import { mulberry32 } from '@disco/random';

/** Options of {@link syntheticGrid}. */
export interface SyntheticGridOptions {
  seeds?: number[];
  /** Sample photos per run (default 3). */
  photos?: number;
  /** Curve points per run (default 41). */
  curvePoints?: number;
}

/** Small seeded PRNG (mulberry32) and a normal deviate from it. */
function rng(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

const hash = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);

const BASE_METRICS: Record<MetricKey, number> = {
  fid: 120,
  kid: 0.05,
  abError: 12,
  auc: 0.85,
  colorfulness: 25,
  green: 0.08,
  red: 0.06,
  diversity: 4,
  oracleAbError: 7,
  oracleAuc: 0.92,
  oracleColorfulness: 30,
};

/** Relative noise of each metric over seeds. */
const NOISE = 0.02;

/** Per variant: a "badness" multiplier applied to the error-like metrics (1 = base). */
const EFFECT: Record<string, number> = { k8: 1, k1: 1.35, k2: 1.2, k4: 1.05, k16: 1.0, 'no-branch': 1.5, hard: 1.0, 'no-refinement': 1.08, random: 0.9 };

const VARIANTS: Record<string, Variant> = {
  k8: { id: 'k8', label: 'DISCO, K = 8', overrides: {}, hasAnchors: true, anchors: 8 },
  k1: { id: 'k1', label: 'K = 1', overrides: { anchors: 1 }, hasAnchors: true, anchors: 1 },
  k2: { id: 'k2', label: 'K = 2', overrides: { anchors: 2 }, hasAnchors: true, anchors: 2 },
  k4: { id: 'k4', label: 'K = 4', overrides: { anchors: 4 }, hasAnchors: true, anchors: 4 },
  k16: { id: 'k16', label: 'K = 16', overrides: { anchors: 16 }, hasAnchors: true, anchors: 16 },
  'no-branch': { id: 'no-branch', label: 'no anchor branch', overrides: { anchorBranch: false }, hasAnchors: false },
  hard: { id: 'hard', label: 'hard superpixels', overrides: { superpixels: 'hard' }, hasAnchors: true, anchors: 8 },
  'no-refinement': { id: 'no-refinement', label: 'no refinement', overrides: { refinement: false }, hasAnchors: true, anchors: 8 },
  random: { id: 'random', label: 'random anchor placement', overrides: { placement: 'random' }, hasAnchors: true, anchors: 8 },
};

const ABLATIONS: Ablation[] = [
  {
    id: 'anchors',
    title: 'Number of anchors K',
    base: 'k8',
    variants: ['k1', 'k2', 'k4', 'k16'],
    expectations: {
      k1: { metric: 'fid', base: 'better', claim: 'too few anchors under-color the image (synthetic claim)' },
      k2: { metric: 'fid', base: 'better', claim: 'too few anchors under-color the image (synthetic claim)' },
      k4: { metric: 'fid', base: 'better', claim: 'K = 8 beats K = 4 (synthetic claim)' },
    },
  },
  { id: 'branch', title: 'Anchor branch', base: 'k8', variants: ['no-branch'], expectations: { 'no-branch': { metric: 'fid', base: 'better', claim: 'without hints the generator regresses to a mean color (synthetic claim)' } } },
  { id: 'superpixels', title: 'Soft versus hard superpixels', base: 'k8', variants: ['hard'], expectations: { hard: { metric: 'abError', base: 'better', claim: 'soft association gives smoother color (synthetic claim)' } } },
  { id: 'refinement', title: 'Refinement network', base: 'k8', variants: ['no-refinement'], expectations: { 'no-refinement': { metric: 'auc', base: 'better', claim: 'refinement fixes color bleeding (synthetic claim)' } } },
  { id: 'clustering', title: 'Anchor placement: clustering versus random', base: 'k8', variants: ['random'], expectations: { random: { metric: 'fid', base: 'better', claim: 'clustered anchors beat random ones (synthetic claim)' } } },
];

const ERROR_LIKE = new Set<MetricKey>(['fid', 'kid', 'abError', 'oracleAbError']);

function runMetrics(variant: Variant, seed: number): Partial<Record<MetricKey, number>> {
  const noise = rng(hash(`${variant.id}/${seed}`));
  const e = EFFECT[variant.id] ?? 1;
  const out: Partial<Record<MetricKey, number>> = {};
  for (const [k, v] of Object.entries(BASE_METRICS) as Array<[MetricKey, number]>) {
    if (!variant.hasAnchors && (k.startsWith('oracle') || k === 'diversity')) continue;
    const effect = ERROR_LIKE.has(k) ? e : 1 / e;
    let value = v * effect * (1 + NOISE * noise());
    if (k === 'auc' || k === 'oracleAuc' || k === 'green' || k === 'red') value = Math.min(1, value);
    out[k] = value;
  }
  return out;
}

function runCurve(variant: Variant, seed: number, points: number, steps: number): CurvePoint[] {
  const noise = rng(hash(`curve/${variant.id}/${seed}`));
  const e = EFFECT[variant.id] ?? 1;
  return Array.from({ length: points }, (_, i) => {
    const step = Math.round((i * steps) / (points - 1));
    const decay = Math.exp(-step / (steps / 3));
    const j = 1 + 0.03 * noise();
    const ceModeler = (2.2 * decay + 1.1 * e) * j;
    const ceGenerator = (2.6 * decay + 1.3 * e) * j;
    const abL1 = (0.12 * decay + 0.05 * e) * j;
    return { step, total: ceModeler + ceGenerator + 10 * abL1, ceModeler, ceGenerator, abL1 };
  });
}

/** The synthetic grid as a {@link GridResults} (no files; see {@link writeSyntheticGrid}). */
export function syntheticGrid(options: SyntheticGridOptions = {}): GridResults {
  const seeds = options.seeds ?? [0, 1, 2];
  const nPhotos = options.photos ?? 3;
  const steps = 2000;
  const photos = Array.from({ length: nPhotos }, (_, i) => `photo-${i + 1}`);
  const runs: RunResult[] = [];
  for (const variant of Object.values(VARIANTS)) {
    for (const seed of seeds) {
      const id = `${variant.id}-s${seed}`;
      runs.push({
        id,
        variant: variant.id,
        seed,
        dir: `runs/${id}`,
        config: {
          anchors: variant.anchors ?? 0,
          anchorBranch: variant.overrides.anchorBranch ?? true,
          superpixels: variant.overrides.superpixels ?? 'soft',
          refinement: variant.overrides.refinement ?? true,
          placement: variant.overrides.placement ?? 'cluster',
          steps,
          imageSize: 64,
          batchSize: 4,
          learningRate: 0.0002,
          seed,
        },
        provenance: { gitCommit: 'abc1234', backend: 'wasm', machine: 'linux x64, 2 cores', date: '2026-12-01T10:00:00.000Z' },
        wallS: { train: 600 + 37 * seeds.indexOf(seed) + (hash(id) % 60), eval: 40 + (hash(id) % 9) },
        metrics: runMetrics(variant, seed),
        curve: runCurve(variant, seed, options.curvePoints ?? 41, steps),
        samples: photos.map((p) => ({ photo: p, predicted: `runs/${id}/samples/${p}.png`, ...(variant.hasAnchors ? { oracle: `runs/${id}/samples/${p}.oracle.png` } : {}) })),
      });
    }
  }
  const testTimeK: NonNullable<GridResults['testTimeK']> = [];
  for (const seed of seeds) {
    for (const K of [1, 2, 4, 8, 16]) {
      const noise = rng(hash(`ttk/${K}/${seed}`));
      const e = 1 + 0.25 * Math.abs(Math.log2(K / 8)) ** 1.3 / 3;
      testTimeK.push({ seed, K, metrics: { fid: 120 * e * (1 + NOISE * noise()), abError: 12 * e * (1 + NOISE * noise()), colorfulness: (25 / e) * (1 + NOISE * noise()), auc: (0.85 / e) * (1 + NOISE * noise()) } });
    }
  }
  return {
    format: 'disco-ablation-results-v1',
    created: '2026-12-01T12:00:00.000Z',
    budget: { name: 'smoke', steps, imageSize: 64, batchSize: 4, learningRate: 0.0002, seeds, heldoutImages: 12, maxSide: 128, checkpointEvery: 500, spixnetSteps: 0 },
    variants: VARIANTS,
    ablations: ABLATIONS,
    runs,
    references: {
      grey: { fid: 210, kid: 0.19, abError: 16, auc: 0.8, colorfulness: 0, green: 0, red: 0 },
      'mean color': { fid: 190, kid: 0.16, abError: 14.5, auc: 0.82, colorfulness: 6, green: 0.01, red: 0.02 },
    },
    samplePhotos: photos.map((p) => ({ name: p, truth: `photos/${p}.png`, grey: `photos/${p}.grey.png` })),
    testTimeK,
  };
}

const W = 96;
const H = 64;

/** A small RGB test photo: sky, a red object, green ground; `tint` (0..1) washes it out toward sepia. */
function photoPixels(index: number, tint: number, grey = false): Buffer {
  const px = Buffer.alloc(W * H * 3);
  const cx = 20 + ((index * 29) % 56);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let rgb: [number, number, number] = y < H * 0.55 ? [90 + y, 150 + y, 230] : [60, 140 - (y - 35), 50];
      if ((x - cx) ** 2 + (y - 30) ** 2 < 110) rgb = [210, 50, 40];
      const lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
      const sepia: [number, number, number] = [lum * 1.07, lum * 0.95, lum * 0.8];
      const t = grey ? 1 : tint;
      const out = grey ? [lum, lum, lum] : rgb.map((c, k) => c * (1 - t) + sepia[k] * t);
      const o = (y * W + x) * 3;
      for (let k = 0; k < 3; k++) px[o + k] = Math.max(0, Math.min(255, Math.round(out[k])));
    }
  }
  return px;
}

async function writePng(file: string, pixels: Buffer): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(pixels, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(file);
}

/**
 * Writes the synthetic grid's sample PNGs (96×64) under `dir` in the grid layout and returns
 * the grid. Worse variants get more washed-out samples, so the sample grid shows differences.
 */
export async function writeSyntheticGrid(dir: string, options: SyntheticGridOptions = {}): Promise<GridResults> {
  const grid = syntheticGrid(options);
  await Promise.all(
    grid.samplePhotos.flatMap((p, i) => [writePng(path.join(dir, p.truth), photoPixels(i, 0)), writePng(path.join(dir, p.grey), photoPixels(i, 0, true))]),
  );
  for (const run of grid.runs) {
    const tint = Math.min(0.95, Math.max(0.05, ((EFFECT[run.variant] ?? 1) - 0.85) * 1.4));
    await Promise.all(
      run.samples.flatMap((s) => {
        const i = grid.samplePhotos.findIndex((p) => p.name === s.photo);
        return [writePng(path.join(dir, s.predicted), photoPixels(i, tint)), ...(s.oracle ? [writePng(path.join(dir, s.oracle), photoPixels(i, tint * 0.4))] : [])];
      }),
    );
  }
  return grid;
}
