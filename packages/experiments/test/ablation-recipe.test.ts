// The ablation grid trains variants of one recipe, the embedded tiny model's (`TINY_RECIPE`), read
// as data: the base variant is that recipe at the budget's size and the run's seed.
import { describe, expect, it } from 'vitest';
import { resolveDiscoConfig, TINY_RECIPE } from '@disco/colorize';
import { variantConfig } from '../src/ablation/run.js';
import { BASE_RECIPE, BUDGETS, VARIANTS } from '../src/ablation/variants.js';

describe('ablation grid: variants of the tiny recipe', () => {
  it('the base variant is the tiny recipe at the budget size and seed; a variant swaps one block', () => {
    expect(BASE_RECIPE).toBe(TINY_RECIPE);
    const b = BUDGETS.quick!;
    const base = resolveDiscoConfig(variantConfig(VARIANTS.base!, 3, b), BASE_RECIPE.preset);
    expect(base).toEqual(resolveDiscoConfig({ extensions: { hintEncoding: 'soft', hintBroadcast: true, decodeTemperature: 0.38, residualRefinement: true }, seed: 3, imageSize: b.imageSize }, 'tiny'));
    const hard = resolveDiscoConfig(variantConfig(VARIANTS.hard!, 3, b), BASE_RECIPE.preset);
    expect(hard).toEqual({ ...base, ablation: { ...base.ablation, superpixels: 'hard' } });
  });

  it("every budget trains at the recipe's learning rate", () => {
    for (const b of Object.values(BUDGETS)) expect(b.learningRate).toBe(TINY_RECIPE.options.learningRate);
  });
});
