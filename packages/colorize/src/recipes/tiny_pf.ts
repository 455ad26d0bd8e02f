import { freezeRecipe } from './recipe.js';

/**
 * The embedded `tiny-pf` model (`models/tiny-pf`): the `tiny` recipe plus frozen InceptionV3
 * features (nsfwjs, up to `mixed5`, fed the model's input at 192²) and soft targets, the whole
 * 1000-step schedule, two worker threads.
 */
export const TINY_PF_RECIPE = freezeRecipe({
  name: 'tiny-pf',
  description: 'the embedded tiny-pf model: the tiny recipe plus frozen InceptionV3 features (mixed5 at 192 px) and soft targets; 1000 steps, 2 workers',
  preset: 'tiny',
  model: { extensions: { hintEncoding: 'soft', hintBroadcast: true, residualRefinement: true, decodeTemperature: 0.38, pretrainedFeatures: { layer: 'mixed5', inputSize: 192 } } },
  options: { steps: 1000, learningRate: 5e-4, seed: 0, extensions: { pixelWeight: 1, softTargets: true } },
  perceptual: 'none',
  batchSize: 8,
  validateEvery: 250,
  checkpointEvery: 50,
  workers: 2,
});
