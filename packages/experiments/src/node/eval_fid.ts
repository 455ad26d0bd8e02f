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
import { readRgbImage, type DecodedImage } from './images.js';
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
}

/**
 * Runs `network` over `files` in batches (decode with sharp, bilinear resize to the network's
 * input, RGB in [0, 1]) and collects features, probabilities and colorfulness. Prints progress
 * with rate and ETA. Frees every tensor it creates.
 */
export async function extractImageSetFeatures(files: readonly string[], network: FeatureNetwork, options: ExtractOptions = {}): Promise<ImageSetFeatures> {
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`extractImageSetFeatures: batchSize must be a positive integer, got ${batchSize}`);
  if (files.length === 0) throw new Error('extractImageSetFeatures: files must not be empty');
  const t0 = performance.now();
  const n = files.length;
  const dims = network.layers.map((l) => l.dims);
  const feats = dims.map((d) => new Float32Array(n * d));
  const probs = network.classes > 0 ? new Float32Array(n * network.classes) : null;
  const cf: number[] = [];
  const progress = new Progress({ total: n, label: options.label ?? 'features', ...(options.write ? { write: options.write } : {}), ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}) });
  for (let start = 0; start < n; start += batchSize) {
    const chunk = files.slice(start, start + batchSize);
    const images: DecodedImage[] = [];
    for (const f of chunk) {
      const im = await readRgbImage(f);
      cf.push(colorfulness(im));
      images.push(im);
    }
    const batch = imagesToBatch(images, network.inputSize);
    const out = network.infer(batch);
    batch.dispose();
    for (let k = 0; k < dims.length; k++) feats[k]!.set(await out.features[k]!.data(), start * dims[k]!);
    if (probs !== null && out.probs !== null) probs.set(await out.probs.data(), start * network.classes);
    tf.dispose([...out.features, ...(out.probs ? [out.probs] : [])]);
    progress.update(Math.min(start + batchSize, n), { img_per_s: (Math.min(start + batchSize, n) * 1000) / (performance.now() - t0) });
  }
  return {
    files: [...files],
    features: feats.map((data, k) => ({ rows: n, cols: dims[k]!, data })),
    probs: probs === null ? null : { rows: n, cols: network.classes, data: probs },
    colorfulness: cf,
    seconds: (performance.now() - t0) / 1000,
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
