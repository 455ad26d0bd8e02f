/**
 * The paper's five ablations (Xia et al. 2022, §5: number of anchors, anchor branch, soft vs hard
 * superpixels, refinement, clustering vs random anchors) as variants of one base recipe, and the
 * budgets a grid is run at.
 */
import { TINY_RECIPE } from '@disco/colorize';
import type { Ablation, Budget, PaperExpectation, Variant, VariantOverrides } from './types.js';

/** The anchor counts of the `anchors` ablation (one trained model per K, as the published code). */
export const ANCHOR_COUNTS: readonly number[] = Object.freeze([1, 2, 4, 8, 16]);

/** The base K (the paper's and the published code's default, `--n_clusters 8`). */
export const BASE_ANCHORS = 8;

const variant = (id: string, label: string, overrides: VariantOverrides): Variant => ({
  id,
  label,
  overrides,
  hasAnchors: overrides.anchorBranch !== false && overrides.arch === undefined,
});

/** Every variant the ablations use, by id. `base` is DISCO with K = 8 and every component on. */
export const VARIANTS: Readonly<Record<string, Variant>> = Object.freeze(
  Object.fromEntries(
    [
      variant('base', `DISCO (K = ${BASE_ANCHORS})`, {}),
      ...ANCHOR_COUNTS.filter((k) => k !== BASE_ANCHORS).map((k) => variant(`k${k}`, `K = ${k}`, { anchors: k })),
      variant('no-branch', 'without anchor branch', { anchorBranch: false }),
      variant('hard', 'hard superpixels', { superpixels: 'hard' }),
      variant('no-refinement', 'without refinement', { refinement: false }),
      variant('random', 'random anchors', { placement: 'random' }),
      variant('regression', 'baseline: per-pixel regression', { arch: 'regression' }),
      variant('classification', 'baseline: per-pixel classification (Zhang et al. 2016)', { arch: 'classification' }),
    ].map((v) => [v.id, v]),
  ),
);

const better = (metric: PaperExpectation['metric'], claim: string): PaperExpectation => ({ metric, base: 'better', claim });

/**
 * The ablations. Expectations paraphrase the paper's findings (§5.3–5.4): each component it
 * proposes improves realism (FID) and its anchors steer color; with ground-truth anchor colors more
 * anchors carry more of the true colors, while predicted colors gain little beyond K = 8.
 */
export const ABLATIONS: readonly Ablation[] = Object.freeze([
  {
    id: 'anchors',
    title: 'Number of anchors K',
    base: 'base',
    variants: ANCHOR_COUNTS.filter((k) => k !== BASE_ANCHORS).map((k) => `k${k}`),
    expectations: Object.fromEntries(
      ANCHOR_COUNTS.filter((k) => k !== BASE_ANCHORS).map((k) => [
        `k${k}`,
        k < BASE_ANCHORS
          ? better('oracleAbError', `fewer anchors carry fewer true colors: K = ${k} is less accurate than K = ${BASE_ANCHORS} with ground-truth anchor colors`)
          : { metric: 'oracleAbError', base: 'worse', claim: `more anchors carry more true colors: K = ${k} is more accurate than K = ${BASE_ANCHORS} with ground-truth anchor colors` },
      ]),
    ) as Record<string, PaperExpectation>,
  },
  {
    id: 'branch',
    title: 'Anchor branch (color generator conditioned on anchor colors)',
    base: 'base',
    variants: ['no-branch'],
    expectations: { 'no-branch': better('fid', 'without anchors the generator falls back to average colors: FID rises') },
  },
  {
    id: 'superpixels',
    title: 'Soft versus hard superpixels',
    base: 'base',
    variants: ['hard'],
    expectations: { hard: better('fid', 'hard association gives blocky color boundaries: FID rises') },
  },
  {
    id: 'refinement',
    title: 'Refinement network',
    base: 'base',
    variants: ['no-refinement'],
    expectations: { 'no-refinement': better('fid', 'without refinement the diffused colors bleed across edges: FID rises') },
  },
  {
    id: 'clustering',
    title: 'Anchor placement: clustering versus random',
    base: 'base',
    variants: ['random'],
    expectations: { random: better('oracleAbError', 'clustered anchors cover the distinct color regions: random placement carries fewer of the true colors') },
  },
]);

/** The names `ablation-<name>` accepts. */
export const ABLATION_NAMES: readonly string[] = Object.freeze([...ABLATIONS.map((a) => a.id), 'all']);

/** Variants the baselines add as reference rows to every report (trained only when asked). */
export const BASELINE_VARIANTS: readonly string[] = Object.freeze(['regression', 'classification']);

/** The recipe every variant changes one block of: the embedded `tiny` model's ({@link TINY_RECIPE}). */
export const BASE_RECIPE = TINY_RECIPE;

const lr = BASE_RECIPE.options.learningRate;

/**
 * Budgets (steps, crop size and seeds; the learning rate is the base recipe's). Times are for
 * `ablation-all` (9 variants) on 2 cores with `--jobs 2`: `smoke` about a minute (plumbing only),
 * `quick` about 1.5 h, `full` about 6 h.
 */
export const BUDGETS: Readonly<Record<string, Budget>> = Object.freeze({
  smoke: { name: 'smoke', steps: 3, imageSize: 32, batchSize: 2, learningRate: lr, seeds: [0], heldoutImages: 3, maxSide: 48, checkpointEvery: 2, spixnetSteps: 0 },
  quick: { name: 'quick', steps: 100, imageSize: 64, batchSize: 8, learningRate: lr, seeds: [0, 1, 2], heldoutImages: 24, maxSide: 128, checkpointEvery: 50, spixnetSteps: 0 },
  full: { name: 'full', steps: 600, imageSize: 64, batchSize: 8, learningRate: lr, seeds: [0, 1, 2], heldoutImages: 48, maxSide: 160, checkpointEvery: 100, spixnetSteps: 0 },
});

/** The ablations named by `name` (`all`: every one). */
export function ablationsNamed(name: string): Ablation[] {
  if (name === 'all') return [...ABLATIONS];
  const a = ABLATIONS.find((x) => x.id === name);
  if (!a) throw new Error(`ablation: unknown '${name}'; valid: ${ABLATION_NAMES.join(', ')}`);
  return [a];
}

/** The variant ids a set of ablations trains (the base once), optionally with the baselines. */
export function variantsOf(ablations: readonly Ablation[], baselines = false): string[] {
  const ids = new Set<string>();
  for (const a of ablations) {
    ids.add(a.base);
    for (const v of a.variants) ids.add(v);
  }
  if (baselines) for (const b of BASELINE_VARIANTS) ids.add(b);
  return [...ids];
}
