/**
 * `disco train --recipe <name|file>`: a recipe (a shipped name or a JSON file) as the flags of
 * `disco train`, filled in before the flags given on the command line, which override them.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import type { DiscoConfigOverrides } from '../model/config.js';
import { checkRecipe, RECIPES, type TrainRecipe } from '../recipes/index.js';

/** The `--ablation` names: the paper's ablations, each the config field it sets. */
export const ABLATION_FLAGS: Readonly<Record<string, NonNullable<DiscoConfigOverrides['ablation']>>> = Object.freeze({
  'random-placement': { placement: 'random' },
  'no-anchor-branch': { anchorBranch: false },
  'hard-superpixels': { superpixels: 'hard' },
  'no-refinement': { refinement: false },
});

/** The `disco train` flags a recipe can set (names as commander stores them). */
export interface RecipeFlags {
  config: 'paper' | 'tiny';
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  perceptual?: string;
  laplacian?: number;
  pixel?: number;
  softTargets?: boolean;
  rebalance?: boolean;
  validateEvery?: number;
  validationBatches?: number;
  checkpointEvery?: number;
  workers?: number;
  stopAt?: number;
  anchors?: number;
  hintEncoding?: 'onehot' | 'soft';
  hintBroadcast?: boolean;
  residualRefinement?: boolean;
  decodeTemperature?: number;
  arch?: string;
  pretrainedLayer?: string;
  pretrainedInputSize?: number;
  ablation?: string[];
}

/** A shipped recipe by name, or a JSON recipe file; errors name the valid names. */
export function readRecipe(spec: string): TrainRecipe {
  const named = RECIPES[spec];
  if (named) return named;
  if (!fs.existsSync(spec)) throw new Error(`--recipe: '${spec}' is neither a recipe (${Object.keys(RECIPES).join(', ')}) nor a file`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(spec, 'utf8'));
  } catch (e) {
    throw new Error(`--recipe: ${spec}: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    return checkRecipe(raw);
  } catch (e) {
    throw new Error(`--recipe: ${spec}: ${(e as Error).message}`);
  }
}

/** The flags of `disco train` that `recipe` stands for. */
export function recipeFlags(recipe: TrainRecipe): RecipeFlags {
  const { model: m, options: o } = recipe;
  const f: RecipeFlags = { config: recipe.preset };
  const set = <K extends keyof RecipeFlags>(k: K, v: RecipeFlags[K] | undefined): void => {
    if (v !== undefined) f[k] = v;
  };
  set('steps', o.steps);
  set('lr', o.learningRate);
  set('seed', o.seed);
  set('laplacian', o.extensions?.laplacianWeight);
  set('pixel', o.extensions?.pixelWeight);
  set('softTargets', o.extensions?.softTargets);
  set('rebalance', o.extensions?.rebalance);
  set('perceptual', recipe.perceptual);
  set('batchSize', recipe.batchSize);
  set('validateEvery', recipe.validateEvery);
  set('validationBatches', recipe.validationBatches);
  set('checkpointEvery', recipe.checkpointEvery);
  set('workers', recipe.workers);
  set('stopAt', recipe.stopAt);
  const e = m.extensions ?? {};
  set('anchors', m.anchors);
  set('arch', e.arch);
  set('hintEncoding', e.hintEncoding);
  set('hintBroadcast', e.hintBroadcast);
  set('residualRefinement', e.residualRefinement);
  set('decodeTemperature', e.decodeTemperature);
  set('pretrainedLayer', e.pretrainedFeatures?.layer);
  set('pretrainedInputSize', e.pretrainedFeatures?.inputSize);
  const a: Record<string, unknown> = m.ablation ?? {};
  const names = Object.entries(ABLATION_FLAGS)
    .filter(([, set]) => Object.entries(set).every(([k, v]) => a[k] === v))
    .map(([name]) => name);
  if (names.length > 0) f.ablation = names;
  return f;
}

/**
 * `flags` with the recipe of `flags.recipe` filled in under them: a field takes the recipe's
 * value unless its flag was given on the command line (`cmd`'s option sources).
 */
export function applyRecipe<T extends { recipe?: string }>(flags: T, cmd: Command): T {
  if (flags.recipe === undefined) return flags;
  const out: Record<string, unknown> = { ...flags };
  for (const [k, v] of Object.entries(recipeFlags(readRecipe(flags.recipe)))) {
    if (cmd.getOptionValueSource(k) !== 'cli') out[k] = v;
  }
  return out as T;
}
