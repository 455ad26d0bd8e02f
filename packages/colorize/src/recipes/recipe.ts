/**
 * Training recipes as data: a named, typed description of one stage-2 run (model preset and
 * extensions, losses, schedule) that `disco train --recipe <name|file>`, the ablation grid and
 * `recipeSpec` read. Command-line flags only override a recipe's fields.
 */
import type { AblationConfig, DiscoConfigOverrides, DiscoExtensions, PretrainedFeaturesConfig } from '../model/config.js';
import type { Stage2Extensions, Stage2Options } from '../train/stage2.js';

/** The extensions a recipe may set (the ones `disco train` has flags for); absent: the paper's. */
export type RecipeExtensions = Partial<Pick<DiscoExtensions, 'arch' | 'hintEncoding' | 'hintBroadcast' | 'residualRefinement' | 'decodeTemperature'>> & {
  /** Frozen pretrained features fused into the tokens (`layer`, `inputSize`); absent: none. */
  pretrainedFeatures?: Pick<PretrainedFeaturesConfig, 'layer'> & Partial<Pick<PretrainedFeaturesConfig, 'inputSize'>>;
};

/**
 * The model fields a recipe may set on top of its preset (the ones `disco train` has flags for).
 *
 * @example
 * ```ts
 * const model: RecipeModel = { anchors: 8, extensions: { hintBroadcast: true, pretrainedFeatures: { layer: 'mixed5', inputSize: 192 } } };
 * ```
 */
export interface RecipeModel {
  /** Number of anchors K. */
  anchors?: number;
  /** The paper's ablations. */
  ablation?: Partial<AblationConfig>;
  /** What the paper does not have (see `DiscoExtensions`). */
  extensions?: RecipeExtensions;
}

/** The stage-2 options a recipe may set (the perceptual weight follows from {@link TrainRecipe.perceptual}). */
export type RecipeOptions = Partial<Pick<Stage2Options, 'steps' | 'learningRate' | 'seed'>> & {
  /** Loss options beyond the paper (see `Stage2Extensions`). */
  extensions?: Partial<Stage2Extensions>;
};

/** One training recipe; every field left out takes `TRAIN_DEFAULTS`. */
export interface TrainRecipe {
  /** Short name (`tiny`, `tiny-pf`, `paper`). */
  name: string;
  /** One line: what it trains and why. */
  description: string;
  /** Model preset. */
  preset: 'paper' | 'tiny';
  /** Model fields set on top of the preset. */
  model: RecipeModel;
  /** Losses and schedule. */
  options: RecipeOptions;
  /** Perceptual feature network (`none` or a registered name). */
  perceptual?: string;
  /** Images per batch. */
  batchSize?: number;
  /** Steps between validations (0: never). */
  validateEvery?: number;
  /** Batches per validation. */
  validationBatches?: number;
  /** Steps between checkpoints. */
  checkpointEvery?: number;
  /** Threads per step. */
  workers?: number;
  /** Checkpoint and stop once this step is done (a shorter run of a longer schedule). */
  stopAt?: number;
}

const RECIPE_KEYS = ['name', 'description', 'preset', 'model', 'options', 'perceptual', 'batchSize', 'validateEvery', 'validationBatches', 'checkpointEvery', 'workers', 'stopAt'];
const MODEL_KEYS = ['anchors', 'ablation', 'extensions'];
const EXTENSION_KEYS = ['arch', 'hintEncoding', 'hintBroadcast', 'residualRefinement', 'decodeTemperature', 'pretrainedFeatures'];
const OPTION_KEYS = ['steps', 'learningRate', 'seed', 'extensions'];
const OPTION_EXTENSION_KEYS = ['laplacianWeight', 'pixelWeight', 'softTargets', 'rebalance'];

function known(where: string, o: unknown, keys: string[]): void {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error(`recipe: ${where || 'the recipe'} must be an object`);
  const bad = Object.keys(o).filter((k) => !keys.includes(k));
  if (bad.length > 0) throw new Error(`recipe: unknown key${bad.length > 1 ? 's' : ''} ${bad.map((k) => `'${where}${k}'`).join(', ')}; valid: ${keys.join(', ')}`);
}

/**
 * Checks the shape of a recipe (e.g. parsed from a JSON file): required fields present, unknown
 * keys rejected by name. Ranges are checked where the recipe is used (`resolveDiscoConfig`,
 * `resolveStage2Options`). Returns the recipe unchanged.
 */
export function checkRecipe(r: unknown): TrainRecipe {
  known('', r, RECIPE_KEYS);
  const o = r as TrainRecipe;
  if (typeof o.name !== 'string' || o.name === '') throw new Error("recipe: 'name' must be a non-empty string");
  if (o.preset !== 'paper' && o.preset !== 'tiny') throw new Error(`recipe ${o.name}: 'preset' must be paper or tiny (got ${JSON.stringify(o.preset)})`);
  known('model.', o.model, MODEL_KEYS);
  known('options.', o.options, OPTION_KEYS);
  if (o.options.extensions !== undefined) known('options.extensions.', o.options.extensions, OPTION_EXTENSION_KEYS);
  const ext = o.model.extensions;
  if (ext !== undefined) known('model.extensions.', ext, EXTENSION_KEYS);
  if (ext?.pretrainedFeatures !== undefined) known('model.extensions.pretrainedFeatures.', ext.pretrainedFeatures, ['layer', 'inputSize']);
  if (o.model.ablation !== undefined) known('model.ablation.', o.model.ablation, ['placement', 'anchorBranch', 'superpixels', 'refinement']);
  return o;
}

/** The model-config overrides of a recipe (to pass to `resolveDiscoConfig` with `recipe.preset`). */
export function recipeConfig(recipe: TrainRecipe): DiscoConfigOverrides {
  const { anchors, ablation, extensions } = recipe.model;
  const c: DiscoConfigOverrides = { seed: recipe.options.seed ?? 0 };
  if (anchors !== undefined) c.anchors = anchors;
  if (ablation) c.ablation = { ...ablation };
  if (extensions) {
    const { pretrainedFeatures, ...rest } = extensions;
    c.extensions = { ...rest, ...(pretrainedFeatures ? { pretrainedFeatures: { ...pretrainedFeatures } } : {}) };
  }
  return c;
}

/** Freezes a recipe and everything in it. */
export function freezeRecipe<T extends TrainRecipe>(r: T): Readonly<T> {
  const deep = (o: unknown): void => {
    if (o && typeof o === 'object') {
      for (const v of Object.values(o)) deep(v);
      Object.freeze(o);
    }
  };
  deep(r);
  return r;
}
