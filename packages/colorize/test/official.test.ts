/**
 * The published DISCO model: the fixture recorded from the authors' PyTorch inference path
 * (test/fixtures/official-disco), its weight rule, the checkpoint conversion and the parity
 * command. Every tolerance is the fixture's own (fixture.json `tolerances`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PyDict, writePth } from '@disco/pth';
import { readRuleStateDict, setupBackendForCli } from '@disco/runtime/node';
import type { RuleStateTensor } from '@disco/runtime';
import { runDiscoCli } from '../src/cli/disco.js';
import { readParityFixture, runParity, type ParityFixture, type ParityRow } from '../src/io/parity.js';
import { loadDiscoModel } from '../src/io/model_files.js';
import { extensionsOf, resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { foldSpectralNorm, OFFICIAL_CONFIG, officialModel, officialToNamedWeights, type StateDictTensor } from '../src/model/official.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'official-disco');
const quiet = { out: () => {}, err: () => {} };
const failing = (rows: ParityRow[]) => rows.filter((r) => !r.pass).map((r) => `${r.case}/${r.stage}/${r.variant ?? '-'}/${r.mode}`);

describe('the published DISCO (official-disco fixture)', () => {
  let sd: Map<string, RuleStateTensor>;
  let fixture: ParityFixture;
  let model: DiscoModel;
  const tmp = mkdtempSync(path.join(tmpdir(), 'official-'));

  beforeAll(async () => {
    await setupBackendForCli(undefined, () => {});
    sd = await readRuleStateDict(FIXTURE); // every entry's sha256 checked
    fixture = await readParityFixture(FIXTURE);
    model = officialModel(sd, 'rule');
  }, 120_000);
  afterAll(() => {
    model?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the weight rule regenerates all 461 state-dict entries, each equal to its sha256; 43,063,739 learnable parameters', () => {
    expect(sd.size).toBe(461);
    expect(model.countParams().total).toBe(43_063_739);
  });

  it('every stage of all four cases is within the fixture tolerances, stage by stage and chained, for T = 0, 1, 2', async () => {
    const rows = await runParity(model, fixture);
    expect(failing(rows)).toEqual([]);
    // Every recorded stage is compared, discrete ones exactly.
    const stages = new Set(rows.map((r) => r.stage));
    for (const s of ['affinity', 'spixel_sizes', 'tokens', 'pos', 'modeler_feats', 'modeler_logits', 'kmeans_assign', 'kmeans_centers', 'anchor_mask', 'anchor_bins', 'generator_in', 'generator_feats', 'generator_logits', 'refine_preact', 'ab', 'rgb_out']) expect(stages).toContain(s);
    expect(rows.filter((r) => r.stage === 'anchor_bins').map((r) => r.variant)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(new Set(rows.map((r) => r.case))).toEqual(new Set(['syn64x64', 'syn96x80', 'syn128x192', 'syn256x256']));
    const ab = rows.filter((r) => r.stage === 'ab' && r.mode === 'chain');
    expect(Math.max(...ab.map((r) => r.maxAbs!))).toBeLessThan(5e-4);
  }, 600_000);

  it("fails without the symmetric stride-2 padding: tfjs 'same' moves the affinity and every later stage", async () => {
    const same = DiscoModel.create(resolveDiscoConfig({ extensions: { padding: 'same' } }, 'paper'));
    try {
      const named = officialToNamedWeights(sd, same);
      same.setNamedWeights(named);
      tf.dispose(Object.values(named));
      const rows = await runParity(same, { ...fixture, cases: fixture.cases.filter((c) => c.name === 'syn64x64') });
      const bad = failing(rows);
      expect(bad).toContain('syn64x64/affinity/-/chain');
      expect(bad).toContain('syn64x64/tokens/-/stage'); // the backbone's strided convs, fed the stored affinity
      expect(bad).toContain('syn64x64/ab/0/stage'); // the refinement's strided convs, fed the stored generator output
    } finally {
      same.dispose();
    }
  }, 300_000);

  it('fails without the spectral-norm fold: the backbone and the refinement leave their tolerances', async () => {
    // Rescale each stored v by 1/σ: σ = u·(W v) becomes 1, so the "folded" kernel is weight_orig itself.
    const unfolded = new Map<string, StateDictTensor>(sd);
    for (const [key, t] of sd) {
      if (!key.endsWith('.weight_v')) continue;
      const base = key.slice(0, -'_v'.length);
      const w = sd.get(`${base}_orig`)!.toFloat32();
      const u = sd.get(`${base}_u`)!.toFloat32();
      const v = t.toFloat32();
      const sigma = w[0]! / foldSpectralNorm(w, u, v)[0]!; // folded = weight_orig / σ
      unfolded.set(key, { shape: t.shape, toFloat32: () => v.map((x) => x / sigma) });
    }
    const named = officialToNamedWeights(unfolded, model);
    const original = model.namedWeights();
    const kept = Object.fromEntries(Object.entries(original).map(([k, v]) => [k, tf.clone(v)]));
    try {
      model.setNamedWeights(named);
      const rows = await runParity(model, { ...fixture, cases: fixture.cases.filter((c) => c.name === 'syn64x64') });
      const bad = failing(rows);
      expect(bad).toContain('syn64x64/tokens/-/stage');
      expect(bad).toContain('syn64x64/refine_preact/0/stage');
    } finally {
      model.setNamedWeights(kept);
      tf.dispose([...Object.values(named), ...Object.values(kept)]);
    }
  }, 300_000);

  it('strict conversion: a missing, an unexpected and a misshapen key each fail with one line naming the key', () => {
    const missing = new Map(sd);
    missing.delete('hintpath.layers.3.linear1.bias');
    expect(() => officialToNamedWeights(missing, model, { source: 'x.pth' })).toThrow(/^x\.pth: missing key 'hintpath\.layers\.3\.linear1\.bias' \(expected shape \[256\]\)$/);
    const extra = new Map<string, StateDictTensor>(sd);
    extra.set('repnet.conv11.weight', { shape: [4], toFloat32: () => new Float32Array(4) });
    expect(() => officialToNamedWeights(extra, model, { source: 'x.pth' })).toThrow(/^x\.pth: unexpected key 'repnet\.conv11\.weight'; not part of the published DISCO model$/);
    const misshapen = new Map<string, StateDictTensor>(sd);
    misshapen.set('enhanceNet.outConv.weight', { shape: [3, 64, 3, 3], toFloat32: () => new Float32Array(3 * 64 * 9) });
    expect(() => officialToNamedWeights(misshapen, model, { source: 'x.pth' })).toThrow(/^x\.pth: key 'enhanceNet\.outConv\.weight' has shape \[3,64,3,3\], expected \[2,64,3,3\]$/);
    // A DataParallel prefix is accepted.
    const prefixed = new Map([...sd].map(([k, v]) => [`module.${k}`, v]));
    const named = officialToNamedWeights(prefixed, model);
    expect(Object.keys(named)).toHaveLength(Object.keys(model.namedWeights()).length);
    tf.dispose(Object.values(named));
    // A tiny model is not the published architecture.
    const tiny = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
    expect(() => officialToNamedWeights(sd, tiny, { source: 'x.pth' })).toThrow(/^x\.pth: key 'segnet\.net\.conv0a\.0\.weight' has shape \[16,1,3,3\], expected \[4,1,3,3\]$/);
    tiny.dispose();
  });

  it('a full-size torch.save checkpoint {epoch, state_dict, best_loss, optimizer} converts with `disco convert` and passes `disco parity --weights`', async () => {
    const ckpt = path.join(tmp, 'disco-rule.pth.tar');
    const state = new PyDict([], 'collections.OrderedDict');
    for (const [k, t] of sd) state.set(k, { dtype: t.dtype, shape: [...t.shape], data: t.dtype === 'int64' ? new BigInt64Array(1) : t.toFloat32() });
    writeFileSync(ckpt, writePth(new Map<string, unknown>([['epoch', 7], ['state_dict', state], ['best_loss', 0.25], ['optimizer', new Map()]])));
    const out = path.join(tmp, 'converted');
    await runDiscoCli(['convert', ckpt, '-o', out], quiet);
    const loaded = await loadDiscoModel(out);
    expect(loaded.config.extensions).toEqual({});
    loaded.dispose();
    const lines: string[] = [];
    process.exitCode = undefined;
    await runDiscoCli(['parity', FIXTURE, '--weights', ckpt, '--cases', 'syn64x64', '--json', path.join(tmp, 'p.json')], { out: (l) => lines.push(l), err: () => {} });
    expect(process.exitCode).toBe(0);
    expect(lines.join('\n')).toMatch(/(\d+) of \1 stages within tolerance/);
    // The converted folder goes the same way.
    await runDiscoCli(['parity', FIXTURE, '--weights', out, '--cases', 'syn96x80'], quiet);
    expect(process.exitCode).toBe(0);
    process.exitCode = undefined;
    await expect(runDiscoCli(['parity', FIXTURE, '--cases', 'nope'], quiet)).rejects.toThrow(/--cases: no case 'nope' in .*; valid: syn64x64, syn96x80, syn128x192, syn256x256/);
  }, 600_000);
});

describe('the published config', () => {
  it("'paper' is the published model; files written before padding/anchorRules existed keep 'same'/'distinct'", async () => {
    expect(OFFICIAL_CONFIG.extensions).toEqual({});
    expect(extensionsOf(OFFICIAL_CONFIG).padding).toBe('symmetric');
    expect(extensionsOf(OFFICIAL_CONFIG).anchorRules).toBe('published');
    const { resolveStoredConfig } = await import('../src/model/config.js');
    // A paper-sized file in the flat shape of its time, written before padding and anchorRules existed.
    const { extensions: _none, ...rest } = resolveDiscoConfig({}, 'paper');
    const stored = { ...rest, ablation: { anchors: 'clustering', anchorBranch: true, superpixels: 'soft', refinement: true }, refinement: { ...rest.refinement, residual: false }, arch: 'disco', hintEncoding: 'onehot', hintBroadcast: false, decodeTemperature: 1, pretrainedFeatures: null };
    const old = resolveStoredConfig(stored);
    expect(old.extensions).toEqual({ padding: 'same', anchorRules: 'distinct' });
    expect(resolveStoredConfig({ ...stored, padding: 'symmetric', anchorRules: 'published' })).toEqual(resolveDiscoConfig({}, 'paper'));
    expect(extensionsOf(resolveDiscoConfig({}, 'tiny')).padding).toBe('same');
    expect(() => resolveDiscoConfig({ extensions: { padding: 'valid' as never } }, 'paper')).toThrow(/extensions.padding must be one of symmetric, same \(got valid\)/);
  });
});
