import * as fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { embeddedModelDir, loadDiscoModel } from '../src/io/model_files.js';
import {
  extensionsOf,
  migrateStoredConfig,
  NO_EXTENSIONS,
  PAPER_CONFIG,
  resolveDiscoConfig,
  resolveStoredConfig,
  TINY_CONFIG,
} from '../src/model/config.js';
import { deserializeDiscoModel, serializeDiscoModel } from '../src/model/serialize.js';
import { RECIPES, recipeConfig } from '../src/recipes/index.js';

/** The `config` of a shipped model's `disco-model.json` (written in the flat shape, before `extensions`). */
const shipped = (name: 'tiny' | 'tiny-pf'): Record<string, unknown> =>
  (JSON.parse(fs.readFileSync(new URL(`../models/${name}/disco-model.json`, import.meta.url), 'utf8')) as { config: Record<string, unknown> }).config;

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

describe('extensions: what the paper does not have, grouped', () => {
  it("the paper preset has no extensions; every extension's paper value is NO_EXTENSIONS", () => {
    expect(PAPER_CONFIG.extensions).toEqual({});
    expect(resolveDiscoConfig({}, 'paper').extensions).toEqual({});
    expect(extensionsOf(PAPER_CONFIG)).toEqual(NO_EXTENSIONS);
    expect(Object.keys(PAPER_CONFIG)).not.toEqual(expect.arrayContaining(['arch', 'hintEncoding', 'hintBroadcast', 'decodeTemperature', 'pretrainedFeatures', 'padding', 'anchorRules']));
    expect(PAPER_CONFIG.refinement).not.toHaveProperty('residual');
    // tiny: the two implementation variants of the models trained before the published code was matched.
    expect(TINY_CONFIG.extensions).toEqual({ padding: 'same', anchorRules: 'distinct' });
  });

  it('a resolved config keeps only the extensions that differ from the paper (equal models, equal configs)', () => {
    const explicit = resolveDiscoConfig({ extensions: { ...NO_EXTENSIONS, hintBroadcast: true } }, 'paper');
    expect(explicit.extensions).toEqual({ hintBroadcast: true });
    expect(resolveDiscoConfig({ extensions: { padding: 'symmetric', anchorRules: 'published' } }, 'tiny').extensions).toEqual({});
    expect(() => resolveDiscoConfig({ extensions: { hintBroadcasts: true } as never })).toThrow(/unknown key 'extensions.hintBroadcasts'; valid: arch, hintEncoding, hintBroadcast, residualRefinement, decodeTemperature, pretrainedFeatures, padding, anchorRules/);
    expect(() => resolveDiscoConfig({ hintBroadcast: true } as never)).toThrow(/unknown key 'hintBroadcast'/);
    expect(() => resolveDiscoConfig({ extensions: { decodeTemperature: 0 } })).toThrow('resolveDiscoConfig: extensions.decodeTemperature must be in (0, 1] (got 0)');
  });

  it("migrates the shipped models' flat configs: every former field moves into extensions, the ablation's placement is renamed", () => {
    const tiny = shipped('tiny');
    expect(tiny).toHaveProperty('hintBroadcast', true); // the flat shape, as shipped
    expect(migrateStoredConfig(tiny)).toEqual({
      imageSize: 64,
      cellSize: 8,
      anchors: 8,
      spixnetPreset: 'tiny',
      backbone: tiny.backbone,
      transformer: tiny.transformer,
      refinement: { widths: [16, 32, 64], residualBlocks: 1 },
      ablation: { placement: 'cluster', anchorBranch: true, superpixels: 'soft', refinement: true },
      extensions: { padding: 'same', anchorRules: 'distinct', hintEncoding: 'soft', hintBroadcast: true, decodeTemperature: 0.38, residualRefinement: true },
      seed: 0,
    });
    expect(resolveStoredConfig(tiny).extensions).toEqual({ hintEncoding: 'soft', hintBroadcast: true, residualRefinement: true, decodeTemperature: 0.38, padding: 'same', anchorRules: 'distinct' });
    expect(resolveStoredConfig(shipped('tiny-pf'))).toEqual(resolveDiscoConfig(recipeConfig(RECIPES['tiny-pf']!), 'tiny'));
  });

  it('new saves use the grouped shape; save → load gives the same config (a shipped model and a paper-sized one)', async () => {
    const tiny = await loadDiscoModel(embeddedModelDir('tiny')); // the embedded tiny model
    const paper = resolveDiscoConfig({ imageSize: 256, extensions: { arch: 'classification' } }, 'paper');
    for (const config of [tiny.config, paper, resolveDiscoConfig({}, 'paper')]) {
      const saved = JSON.parse(JSON.stringify({ config })) as { config: Record<string, unknown> };
      expect(saved.config).toHaveProperty('extensions');
      for (const flat of ['arch', 'hintEncoding', 'hintBroadcast', 'decodeTemperature', 'pretrainedFeatures', 'padding', 'anchorRules']) expect(saved.config).not.toHaveProperty(flat);
      expect(resolveStoredConfig(saved.config)).toEqual(config);
    }
    // A grouped config's absent extensions are the paper's whatever the preset filling in the rest.
    const symmetricTiny = resolveDiscoConfig({ extensions: { padding: 'symmetric', anchorRules: 'published' } }, 'tiny');
    expect(resolveStoredConfig(JSON.parse(JSON.stringify(symmetricTiny)))).toEqual(symmetricTiny);
    const { json, weights } = await serializeDiscoModel(tiny);
    expect(json.config).toBe(tiny.config);
    const back = deserializeDiscoModel(JSON.parse(JSON.stringify(json)), weights);
    expect(back.config).toEqual(tiny.config);
    expect(back.extensions).toEqual(tiny.extensions);
    back.dispose();
    tiny.dispose();
  });
});
