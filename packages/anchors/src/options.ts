/**
 * Options of the anchor locator and the anchor-color sampler: interfaces with documented
 * defaults, one frozen defaults object each, and pure resolvers that validate and copy.
 */
import { checkChoice, checkInt, checkNonNegative, rejectUnknownKeys } from './internal/validate.js';

/** How {@link kmeans} picks its initial centroids. */
export type KMeansInit = 'kmeans++' | 'random';

/** Every valid {@link KMeansInit}. */
export const KMEANS_INITS: readonly KMeansInit[] = Object.freeze(['kmeans++', 'random'] as const);

/** The distance {@link kmeans} clusters with. */
export type KMeansMetric = 'euclidean' | 'cosine';

/** Every valid {@link KMeansMetric}. */
export const KMEANS_METRICS: readonly KMeansMetric[] = Object.freeze(['euclidean', 'cosine'] as const);

/** Options of {@link kmeans} (Xia et al. 2022, §3). */
export interface KMeansOptions {
  /** Number of clusters K, an integer >= 1 and at most the number of tokens T. Default 8. */
  k: number;
  /** Maximum number of Lloyd iterations, an integer >= 0. Default 20. */
  maxIter: number;
  /**
   * An image stops iterating once no centroid moved by more than `tol` (L2 norm) in one
   * iteration. Default 1e-4.
   */
  tol: number;
  /** Initialisation: `kmeans++` (D² sampling) or `random` (K distinct tokens). Default `kmeans++`. */
  init: KMeansInit;
  /**
   * `euclidean`, or `cosine` (spherical k-means: tokens and centroids are normalised to unit length,
   * so the squared Euclidean distance is `2 − 2·cos`). Default `euclidean`.
   */
  metric: KMeansMetric;
  /** Seed of the initialisation, a 32-bit unsigned integer. Default 0. */
  seed: number;
}

/** Defaults of {@link KMeansOptions}. */
export const KMEANS_DEFAULTS: Readonly<KMeansOptions> = Object.freeze({
  k: 8,
  maxIter: 20,
  tol: 1e-4,
  init: 'kmeans++',
  metric: 'euclidean',
  seed: 0,
} satisfies KMeansOptions);

const KMEANS_KEYS = Object.keys(KMEANS_DEFAULTS);

function checkKMeans(fn: string, o: KMeansOptions): void {
  checkInt(fn, 'k', o.k, 1);
  checkInt(fn, 'maxIter', o.maxIter, 0);
  checkNonNegative(fn, 'tol', o.tol);
  checkChoice(fn, 'init', o.init, KMEANS_INITS);
  checkChoice(fn, 'metric', o.metric, KMEANS_METRICS);
  checkInt(fn, 'seed', o.seed, 0, 0xffffffff);
}

/**
 * Fills in {@link KMEANS_DEFAULTS}, validates every field and rejects unknown keys. Pure: returns
 * a new object and never mutates `partial`.
 *
 * @example
 * ```ts
 * resolveKMeansOptions({ k: 4 }); // { k: 4, maxIter: 20, tol: 1e-4, init: 'kmeans++', metric: 'euclidean', seed: 0 }
 * ```
 */
export function resolveKMeansOptions(partial: Partial<KMeansOptions> = {}): KMeansOptions {
  rejectUnknownKeys('resolveKMeansOptions', partial, KMEANS_KEYS);
  const o: KMeansOptions = { ...KMEANS_DEFAULTS, ...partial };
  checkKMeans('resolveKMeansOptions', o);
  return o;
}

/** Where {@link locateAnchors} puts the anchors. */
export type AnchorPlacement = 'cluster' | 'random';

/** Every valid {@link AnchorPlacement}. */
export const ANCHOR_PLACEMENTS: readonly AnchorPlacement[] = Object.freeze(['cluster', 'random'] as const);

/** Which rules {@link locateAnchors} clusters and picks by (see {@link LocatorOptions.rules}). */
export type AnchorRules = 'published' | 'distinct';

/** Every valid {@link AnchorRules}. */
export const ANCHOR_RULES: readonly AnchorRules[] = Object.freeze(['published', 'distinct'] as const);

/** Options of {@link locateAnchors}: the k-means options plus the placement mode. */
export interface LocatorOptions extends KMeansOptions {
  /**
   * `cluster`: k-means, then the largest superpixel of each cluster (the paper). `random`: K
   * distinct positions uniformly without replacement (the ablation). Default `cluster`.
   */
  placement: AnchorPlacement;
  /**
   * `distinct` (default): {@link kmeans} with `init`, `metric`, `maxIter`, `tol`, and K distinct
   * anchors ({@link selectAnchors}' `emptyCluster: 'distinct'`). `published`: the released code's
   * rules, {@link kmeansPublished} (K uniform initial tokens, `maxIter`, `tol` on the squared
   * total shift, assignments of the last pass; `init` is ignored, `metric` must be `euclidean`)
   * and an empty cluster's anchor at the globally largest token (`emptyCluster: 'largest'`).
   */
  rules: AnchorRules;
  /**
   * `published` rules only: the initial centre tokens of each image, `[batch][K]` (e.g. recorded
   * from a reference run), instead of drawing them. Default null (drawn with `seed`).
   */
  initIndices: readonly (readonly number[])[] | null;
}

/** Defaults of {@link LocatorOptions} (K = 8 as in the paper). */
export const LOCATOR_DEFAULTS: Readonly<LocatorOptions> = Object.freeze({
  ...KMEANS_DEFAULTS,
  placement: 'cluster',
  rules: 'distinct',
  initIndices: null,
} satisfies LocatorOptions);

const LOCATOR_KEYS = Object.keys(LOCATOR_DEFAULTS);

/** Fills in {@link LOCATOR_DEFAULTS}, validates every field and rejects unknown keys (pure). */
export function resolveLocatorOptions(partial: Partial<LocatorOptions> = {}): LocatorOptions {
  rejectUnknownKeys('resolveLocatorOptions', partial, LOCATOR_KEYS);
  const o: LocatorOptions = { ...LOCATOR_DEFAULTS, ...partial };
  checkKMeans('resolveLocatorOptions', o);
  checkChoice('resolveLocatorOptions', 'placement', o.placement, ANCHOR_PLACEMENTS);
  checkChoice('resolveLocatorOptions', 'rules', o.rules, ANCHOR_RULES);
  if (o.rules === 'published' && o.metric !== 'euclidean') throw new Error(`resolveLocatorOptions: the published rules cluster with the euclidean metric (got ${o.metric})`);
  if (o.initIndices !== null && (o.rules !== 'published' || !Array.isArray(o.initIndices))) throw new Error('resolveLocatorOptions: initIndices must be null or, with the published rules, one list of token indices per image');
  return o;
}

/** Which of the three diverse colorizations {@link sampleAnchorColors} draws (Xia et al. 2022, §3). */
export type ColorVariant = 0 | 1 | 2;

/** Every valid {@link ColorVariant}. */
export const COLOR_VARIANTS: readonly ColorVariant[] = Object.freeze([0, 1, 2] as const);

/** How variant 2 combines its two distances (see {@link ColorSamplingOptions.diverse}). */
export type DiverseRule = 'sum' | 'min';

/** Every valid {@link DiverseRule}. */
export const DIVERSE_RULES: readonly DiverseRule[] = Object.freeze(['sum', 'min'] as const);

/** Options of {@link sampleAnchorColors}. */
export interface ColorSamplingOptions {
  /**
   * 0: the most probable bin. 1: among the `topK` most probable bins, the one farthest in ab from
   * the most probable. 2: among the `topK`, the one farthest from the variant-0 and variant-1
   * bins together (see `diverse`). Default 0.
   */
  variant: ColorVariant;
  /** Number of most probable bins the variants 1 and 2 choose from, an integer >= 1. Default 10. */
  topK: number;
  /**
   * Variant 2's score of a candidate c: `min`, `min(d(c, c₀), d(c, c₁))` (the largest distance to
   * the nearer of the two; default); `sum`, `d(c, c₀) + d(c, c₁)` (the published code's rule).
   */
  diverse: DiverseRule;
}

/** Defaults of {@link ColorSamplingOptions}. */
export const COLOR_SAMPLING_DEFAULTS: Readonly<ColorSamplingOptions> = Object.freeze({
  variant: 0,
  topK: 10,
  diverse: 'min',
} satisfies ColorSamplingOptions);

const SAMPLING_KEYS = Object.keys(COLOR_SAMPLING_DEFAULTS);

/** Fills in {@link COLOR_SAMPLING_DEFAULTS}, validates every field and rejects unknown keys (pure). */
export function resolveColorSamplingOptions(partial: Partial<ColorSamplingOptions> = {}): ColorSamplingOptions {
  rejectUnknownKeys('resolveColorSamplingOptions', partial, SAMPLING_KEYS);
  const o: ColorSamplingOptions = { ...COLOR_SAMPLING_DEFAULTS, ...partial };
  checkChoice('resolveColorSamplingOptions', 'variant', o.variant, COLOR_VARIANTS);
  checkInt('resolveColorSamplingOptions', 'topK', o.topK, 1);
  checkChoice('resolveColorSamplingOptions', 'diverse', o.diverse, DIVERSE_RULES);
  return o;
}

/** How {@link applyUserAnchors} combines a person's anchors with the located ones. */
export type UserAnchorMode = 'merge' | 'replace';

/** Every valid {@link UserAnchorMode}. */
export const USER_ANCHOR_MODES: readonly UserAnchorMode[] = Object.freeze(['merge', 'replace'] as const);

/** Options of {@link applyUserAnchors}. */
export interface UserAnchorOptions {
  /** Superpixel cell size S in pixels, for anchors given in pixel units; an integer >= 1. Default 16. */
  cellSize: number;
  /**
   * `merge`: user anchors are added to the located ones and override their color where they share a
   * cell. `replace`: in an image with at least one user anchor, only the user anchors remain.
   * Default `merge`.
   */
  mode: UserAnchorMode;
}

/** Defaults of {@link UserAnchorOptions} (S = 16 as in the paper). */
export const USER_ANCHOR_DEFAULTS: Readonly<UserAnchorOptions> = Object.freeze({
  cellSize: 16,
  mode: 'merge',
} satisfies UserAnchorOptions);

const USER_KEYS = Object.keys(USER_ANCHOR_DEFAULTS);

/** Fills in {@link USER_ANCHOR_DEFAULTS}, validates every field and rejects unknown keys (pure). */
export function resolveUserAnchorOptions(partial: Partial<UserAnchorOptions> = {}): UserAnchorOptions {
  rejectUnknownKeys('resolveUserAnchorOptions', partial, USER_KEYS);
  const o: UserAnchorOptions = { ...USER_ANCHOR_DEFAULTS, ...partial };
  checkInt('resolveUserAnchorOptions', 'cellSize', o.cellSize, 1);
  checkChoice('resolveUserAnchorOptions', 'mode', o.mode, USER_ANCHOR_MODES);
  return o;
}
