import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Option } from 'commander';
import { resolveDiscoConfig, resolveStoredConfig, type DiscoConfig } from '../src/model/config.js';
import { perceptualWeightFor, TRAIN_DEFAULTS } from '../src/train/defaults.js';
import { resolveStage2Options, STAGE2_DEFAULTS } from '../src/train/stage2.js';
import { RECIPES, recipeConfig, type TrainRecipe } from '../src/recipes/index.js';
import { recipeSpec } from '../src/recipes/spec.js';
import type { TrainDiscoSpec } from '../src/train/run.js';

const specs: TrainDiscoSpec[] = [];
vi.mock('../src/train/run.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/train/run.js')>()),
  trainDisco: vi.fn(async (spec: TrainDiscoSpec) => {
    specs.push(spec);
    return { status: 'stopped', step: 0, steps: 0, trainingS: 0, lastLosses: null, validation: {}, model: null };
  }),
}));
const { buildDiscoProgram, runDiscoCli } = await import('../src/cli/disco.js');

const io = { out: () => {}, err: () => {} };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-recipes-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeEach(() => void specs.splice(0));

/** What `trainDisco` makes of a spec: the resolved options (as in `trainDisco`) and the run's fields with their defaults. */
function effective(s: TrainDiscoSpec) {
  const perceptual = s.perceptual ?? TRAIN_DEFAULTS.perceptual;
  return {
    config: s.config,
    options: resolveStage2Options({ perceptualWeight: perceptualWeightFor(perceptual), ...s.options }),
    perceptual,
    batchSize: s.batchSize ?? TRAIN_DEFAULTS.batchSize,
    validateEvery: s.validateEvery ?? TRAIN_DEFAULTS.validateEvery,
    validationBatches: s.validationBatches ?? TRAIN_DEFAULTS.validationBatches,
    checkpointEvery: s.checkpointEvery ?? TRAIN_DEFAULTS.checkpointEvery,
    workers: s.workers ?? TRAIN_DEFAULTS.workers,
    stopAt: s.stopAt,
  };
}

async function cliSpec(args: string[]): Promise<TrainDiscoSpec> {
  await runDiscoCli(['train', '--data', dir, '--out', path.join(dir, 'run'), '--backend', 'cpu', ...args], io);
  expect(specs).toHaveLength(1);
  return specs[0]!;
}

describe('one source of training defaults', () => {
  it('TRAIN_DEFAULTS is frozen and its stage-2 options are STAGE2_DEFAULTS', () => {
    expect(Object.isFrozen(TRAIN_DEFAULTS)).toBe(true);
    expect(TRAIN_DEFAULTS.options).toBe(STAGE2_DEFAULTS);
    expect(Object.isFrozen(STAGE2_DEFAULTS)).toBe(true);
    expect(perceptualWeightFor('none')).toBe(0);
    expect(perceptualWeightFor('inception')).toBe(STAGE2_DEFAULTS.perceptualWeight);
  });

  it("disco train's flag defaults are TRAIN_DEFAULTS'", () => {
    const train = buildDiscoProgram(io).commands.find((c) => c.name() === 'train')!;
    const def = (long: string) => (train.options as Option[]).find((o) => o.long === long)!.defaultValue;
    const D = TRAIN_DEFAULTS;
    expect({
      config: def('--config'), steps: def('--steps'), batchSize: def('--batch-size'), lr: def('--lr'), seed: def('--seed'), perceptual: def('--perceptual'),
      laplacian: def('--laplacian'), pixel: def('--pixel'), validateEvery: def('--validate-every'),
      validationBatches: def('--validation-batches'), checkpointEvery: def('--checkpoint-every'), workers: def('--workers'),
    }).toEqual({
      config: D.preset, steps: D.options.steps, batchSize: D.batchSize, lr: D.options.learningRate, seed: D.options.seed, perceptual: D.perceptual,
      laplacian: D.options.extensions.laplacianWeight, pixel: D.options.extensions.pixelWeight, validateEvery: D.validateEvery,
      validationBatches: D.validationBatches, checkpointEvery: D.checkpointEvery, workers: D.workers,
    });
  });

  it('`disco train` without flags trains what trainDisco does without options', async () => {
    const cli = effective(await cliSpec([]));
    expect(cli).toEqual(effective({ config: resolveDiscoConfig({}, TRAIN_DEFAULTS.preset), data: [dir], out: 'x', options: {} }));
    expect(cli.options).toEqual(STAGE2_DEFAULTS_WITH_NO_PERCEPTUAL);
  });
});
const STAGE2_DEFAULTS_WITH_NO_PERCEPTUAL = { ...STAGE2_DEFAULTS, perceptualWeight: 0 };

describe('recipes (disco train --recipe)', () => {
  for (const name of Object.keys(RECIPES)) {
    it(`--recipe ${name} trains what recipeSpec(RECIPES['${name}']) does`, async () => {
      const recipe = RECIPES[name]!;
      const cli = await cliSpec(['--recipe', name]);
      expect(effective(cli)).toEqual(effective(recipeSpec(recipe, { data: [dir], out: 'x' })));
      expect(cli.record).toMatchObject({ recipe: name, config: recipe.preset });
    });
  }

  it('the embedded models were trained by their recipes: same config, schedule and losses as their model files', () => {
    for (const [model, recipe] of [['tiny', RECIPES.tiny], ['tiny-pf', RECIPES['tiny-pf']]] as Array<[string, TrainRecipe]>) {
      const json = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'models', model, 'disco-model.json'), 'utf8')) as { config: DiscoConfig; meta: Record<string, unknown> };
      expect(resolveStoredConfig(json.config)).toEqual(resolveDiscoConfig(recipeConfig(recipe), recipe.preset));
      const e = effective(recipeSpec(recipe, { data: [], out: 'x' }));
      const m = json.meta;
      expect({ steps: e.stopAt ?? e.options.steps, batchSize: e.batchSize, learningRate: e.options.learningRate, seed: e.options.seed, perceptual: e.perceptual, pixelWeight: e.options.extensions.pixelWeight, softTargets: e.options.extensions.softTargets }).toEqual({
        steps: m.steps, batchSize: m.batchSize, learningRate: m.learningRate, seed: m.seed, perceptual: m.perceptual, pixelWeight: m.pixelWeight, softTargets: m.softTargets ?? false,
      });
      if (m.scheduleSteps !== undefined) expect(e.options.steps).toBe(m.scheduleSteps);
    }
  });

  it('flags given on the command line override the recipe; the others keep its values', async () => {
    const s = effective(await cliSpec(['--recipe', 'tiny', '--lr', '1e-3', '--steps', '50', '--decode-temperature', '0.5', '--no-rebalance']));
    const r = effective(recipeSpec(RECIPES.tiny!, { data: [], out: 'x' }));
    expect(s.options).toEqual({ ...r.options, learningRate: 1e-3, steps: 50, extensions: { ...r.options.extensions, rebalance: false } });
    expect(s.config).toEqual({ ...r.config, extensions: { ...r.config.extensions, decodeTemperature: 0.5 } });
    expect([s.batchSize, s.checkpointEvery, s.stopAt]).toEqual([r.batchSize, r.checkpointEvery, r.stopAt]);
  });

  it('a JSON recipe file reads like a shipped one; unknown keys and names are one-line errors', async () => {
    const file = path.join(dir, 'mine.json');
    fs.writeFileSync(file, JSON.stringify({ ...RECIPES['tiny-pf'], name: 'mine' }));
    const s = await cliSpec(['--recipe', file]);
    expect(effective(s)).toEqual(effective(recipeSpec(RECIPES['tiny-pf']!, { data: [], out: 'x' })));
    fs.writeFileSync(file, JSON.stringify({ ...RECIPES.tiny, model: { hintEncoding: 'soft' } }));
    await expect(runDiscoCli(['train', '--data', dir, '--recipe', file, '--backend', 'cpu'], io)).rejects.toThrow(/--recipe: .*mine\.json: recipe: unknown key 'model\.hintEncoding'; valid: anchors, ablation, extensions$/);
    fs.writeFileSync(file, JSON.stringify({ ...RECIPES.tiny, model: { extensions: { hintEncodng: 'soft' } } }));
    await expect(runDiscoCli(['train', '--data', dir, '--recipe', file, '--backend', 'cpu'], io)).rejects.toThrow(/--recipe: .*mine\.json: recipe: unknown key 'model\.extensions\.hintEncodng'; valid: arch, hintEncoding, hintBroadcast, residualRefinement, decodeTemperature, pretrainedFeatures$/);
    await expect(runDiscoCli(['train', '--data', dir, '--recipe', 'tiny-xl', '--backend', 'cpu'], io)).rejects.toThrow("--recipe: 'tiny-xl' is neither a recipe (tiny, tiny-pf, paper) nor a file");
  });

  it('the extension flags set the same config as the recipe fields (tiny-pf by flags equals --recipe tiny-pf)', async () => {
    const byFlags = await cliSpec(['--hint-encoding', 'soft', '--hint-broadcast', '--residual-refinement', '--decode-temperature', '0.38', '--pretrained-layer', 'mixed5', '--pretrained-input-size', '192']);
    expect(byFlags.config).toEqual(recipeSpec(RECIPES['tiny-pf']!, { data: [], out: 'x' }).config);
    specs.splice(0);
    const layerOnly = await cliSpec(['--pretrained-layer', 'stem', '--ablation', 'random-placement']);
    expect(layerOnly.config.extensions.pretrainedFeatures).toEqual({ network: 'nsfw-inception', layer: 'stem', inputSize: 299 });
    expect(layerOnly.config.ablation.placement).toBe('random');
  });

  it('bad extension and ablation flags are one-line errors naming the flag and the valid values', async () => {
    const fails = (args: string[]) => expect(runDiscoCli(['train', '--data', dir, '--out', path.join(dir, 'bad'), '--backend', 'cpu', ...args], io)).rejects;
    await fails(['--pretrained-layer', 'mixed9']).toThrow("--pretrained-layer: unknown 'mixed9'; valid: stem, mixed0, mixed1, mixed2, mixed3, mixed4, mixed5");
    await fails(['--pretrained-layer', 'mixed5', '--pretrained-input-size', '64']).toThrow("--pretrained-input-size must be an integer ≥ 75; got '64'");
    await fails(['--pretrained-layer', 'mixed5', '--pretrained-input-size', 'big']).toThrow("--pretrained-input-size must be an integer ≥ 75; got 'big'");
    await fails(['--pretrained-input-size', '192']).toThrow('--pretrained-input-size needs --pretrained-layer (the layer turns the pretrained features on)');
    await fails(['--pretrained-features', 'mixed5:192']).toThrow(/unknown option '--pretrained-features'/);
    await fails(['--ablation', 'random-anchors']).toThrow("--ablation: unknown 'random-anchors'; valid: random-placement, no-anchor-branch, hard-superpixels, no-refinement");
    expect(specs).toHaveLength(0);
  });

  it('recipes are frozen', () => {
    for (const r of Object.values(RECIPES)) {
      expect(Object.isFrozen(r) && Object.isFrozen(r.model) && Object.isFrozen(r.options)).toBe(true);
    }
  });
});
