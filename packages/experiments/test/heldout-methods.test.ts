import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { createColorizationModel, resolveDiscoConfig } from '@disco/colorize';
import { expectNoLeaks } from '@disco/runtime/testing';
import { greyMethod, meanTrainingAb, modelMethods, scoreHeldout } from '../src/node.js';
import { writeSyntheticPhotos } from './images.js';

describe('modelMethods: what a model is scored by (wasm)', { timeout: 300_000 }, () => {
  let dir = '';
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-methods-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const small = (arch: 'disco' | 'regression' | 'classification') => createColorizationModel(resolveDiscoConfig({ extensions: { arch }, imageSize: 32, transformer: { layers: 1 } }, 'tiny'));

  it('DISCO: predicted, expected, the extra temperatures and α, then oracle anchors', () => {
    const m = small('disco');
    expect(modelMethods(m).map((x) => x.name)).toEqual(['DISCO', 'DISCO, expected anchor colors', 'DISCO, oracle anchors']);
    expect(modelMethods(m, { anchorTemperatures: [0.2], anchorRebalances: [0.5, 1] }).map((x) => x.name)).toEqual([
      'DISCO',
      'DISCO, expected anchor colors',
      'DISCO, expected anchor colors, T = 0.2',
      'DISCO, anchor rebalance α = 0.5',
      'DISCO, anchor rebalance α = 1',
      'DISCO, oracle anchors',
    ]);
    m.dispose();
  });

  it('scoring and the mean color leak no tensors, resized or not (the expanded image view once kept each photo alive)', async () => {
    const { photos } = await writeSyntheticPhotos(path.join(dir, 'leaks'), 2, 64, 48);
    const files = fs.readdirSync(photos).map((f) => path.join(photos, f));
    await expectNoLeaks(() => meanTrainingAb(files, 16), 'meanTrainingAb (resized)');
    await expectNoLeaks(() => scoreHeldout(files, [greyMethod()], { maxSide: 32 }), 'scoreHeldout (resized)');
    await expectNoLeaks(() => scoreHeldout(files, [greyMethod()]), 'scoreHeldout (full size)');
  });

  it('a baseline: its one output, scored end to end; anchor options are a one-line error', async () => {
    const { photos } = await writeSyntheticPhotos(dir, 2);
    const files = fs.readdirSync(photos).map((f) => path.join(photos, f));
    for (const arch of ['regression', 'classification'] as const) {
      const m = small(arch);
      const methods = modelMethods(m);
      expect(methods.map((x) => x.name)).toEqual([`${arch} baseline`]);
      expect(() => modelMethods(m, { anchorRebalances: [0.5] })).toThrow(new RegExp(`need a DISCO model; this is the '${arch}' baseline`));
      const s = await scoreHeldout(files, [greyMethod(), ...methods], { grid: [m.config.imageSize / m.config.cellSize, m.config.imageSize / m.config.cellSize] });
      const row = s.methods[`${arch} baseline`]!;
      expect(row.images).toBe(2);
      // An untrained head still predicts some color: a number, different from grey's.
      expect(Number.isFinite(row.meanError)).toBe(true);
      expect(row.meanError).not.toBe(s.methods.grey!.meanError);
      // The class-rebalanced AuC: in [0, 1], below the plain one for grey (rare saturated colors weigh more).
      for (const r of [row, s.methods.grey!]) {
        expect(r.aucRebalanced).toBeGreaterThan(0);
        expect(r.aucRebalanced).toBeLessThanOrEqual(1);
      }
      expect(s.methods.grey!.aucRebalanced).toBeLessThan(s.methods.grey!.auc);
      // Blockiness at the model's grid: grey has no chroma steps (NaN); the photos' own is finite.
      expect(Number.isNaN(s.methods.grey!.blockiness)).toBe(true);
      expect(Number.isFinite(s.truth.blockiness)).toBe(true);
      m.dispose();
    }
  });
});
