import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Option } from 'commander';
import { resolveDiscoConfig } from '../src/model/config.js';
import { perceptualWeightFor, TRAIN_DEFAULTS } from '../src/train/defaults.js';
import { resolveStage2Options, STAGE2_DEFAULTS } from '../src/train/stage2.js';
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
      laplacian: D.options.laplacianWeight, pixel: D.options.pixelWeight, validateEvery: D.validateEvery,
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

