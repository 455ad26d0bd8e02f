/**
 * The one source of stage-2 training defaults: `trainDisco`, `disco train` (its flags'
 * defaults) and the recipes all read them from {@link TRAIN_DEFAULTS}.
 */
import { STAGE2_DEFAULTS, type Stage2Options } from './stage2.js';

/** Defaults of a stage-2 run (see `TrainDiscoSpec` for what each field does). */
export interface TrainDefaults {
  /** Model preset. `tiny`. */
  preset: 'paper' | 'tiny';
  /** Images per batch. 8. */
  batchSize: number;
  /** Steps between validations (0: never). 200. */
  validateEvery: number;
  /** Batches per validation. 4. */
  validationBatches: number;
  /** Steps between checkpoints. 100. */
  checkpointEvery: number;
  /** Perceptual feature network (`none` or a registered name). `none`: every shipped recipe trains without it, and it rules out `workers > 1`. */
  perceptual: string;
  /** Threads per step. 1. */
  workers: number;
  /**
   * The stage-2 options ({@link STAGE2_DEFAULTS}). `perceptualWeight` (5, the paper's) applies when
   * a perceptual network is named; with `perceptual: 'none'` it is 0 ({@link perceptualWeightFor}).
   */
  options: Readonly<Stage2Options>;
}

/** Defaults of {@link TrainDefaults}, frozen. */
export const TRAIN_DEFAULTS: Readonly<TrainDefaults> = Object.freeze({
  preset: 'tiny',
  batchSize: 8,
  validateEvery: 200,
  validationBatches: 4,
  checkpointEvery: 100,
  perceptual: 'none',
  workers: 1,
  options: STAGE2_DEFAULTS,
});

/**
 * The perceptual loss weight of a run: 0 without a perceptual network (`'none'`), otherwise
 * `weight` (default {@link STAGE2_DEFAULTS}`.perceptualWeight`, 5 as in the paper).
 */
export function perceptualWeightFor(perceptual: string, weight: number = STAGE2_DEFAULTS.perceptualWeight): number {
  return perceptual === 'none' ? 0 : weight;
}
