import { freezeRecipe } from './recipe.js';

/**
 * The paper's model and losses: the `paper` preset (the published architecture), both
 * cross-entropies and the perceptual loss (weight 5) through the nsfwjs InceptionV3 stem, no
 * extension. The schedule (steps, learning rate, batch) is this project's default, not the paper's.
 */
export const PAPER_RECIPE = freezeRecipe({
  name: 'paper',
  description: "the paper's model and losses (paper preset, perceptual loss through the InceptionV3 stem, no extension); this project's default schedule",
  preset: 'paper',
  model: {},
  options: {},
  perceptual: 'inception',
});
