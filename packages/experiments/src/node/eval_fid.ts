/**
 * The work behind `nx run experiments:eval-fid`: decode two image sets, run a feature network in
 * batches, and score them with FID, KID, IS (when a 1000-class head is available) and colorfulness.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Progress } from '@disco/runtime/node';
import { colorfulness, summarizeColorfulness, type ColorfulnessSummary } from '../metrics/colorfulness.js';
import type { FeatureMatrix } from '../metrics/features.js';
import { frechetInceptionDistance } from '../metrics/fid.js';
import { inceptionScore } from '../metrics/inception_score.js';
import { kernelInceptionDistance, resolveKidOptions, type KidOptions } from '../metrics/kid.js';
import { readRgbImage, type DecodedRgb8 as DecodedImage } from '@disco/images';
import { imagesToBatch, type FeatureNetwork } from './inception.js';

/** Features, class probabilities and colorfulness of one image set. */
export interface ImageSetFeatures {
  /** The image files, in row order. */
  files: string[];
  /** One `[n, dims]` matrix per network feature layer (same order as `network.layers`). */
  features: FeatureMatrix[];
  /** Class probabilities `[n, classes]`, or null when the network has no 1000-class head. */
  probs: FeatureMatrix | null;
  /** Per-image colorfulness on the decoded full-resolution RGB. */
  colorfulness: number[];
  /** Seconds spent (decode + inference). */
  seconds: number;
  /** Images that could not be decoded and were left out, with the reason (one line each). */
  skipped: Array<{ file: string; error: string }>;
}

/** Options of {@link extractImageSetFeatures}. */
export interface ExtractOptions {
  /** Images per inference batch. Default 8. */
  batchSize?: number;
  /** Prefix of progress lines. Default `features`. */
  label?: string;
  /** Where progress lines go. Default: stderr. */
  write?: (line: string) => void;
  /** Minimum ms between progress lines. Default 2000. */
  intervalMs?: number;
  /** Where a warning about a skipped image goes (one line naming it). Default: `write`, else stderr. */
  warn?: (line: string) => void;
  /** Called after each batch for each decoded image, in row order: its features per layer, class probabilities and colorfulness (an incremental features file). */
  onImage?: (file: string, features: Float32Array[], probs: Float32Array | null, colorfulness: number) => void;
}

/** Fewest images per set FID and KID are defined for (unbiased covariance and MMD need 2). */
export const MIN_IMAGES_PER_SET = 2;

/**
 * Throws one line if a set is too small to score, before any feature is extracted:
 * `--fake: 1 image; FID and KID need at least 2 per set`.
 */
export function checkSetSizes(counts: { real: number; fake: number }, labels: { real: string; fake: string } = { real: 'real', fake: 'fake' }): void {
  for (const k of ['real', 'fake'] as const) {
    const n = counts[k];
    if (n < MIN_IMAGES_PER_SET) throw new Error(`${labels[k]}: ${n} image${n === 1 ? '' : 's'}; FID and KID need at least ${MIN_IMAGES_PER_SET} per set`);
  }
}

/**
 * Warnings to print with scores from small sets: FID from fewer images than feature dimensions
 * (rank-deficient covariances, strong upward bias: compare only values with the same n; Heusel
 * et al. use 10 000 or more), and KID whose subsets are as large as a set (every subset then
 * holds the same images, so its ± shows no sampling spread).
 */
export function smallSampleWarnings(s: SetScores, counts: { real: number; fake: number }): string[] {
  const out: string[] = [];
  const n = Math.min(counts.real, counts.fake);
  const dims = Math.max(...s.layers.map((l) => l.dims));
  if (n < dims) out.push(`small sample: FID from ${counts.real} real / ${counts.fake} fake images, fewer than the ${dims} feature dimensions; the value is strongly biased upward by the sample size: compare only runs with the same n (Heusel et al. use ≥ 10 000)`);
  for (const l of s.layers) {
    if (l.kid.subsetSize >= n) {
      out.push(`small sample: ${l.kidLabel} subsets of ${l.kid.subsetSize} from ${n} images hold every image, so its ± (${l.kid.std.toExponential(2)}) is not a sampling uncertainty`);
      break;
    }
  }
  return out;
}

/**
 * Runs `network` over `files` in batches (decode with sharp, bilinear resize to the network's
 * input, RGB in [0, 1]) and collects features, probabilities and colorfulness. An image that
 * cannot be decoded is left out with a warning naming it (see {@link ImageSetFeatures.skipped});
 * the rows then hold the decoded images only. Prints progress with rate and ETA. Frees every
 * tensor it creates.
 */
export async function extractImageSetFeatures(files: readonly string[], network: FeatureNetwork, options: ExtractOptions = {}): Promise<ImageSetFeatures> {
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`extractImageSetFeatures: batchSize must be a positive integer, got ${batchSize}`);
  if (files.length === 0) throw new Error('extractImageSetFeatures: files must not be empty');
  const warn = options.warn ?? options.write ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const t0 = performance.now();
  const n = files.length;
  const dims = network.layers.map((l) => l.dims);
  const feats = dims.map((d) => new Float32Array(n * d));
  const probs = network.classes > 0 ? new Float32Array(n * network.classes) : null;
  const cf: number[] = [];
  const kept: string[] = [];
  const skipped: Array<{ file: string; error: string }> = [];
  const progress = new Progress({ total: n, label: options.label ?? 'features', ...(options.write ? { write: options.write } : {}), ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}) });
  let row = 0;
  for (let start = 0; start < n; start += batchSize) {
    const chunk = files.slice(start, start + batchSize);
    const images: DecodedImage[] = [];
    for (const f of chunk) {
      let im: DecodedImage;
      try {
        im = await readRgbImage(f);
      } catch (e) {
        const error = String((e as Error).message).split('\n')[0]!;
        skipped.push({ file: f, error });
        warn(`${options.label ?? 'features'}: warning: skipping ${error.startsWith('readRgbImage:') ? error.replace(/^readRgbImage: /, '') : `'${f}': ${error}`}`);
        continue;
      }
      cf.push(colorfulness(im));
      images.push(im);
      kept.push(f);
    }
    if (images.length > 0) {
      const batch = network.prepare ? network.prepare(images) : imagesToBatch(images, network.inputSize);
      const out = network.infer(batch);
      batch.dispose();
      for (let k = 0; k < dims.length; k++) feats[k]!.set(await out.features[k]!.data(), row * dims[k]!);
      if (probs !== null && out.probs !== null) probs.set(await out.probs.data(), row * network.classes);
      tf.dispose([...out.features, ...(out.probs ? [out.probs] : [])]);
      if (options.onImage)
        for (let k = 0; k < images.length; k++) {
          const r = row + k;
          options.onImage(kept[r]!, feats.map((f, l) => f.slice(r * dims[l]!, (r + 1) * dims[l]!)), probs === null ? null : probs.slice(r * network.classes, (r + 1) * network.classes), cf[r]!);
        }
      row += images.length;
    }
    progress.update(Math.min(start + batchSize, n), { img_per_s: (Math.min(start + batchSize, n) * 1000) / (performance.now() - t0), ...(skipped.length ? { skipped: skipped.length } : {}) });
  }
  return {
    files: kept,
    features: feats.map((data, k) => ({ rows: row, cols: dims[k]!, data: data.subarray(0, row * dims[k]!) })),
    probs: probs === null ? null : { rows: row, cols: network.classes, data: probs.subarray(0, row * network.classes) },
    colorfulness: cf,
    seconds: (performance.now() - t0) / 1000,
    skipped,
  };
}

/** Options of {@link scoreFeatureSets}. */
export interface ScoreOptions {
  /** KID subset options (subset size is clamped to the set sizes). */
  kid?: Partial<KidOptions>;
  /** IS splits. Default 10, reduced to the set size when smaller. */
  isSplits?: number;
}

/** Scores of one feature layer. */
export interface LayerScores {
  /** Layer key (`pool`, `mixed5`). */
  layer: string;
  /** Feature dimension. */
  dims: number;
  /** Label of the FID value, e.g. `FID[nsfw-inception-2048]`. */
  fidLabel: string;
  /** FID. */
  fid: number;
  /** Label of the KID value, e.g. `KID[nsfw-inception-2048]`. */
  kidLabel: string;
  /** KID mean and std over subsets. */
  kid: { mean: number; std: number; subsets: number; subsetSize: number };
}

/** IS of both sets, or why it is unavailable. */
export type IsScores =
  | { available: true; label: string; splits: number; real: { mean: number; std: number }; fake: { mean: number; std: number } }
  | { available: false; reason: string };

/** Everything {@link scoreFeatureSets} computes. */
export interface SetScores {
  /** FID and KID per feature layer. */
  layers: LayerScores[];
  /** Inception Score of each set. */
  inceptionScore: IsScores;
  /** Colorfulness of each set. */
  colorfulness: { real: ColorfulnessSummary; fake: ColorfulnessSummary };
}

/** Scores two extracted sets (FID/KID per feature layer, IS, colorfulness), labelled with the network's name. */
export function scoreFeatureSets(real: ImageSetFeatures, fake: ImageSetFeatures, network: FeatureNetwork, options: ScoreOptions = {}): SetScores {
  const kidOpts = resolveKidOptions(options.kid ?? {});
  const layers = network.layers.map((l, k): LayerScores => {
    const tag = l.key === 'pool' ? `${network.name}-${l.dims}` : `${network.name}-${l.key}-${l.dims}`;
    const fid = frechetInceptionDistance(real.features[k]!, fake.features[k]!).fid;
    const kid = kernelInceptionDistance(real.features[k]!, fake.features[k]!, kidOpts);
    return { layer: l.key, dims: l.dims, fidLabel: `FID[${tag}]`, fid, kidLabel: `KID[${tag}]`, kid: { mean: kid.mean, std: kid.std, subsets: kidOpts.subsets, subsetSize: kid.subsetSize } };
  });
  let is: IsScores;
  if (real.probs === null || fake.probs === null) {
    is = { available: false, reason: network.isUnavailableReason ?? 'no class probabilities' };
  } else {
    const splits = Math.min(options.isSplits ?? 10, real.probs.rows, fake.probs.rows);
    const a = inceptionScore(real.probs, { splits });
    const b = inceptionScore(fake.probs, { splits });
    is = { available: true, label: `IS[${network.name}]`, splits, real: { mean: a.mean, std: a.std }, fake: { mean: b.mean, std: b.std } };
  }
  return { layers, inceptionScore: is, colorfulness: { real: summarizeColorfulness(real.colorfulness), fake: summarizeColorfulness(fake.colorfulness) } };
}

/** The human-readable table printed by the command. */
export function formatScoreTable(s: SetScores, counts: { real: number; fake: number }): string {
  const rows: [string, string][] = [['images (real / fake)', `${counts.real} / ${counts.fake}`]];
  for (const l of s.layers) {
    rows.push([l.fidLabel, l.fid.toFixed(4)]);
    rows.push([l.kidLabel, `${l.kid.mean.toFixed(6)} ± ${l.kid.std.toFixed(6)} (${l.kid.subsets}×${l.kid.subsetSize})`]);
  }
  if (s.inceptionScore.available) {
    rows.push([`${s.inceptionScore.label} real`, `${s.inceptionScore.real.mean.toFixed(3)} ± ${s.inceptionScore.real.std.toFixed(3)}`]);
    rows.push([`${s.inceptionScore.label} fake`, `${s.inceptionScore.fake.mean.toFixed(3)} ± ${s.inceptionScore.fake.std.toFixed(3)}`]);
  } else {
    rows.push(['IS', `unavailable: ${s.inceptionScore.reason}`]);
  }
  rows.push(['colorfulness real', `${s.colorfulness.real.mean.toFixed(3)} ± ${s.colorfulness.real.std.toFixed(3)}`]);
  rows.push(['colorfulness fake', `${s.colorfulness.fake.mean.toFixed(3)} ± ${s.colorfulness.fake.std.toFixed(3)}`]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
