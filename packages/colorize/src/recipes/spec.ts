/**
 * A recipe as the spec of {@link trainDisco} (Node: the spec names folders).
 */
import { resolveDiscoConfig } from '../model/config.js';
import { perceptualWeightFor } from '../train/defaults.js';
import type { TrainDiscoSpec } from '../train/run.js';
import type { TrainRecipe } from './recipe.js';
import { recipeConfig } from './recipe.js';

/** The run-specific fields of a spec that a recipe leaves to its caller. */
export type RecipeRun = Pick<TrainDiscoSpec, 'data' | 'out'> & Partial<Omit<TrainDiscoSpec, 'data' | 'out' | 'config' | 'options'>>;

/**
 * The {@link trainDisco} spec of `recipe` for one run: the recipe's config, options and schedule,
 * then `run`'s fields (data, out, spixnet, resume, …) on top. Fields the recipe leaves out take
 * `TRAIN_DEFAULTS` inside {@link trainDisco}.
 *
 * @example
 * ```ts
 * await trainDisco(recipeSpec(RECIPES.tiny, { data: ['photos/'], out: 'runs/tiny', spixnet: 'models/tiny' }));
 * ```
 */
export function recipeSpec(recipe: TrainRecipe, run: RecipeRun): TrainDiscoSpec {
  const r = recipe;
  const perceptual = run.perceptual ?? r.perceptual;
  return {
    config: resolveDiscoConfig(recipeConfig(r), r.preset),
    options: { ...r.options, ...(perceptual !== undefined ? { perceptualWeight: perceptualWeightFor(perceptual) } : {}) },
    ...(r.perceptual !== undefined ? { perceptual: r.perceptual } : {}),
    ...(r.batchSize !== undefined ? { batchSize: r.batchSize } : {}),
    ...(r.validateEvery !== undefined ? { validateEvery: r.validateEvery } : {}),
    ...(r.validationBatches !== undefined ? { validationBatches: r.validationBatches } : {}),
    ...(r.checkpointEvery !== undefined ? { checkpointEvery: r.checkpointEvery } : {}),
    ...(r.workers !== undefined ? { workers: r.workers } : {}),
    ...(r.stopAt !== undefined ? { stopAt: r.stopAt } : {}),
    record: { recipe: r.name, config: r.preset },
    ...run,
  };
}
