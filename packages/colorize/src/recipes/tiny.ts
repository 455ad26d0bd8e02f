import { freezeRecipe } from './recipe.js';

/**
 * The embedded `tiny` model (`models/tiny`): 1000 steps of a 2000-step schedule at 64², with the
 * four extensions that make the anchors carry their colors at CPU scale (soft hint encoding, hint
 * broadcast, residual refinement, decoding at T = 0.38; see docs/results/2026-12-color-trials.md) and a pixel L1.
 */
export const TINY_RECIPE = freezeRecipe({
  name: 'tiny',
  description: 'the embedded tiny model: 64², soft hints, hint broadcast, residual refinement, T = 0.38, pixel L1; 1000 steps of a 2000-step schedule',
  preset: 'tiny',
  model: { extensions: { hintEncoding: 'soft', hintBroadcast: true, residualRefinement: true, decodeTemperature: 0.38 } },
  options: { steps: 2000, learningRate: 5e-4, seed: 0, extensions: { pixelWeight: 1 } },
  perceptual: 'none',
  batchSize: 8,
  validateEvery: 250,
  checkpointEvery: 50,
  stopAt: 1000,
});
