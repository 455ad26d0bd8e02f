// The ablation grid end to end at the `smoke` budget: every variant of `ablation all` trained by
// the library loop in its own process (two at a time), scored on held-out photos, gathered into
// results.json / report.md / report.html. Then: deleting one run's scores makes a second
// invocation redo exactly that run, and an interrupted run resumes from its checkpoint.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { planGrid, runGrid, type GridOptions } from '../src/ablation/grid.js';
import { readRunScores } from '../src/ablation/run.js';
import type { GridResults } from '../src/ablation/types.js';
import { ABLATIONS, BUDGETS, variantsOf } from '../src/ablation/variants.js';
import { writeSyntheticPhotos } from './images.js';

describe('ablation grid (smoke budget)', () => {
  let dir: string;
  let options: GridOptions;
  const lines: string[] = [];

  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-grid-'));
    const train = await writeSyntheticPhotos(path.join(dir, 'train'), 12, 64, 48);
    const held = await writeSyntheticPhotos(path.join(dir, 'held'), 3, 56, 40);
    options = { ablation: 'all', budget: 'smoke', jobs: 2, out: path.join(dir, 'grid'), data: [train.photos], heldout: [held.photos], backend: 'wasm', baselines: true, log: (l) => lines.push(l) };
  }, 60_000);

  it('runs every variant once, shares the base, and writes the report', async () => {
    const s = await runGrid(options);
    expect(s.failed).toEqual({});
    const ids = variantsOf(ABLATIONS, true).map((v) => `${v}-s0`);
    expect(ids).toHaveLength(11); // base + 4 K values + 4 single switches (the base is trained once) + 2 baselines
    expect(s.executed.sort()).toEqual([...ids].sort());
    expect(s.report).not.toBeNull();
    const results = JSON.parse(fs.readFileSync(s.report!.json, 'utf8')) as GridResults;
    expect(results.runs).toHaveLength(11);
    for (const r of results.runs) {
      // Every metric is a finite number; the no-branch variant has no anchors, so no oracle metrics.
      const expected = ['no-branch', 'regression', 'classification'].includes(r.variant) ? ['abError', 'auc', 'colorfulness', 'fid', 'green', 'kid', 'red'] : ['abError', 'auc', 'colorfulness', 'diversity', 'fid', 'green', 'kid', 'oracleAbError', 'oracleAuc', 'oracleColorfulness', 'red'];
      expect(Object.keys(r.metrics).sort()).toEqual(expected);
      for (const v of Object.values(r.metrics)) expect(Number.isFinite(v)).toBe(true);
      expect(r.curve).toHaveLength(BUDGETS.smoke!.steps);
      expect(r.samples).toHaveLength(3);
      for (const smp of r.samples) expect(fs.existsSync(path.join(options.out, smp.predicted))).toBe(true);
      // Each run records its resolved config and provenance.
      expect((r.config.model as { imageSize: number }).imageSize).toBe(32);
      expect(r.provenance.gitCommit).toMatch(/^([0-9a-f]{40}|unknown)$/);
    }
    // Variant switches reach the trained models.
    const cfg = (id: string) => results.runs.find((r) => r.id === id)!.config.model as { anchors: number; ablation: Record<string, unknown> };
    expect(cfg('k2-s0').anchors).toBe(2);
    expect(cfg('hard-s0').ablation.superpixels).toBe('hard');
    expect(cfg('random-s0').ablation.placement).toBe('random');
    expect(cfg('no-refinement-s0').ablation.refinement).toBe(false);
    expect(cfg('no-branch-s0').ablation.anchorBranch).toBe(false);
    expect((results.runs.find((r) => r.id === 'regression-s0')!.config.model as { extensions: { arch: string } }).extensions.arch).toBe('regression');
    expect((results.runs.find((r) => r.id === 'classification-s0')!.config.model as { extensions: { arch: string } }).extensions.arch).toBe('classification');
    // The base model was also evaluated at test-time K.
    expect(results.testTimeK!.map((r) => r.K)).toEqual([1, 2, 4, 8, 16]);
    expect(fs.readFileSync(s.report!.md, 'utf8')).toMatch(/Number of anchors/);
    expect(fs.readFileSync(s.report!.html, 'utf8')).toMatch(/<html/i);
  }, 400_000);

  it('redoes only the run whose scores were deleted', async () => {
    const victim = path.join(options.out, 'runs', 'hard-s0');
    const before = readRunScores(path.join(options.out, 'runs', 'base-s0'))!.result.metrics;
    fs.rmSync(path.join(victim, 'scores.json'));
    const s = await runGrid(options);
    expect(s.executed).toEqual(['hard-s0']);
    expect(readRunScores(victim)).not.toBeNull();
    // The untouched run's scores are read back unchanged.
    expect(readRunScores(path.join(options.out, 'runs', 'base-s0'))!.result.metrics).toEqual(before);
  }, 200_000);

  it('resumes an interrupted run from its checkpoint instead of starting over', async () => {
    const victim = path.join(options.out, 'runs', 'k4-s0');
    // Simulate a kill after the checkpoint at step 2: drop the model and the scores, keep the checkpoint.
    fs.rmSync(path.join(victim, 'scores.json'));
    fs.rmSync(path.join(victim, 'train', 'model'), { recursive: true });
    const log = fs.readFileSync(path.join(victim, 'train', 'log.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(log).toHaveLength(3);
    const s = await runGrid(options);
    expect(s.executed).toEqual(['k4-s0']);
    expect(fs.readFileSync(path.join(victim, 'run.log'), 'utf8')).toMatch(/resumed from step 3/);
  }, 200_000);

  it('rejects bad arguments with one line naming them', async () => {
    await expect(planGrid({ ...options, ablation: 'colour' })).rejects.toThrow(/ablation: unknown 'colour'; valid: anchors, branch/);
    await expect(planGrid({ ...options, budget: 'huge' })).rejects.toThrow(/--budget: unknown 'huge'/);
    await expect(planGrid({ ...options, heldout: [path.join(dir, 'nothing-here')] })).rejects.toThrow(/nothing-here/);
  });
});
