/**
 * Training recipes as data: a named, typed description of one stage-2 run (model preset and
 * extensions, losses, schedule) that `disco train --recipe <name|file>`, the ablation grid and
 * `recipeSpec` read. Command-line flags only override a recipe's fields.
 */
import type { AblationConfig, DiscoArch, DiscoConfigOverrides, PretrainedFeaturesConfig, RefinementConfig } from '../model/config.js';
import type { Stage2Options } from '../train/stage2.js';

/** The model fields a recipe may set on top of its preset (the ones `disco train` has flags for). */
export interface RecipeModel {
  /** `disco` or a per-pixel baseline. */
  arch?: DiscoArch;
  /** Number of anchors K. */
  anchors?: number;
  /** Anchor colors into the generator: `onehot` (paper) or `soft`. */
  hintEncoding?: 'onehot' | 'soft';
  /** Every token also receives the color of its nearest anchor. */
  hintBroadcast?: boolean;
  /** Annealed-mean temperature of the generator decoding. */
  decodeTemperature?: number;
  /** `{ residual: true }`: the refinement predicts a residual on the decoded generator colors. */
  refinement?: Pick<Partial<RefinementConfig>, 'residual'>;
  /** Frozen pretrained features fused into the tokens (`layer`, `inputSize`); absent: none. */
  pretrainedFeatures?: Pick<PretrainedFeaturesConfig, 'layer'> & Partial<Pick<PretrainedFeaturesConfig, 'inputSize'>>;
  /** The paper's ablations. */
  ablation?: Partial<AblationConfig>;
}

/** The stage-2 options a recipe may set (the perceptual weight follows from {@link TrainRecipe.perceptual}). */
export type RecipeOptions = Partial<Pick<Stage2Options, 'steps' | 'learningRate' | 'seed' | 'laplacianWeight' | 'pixelWeight' | 'softTargets' | 'rebalance'>>;

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
const MODEL_KEYS = ['arch', 'anchors', 'hintEncoding', 'hintBroadcast', 'decodeTemperature', 'refinement', 'pretrainedFeatures', 'ablation'];
const OPTION_KEYS = ['steps', 'learningRate', 'seed', 'laplacianWeight', 'pixelWeight', 'softTargets', 'rebalance'];

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
  if (o.model.refinement !== undefined) known('model.refinement.', o.model.refinement, ['residual']);
  if (o.model.pretrainedFeatures !== undefined) known('model.pretrainedFeatures.', o.model.pretrainedFeatures, ['layer', 'inputSize']);
  if (o.model.ablation !== undefined) known('model.ablation.', o.model.ablation, ['anchors', 'anchorBranch', 'superpixels', 'refinement']);
  return o;
}

/** The model-config overrides of a recipe (to pass to `resolveDiscoConfig` with `recipe.preset`). */
export function recipeConfig(recipe: TrainRecipe): DiscoConfigOverrides {
  const { refinement, pretrainedFeatures, ablation, ...rest } = recipe.model;
  const c: DiscoConfigOverrides = { ...rest, seed: recipe.options.seed ?? 0 };
  if (refinement) c.refinement = { ...refinement };
  if (pretrainedFeatures) c.pretrainedFeatures = { ...pretrainedFeatures };
  if (ablation) c.ablation = { ...ablation };
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
