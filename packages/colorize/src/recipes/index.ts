/**
 * The named training recipes (`disco train --recipe <name>`).
 */
import { PAPER_RECIPE } from './paper.js';
import type { TrainRecipe } from './recipe.js';
import { TINY_RECIPE } from './tiny.js';
import { TINY_PF_RECIPE } from './tiny_pf.js';

export { PAPER_RECIPE, TINY_RECIPE, TINY_PF_RECIPE };
export { checkRecipe, freezeRecipe, recipeConfig, type RecipeExtensions, type RecipeModel, type RecipeOptions, type TrainRecipe } from './recipe.js';

/** The shipped recipes by name: `tiny` and `tiny-pf` (the embedded models), `paper`. */
export const RECIPES: Readonly<Record<string, Readonly<TrainRecipe>>> = Object.freeze({
  [TINY_RECIPE.name]: TINY_RECIPE,
  [TINY_PF_RECIPE.name]: TINY_PF_RECIPE,
  [PAPER_RECIPE.name]: PAPER_RECIPE,
});
