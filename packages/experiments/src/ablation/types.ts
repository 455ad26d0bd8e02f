/**
 * The data model of the ablation grid (Xia et al. 2022, §5 ablations): what a run is, what it
 * measures, and the `results.json` every report is rendered from. Pure types and constants.
 */
import type { DiscoConfig } from '@disco/colorize';

/** Metric keys a run reports; lower-is-better or higher-is-better is in {@link METRICS}. */
export type MetricKey =
  | 'fid'
  | 'kid'
  | 'abError'
  | 'auc'
  | 'colorfulness'
  | 'green'
  | 'red'
  | 'diversity'
  | 'oracleAbError'
  | 'oracleAuc'
  | 'oracleColorfulness';

/** How a metric reads: its label, unit and which direction is better. */
export interface MetricInfo {
  /** Short column label. */
  label: string;
  /** One line for the report's legend. */
  description: string;
  /** `true` when a larger value is better. */
  higherIsBetter: boolean;
}

/** Every metric of a run, in report order. */
export const METRICS: Readonly<Record<MetricKey, MetricInfo>> = Object.freeze({
  fid: { label: 'FID', description: 'Fréchet distance of InceptionV3 pool features (2048-d, the nsfwjs ImageNet weights), outputs vs originals; biased upward at small n', higherIsBetter: false },
  kid: { label: 'KID', description: 'kernel Inception distance on the same features (unbiased at small n)', higherIsBetter: false },
  abError: { label: 'ab err', description: 'mean |Δab| in Lab units against the photo, predicted anchors (T = 0)', higherIsBetter: false },
  auc: { label: 'AuC', description: 'area under the cumulative ab-error curve, t = 0…150 (Zhang et al. 2016)', higherIsBetter: true },
  colorfulness: { label: 'colorful', description: 'mean colorfulness (Hasler & Süsstrunk 2003) of the outputs', higherIsBetter: true },
  green: { label: 'green', description: 'fraction of output pixels with a < −10 (0…1)', higherIsBetter: true },
  red: { label: 'red', description: 'fraction of output pixels with a > 15 (0…1)', higherIsBetter: true },
  diversity: { label: 'diversity', description: 'mean ab distance between the three anchor samplings (T = 0, 1, 2)', higherIsBetter: true },
  oracleAbError: { label: 'oracle ab err', description: 'mean |Δab| with anchors colored from the ground truth (the generator’s upper bound)', higherIsBetter: false },
  oracleAuc: { label: 'oracle AuC', description: 'AuC with ground-truth anchor colors', higherIsBetter: true },
  oracleColorfulness: { label: 'oracle colorful', description: 'colorfulness with ground-truth anchor colors', higherIsBetter: true },
});

/** The switches a variant sets on top of the base recipe. */
export interface VariantOverrides {
  /** Anchors K (training and inference). */
  anchors?: number;
  /** `false`: the generator gets no hints (the anchor branch is removed). */
  anchorBranch?: boolean;
  /** Hard (argmax) instead of soft superpixel association. */
  superpixels?: 'soft' | 'hard';
  /** `false`: the refinement network is removed. */
  refinement?: boolean;
  /** Anchor placement (`ablation.placement` of the model config): `cluster` (the paper) or uniformly `random`. */
  placement?: DiscoConfig['ablation']['placement'];
  /** A reference baseline instead of DISCO (Zhang et al. 2016 style). */
  arch?: 'regression' | 'classification';
}

/** One model variant of the grid. */
export interface Variant {
  /** Identifier used in run ids and folder names (`[a-z0-9-]+`). */
  id: string;
  /** Human label. */
  label: string;
  /** What differs from the base recipe (empty for the base). */
  overrides: VariantOverrides;
  /** Whether the variant has anchors (oracle metrics and diversity exist). */
  hasAnchors: boolean;
  /** Anchors K the variant trains with, resolved (the base recipe's K where `overrides` leave it); the report's metric-versus-K curve reads it. Optional. */
  anchors?: number;
}

/** What the paper reports for a variant against the base: the metric and the expected sign. */
export interface PaperExpectation {
  /** Metric the paper's claim is about. */
  metric: MetricKey;
  /** `'better'`: the paper finds the base better than this variant on that metric; `'worse'`: the variant is better. */
  base: 'better' | 'worse';
  /** One line quoting or paraphrasing the claim. */
  claim: string;
}

/** One ablation: a set of variants compared against the base. */
export interface Ablation {
  /** `anchors`, `branch`, `superpixels`, `refinement`, `clustering`. */
  id: string;
  /** Title in the report. */
  title: string;
  /** The base variant's id (trained once, shared by every ablation). */
  base: string;
  /** The compared variants' ids (excluding the base), in display order. */
  variants: string[];
  /** The paper's direction per compared variant id (absent: the paper states none). */
  expectations: Record<string, PaperExpectation>;
}

/** Steps, sizes and seeds of a grid. */
export interface Budget {
  /** `smoke`, `quick` or `full`. */
  name: string;
  /** Stage-2 steps per run. */
  steps: number;
  /** Training crop side. */
  imageSize: number;
  /** Batch size. */
  batchSize: number;
  /** Learning rate. */
  learningRate: number;
  /** Seeds (one run per variant and seed). */
  seeds: number[];
  /** Held-out photos scored per run (first n of the sorted held-out list). */
  heldoutImages: number;
  /** Long side the held-out photos are scored at. */
  maxSide: number;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /** Stage-1 SPixNet steps (per seed; 0: reuse the embedded model's SPixNet). */
  spixnetSteps: number;
}

/** One point of a training curve. */
export interface CurvePoint {
  step: number;
  total: number;
  ceModeler: number;
  ceGenerator: number;
  abL1: number;
}

/** A finished run as stored in `results.json`. */
export interface RunResult {
  /** `<variant>-s<seed>`. */
  id: string;
  variant: string;
  seed: number;
  /** The run's folder, relative to the grid's output folder. */
  dir: string;
  /** Resolved model config and training options. */
  config: Record<string, unknown>;
  /** Commit, backend, machine of the run. */
  provenance: { gitCommit: string; backend: string; machine: string; date: string };
  /** Seconds spent training (all sessions) and evaluating. */
  wallS: { train: number; eval: number };
  /** Metric values; a metric the variant cannot have (oracle without anchors) is absent. */
  metrics: Partial<Record<MetricKey, number>>;
  /** Training loss, subsampled to at most 200 points. */
  curve: CurvePoint[];
  /** Sample colorizations (PNG paths relative to the grid's output folder), same photos for every run. */
  samples: Array<{ photo: string; predicted: string; oracle?: string }>;
}

/** `results.json` of a grid. */
export interface GridResults {
  format: 'disco-ablation-results-v1';
  /** When the file was written (ISO). */
  created: string;
  budget: Budget;
  /** The variants of the grid, by id. */
  variants: Record<string, Variant>;
  /** The ablations the grid covers. */
  ablations: Ablation[];
  /** Finished runs. */
  runs: RunResult[];
  /** Reference rows scored on the same photos: grey (no color) and the training mean color. */
  references: Record<string, Partial<Record<MetricKey, number>>>;
  /** Held-out sample photos (relative paths of their ground truth and grey PNGs). */
  samplePhotos: Array<{ name: string; truth: string; grey: string }>;
  /** Runs test-time K (the `anchors` ablation's extra curve): K → metrics of one base model per seed. */
  testTimeK?: Array<{ seed: number; K: number; metrics: Partial<Record<MetricKey, number>> }>;
}
