import * as tf from '@tensorflow/tfjs-core';
import { SpixNet } from './spixnet.js';
import { resolveStage1LossOptions, stage1Loss } from './stage1_loss.js';

/** Options of {@link trainSpixNet}; defaults in {@link TRAIN_SPIXNET_DEFAULTS}. */
export interface TrainSpixNetOptions {
  /** Total number of optimisation steps of the whole run (the schedule spans them). Default 1000. */
  steps: number;
  /** Initial Adam learning rate. Default 2e-4. */
  learningRate: number;
  /** The rate decays linearly to `learningRate · finalLearningRateFraction` at the last step. Default 0.01. */
  finalLearningRateFraction: number;
  /** Adam β1. Default 0.9. */
  beta1: number;
  /** Adam β2. Default 0.999. */
  beta2: number;
  /** Superpixel cell size `S`. Default 16. */
  cellSize: number;
  /** Weight of the colour term of {@link stage1Loss}. Default 10. */
  featWeight: number;
  /** Weight of the position term of {@link stage1Loss}. Default 0.003. */
  posWeight: number;
}

/** Defaults of {@link TrainSpixNetOptions}. */
export const TRAIN_SPIXNET_DEFAULTS: Readonly<TrainSpixNetOptions> = Object.freeze({
  steps: 1000,
  learningRate: 2e-4,
  finalLearningRateFraction: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  cellSize: 16,
  featWeight: 10,
  posWeight: 0.003,
});

/** Completes and validates partial {@link TrainSpixNetOptions}; rejects unknown keys. */
export function resolveTrainSpixNetOptions(partial: Partial<TrainSpixNetOptions> = {}): TrainSpixNetOptions {
  const keys = Object.keys(TRAIN_SPIXNET_DEFAULTS);
  for (const key of Object.keys(partial)) {
    if (!keys.includes(key)) throw new Error(`resolveTrainSpixNetOptions: unknown option '${key}'; valid: ${keys.join(', ')}`);
  }
  const o = { ...TRAIN_SPIXNET_DEFAULTS, ...partial };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`resolveTrainSpixNetOptions: ${what}`);
  };
  check(Number.isInteger(o.steps) && o.steps >= 1, `steps must be an integer >= 1; got ${o.steps}`);
  check(o.learningRate > 0, `learningRate must be > 0; got ${o.learningRate}`);
  check(o.finalLearningRateFraction >= 0 && o.finalLearningRateFraction <= 1, `finalLearningRateFraction must be in [0, 1]; got ${o.finalLearningRateFraction}`);
  check(o.beta1 >= 0 && o.beta1 < 1, `beta1 must be in [0, 1); got ${o.beta1}`);
  check(o.beta2 >= 0 && o.beta2 < 1, `beta2 must be in [0, 1); got ${o.beta2}`);
  resolveStage1LossOptions({ cellSize: o.cellSize, featWeight: o.featWeight, posWeight: o.posWeight });
  return o;
}

/**
 * The learning rate of step `step` (0-based): linear decay from `learningRate` to
 * `learningRate · finalLearningRateFraction` over `steps`. It depends on the step only — unlike
 * the published code, the rate is never multiplied by the epoch count.
 */
export function spixnetLearningRate(step: number, options: Pick<TrainSpixNetOptions, 'steps' | 'learningRate' | 'finalLearningRateFraction'>): number {
  const t = options.steps <= 1 ? 0 : Math.min(Math.max(step, 0), options.steps - 1) / (options.steps - 1);
  return options.learningRate * (1 - (1 - options.finalLearningRateFraction) * t);
}

/** One training batch. Both tensors are consumed (disposed) by {@link trainSpixNet}. */
export interface Stage1Batch {
  /** Lightness `[batch, height, width, 1]` as (L-50)/50. */
  L: tf.Tensor4D;
  /** Colour `[batch, height, width, 2]` as ab/110. */
  ab: tf.Tensor4D;
}

/** What {@link trainSpixNet} reports after each step. */
export interface TrainStepInfo {
  /** Steps completed so far in the whole run (1 after the first step). */
  step: number;
  /** {@link TrainSpixNetOptions.steps}. */
  totalSteps: number;
  /** Total stage-1 loss of this step's batch. */
  loss: number;
  /** Its colour term `mean‖Δab‖₂`. */
  feat: number;
  /** Its position term `mean‖Δxy‖₂` in pixels. */
  pos: number;
  /** Learning rate used for this step. */
  learningRate: number;
  /** Wall time of this step in milliseconds. */
  ms: number;
}

/** Extra inputs of {@link trainSpixNet}. */
export interface TrainSpixNetHooks {
  /** Steps already done (resume): the schedule continues from here. Default 0. */
  startStep?: number;
  /** Optimizer to continue with (e.g. restored by {@link loadOptimizerState}). Default: a new Adam. */
  optimizer?: tf.AdamOptimizer;
  /** Called after every step, awaited (logging, checkpoints). */
  onStep?: (info: TrainStepInfo) => void | Promise<void>;
}

/** Result of {@link trainSpixNet}. */
export interface TrainSpixNetResult {
  /** Steps completed in the whole run. */
  step: number;
  /** Loss of the last step (NaN when no step ran). */
  lastLoss: number;
  /** The optimizer; the caller owns it (save its state, then `dispose()`). */
  optimizer: tf.AdamOptimizer;
}

/** Creates the Adam optimizer {@link trainSpixNet} uses. */
export function createSpixNetOptimizer(options: Partial<TrainSpixNetOptions> = {}): tf.AdamOptimizer {
  const o = resolveTrainSpixNetOptions(options);
  return tf.train.adam(o.learningRate, o.beta1, o.beta2, 1e-8);
}

/**
 * Stage-1 training of SPixNet (DISCO §3.1): Adam on {@link stage1Loss}, linear learning-rate decay
 * ({@link spixnetLearningRate}), batch-norm in training mode. Runs until `steps` is reached or
 * the batches run out. Deterministic given the network's seed and the batch order.
 *
 * @param net The network to train (updated in place).
 * @param batches Batches `{L [B,H,W,1], ab [B,H,W,2]}`; each is disposed after its step.
 * @param options Schedule, optimizer and loss settings.
 * @param hooks Resume point, optimizer and per-step callback.
 *
 * @example
 * ```ts
 * const { optimizer } = await trainSpixNet(net, batches, { steps: 2000, cellSize: 16 }, { onStep: (i) => console.log(i.loss) });
 * optimizer.dispose();
 * ```
 */
export async function trainSpixNet(
  net: SpixNet,
  batches: AsyncIterable<Stage1Batch> | Iterable<Stage1Batch>,
  options: Partial<TrainSpixNetOptions> = {},
  hooks: TrainSpixNetHooks = {},
): Promise<TrainSpixNetResult> {
  const o = resolveTrainSpixNetOptions(options);
  const lossOptions = { cellSize: o.cellSize, featWeight: o.featWeight, posWeight: o.posWeight };
  const optimizer = hooks.optimizer ?? createSpixNetOptimizer(o);
  const settable = optimizer as unknown as { learningRate: number };
  let step = hooks.startStep ?? 0;
  if (!Number.isInteger(step) || step < 0) throw new Error(`trainSpixNet: hooks.startStep must be a non-negative integer; got ${step}`);
  let lastLoss = NaN;
  if (step >= o.steps) return { step, lastLoss, optimizer };
  for await (const batch of batches) {
    const t0 = performance.now();
    const lr = spixnetLearningRate(step, o);
    settable.learningRate = lr;
    let terms: tf.Scalar[] = [];
    try {
      const vars = net.model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => {
        const parts = stage1Loss(net.predict(batch.L, true), batch.ab, lossOptions);
        terms = [tf.keep(parts.feat), tf.keep(parts.pos)];
        return parts.total;
      }, vars);
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      const [loss, feat, pos] = await Promise.all([value, ...terms].map(async (t) => (await t.data())[0]!));
      tf.dispose([value, ...Object.values(grads)]);
      lastLoss = loss;
      step += 1;
      await hooks.onStep?.({ step, totalSteps: o.steps, loss, feat: feat!, pos: pos!, learningRate: lr, ms: performance.now() - t0 });
    } finally {
      tf.dispose([batch.L, batch.ab, ...terms]);
    }
    if (step >= o.steps) break;
  }
  return { step, lastLoss, optimizer };
}

/** Serialised optimizer state: weight specs and their concatenated data. */
export interface OptimizerState {
  /** Names, shapes and dtypes of the tensors in `data`. */
  specs: tf.io.WeightsManifestEntry[];
  /** Their bytes, concatenated. */
  data: ArrayBuffer;
}

/** Reads the optimizer's state (iteration count, Adam moments) for a checkpoint. */
export async function saveOptimizerState(optimizer: tf.Optimizer): Promise<OptimizerState> {
  const weights = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(weights);
  return { specs, data };
}

/** Restores state written by {@link saveOptimizerState} into a fresh optimizer of the same kind. */
export async function loadOptimizerState(optimizer: tf.Optimizer, state: OptimizerState): Promise<void> {
  const map = tf.io.decodeWeights(state.data, state.specs);
  await optimizer.setWeights(state.specs.map((s) => ({ name: s.name, tensor: map[s.name]! })));
  // setWeights copies into its own variables; free the decoded tensors.
  tf.dispose(Object.values(map));
  replayAdamBetaPowers(optimizer);
}

/**
 * After `optimizer.setWeights(…)` of an Adam optimizer: recomputes β₁ᵗ and β₂ᵗ by t successive
 * multiplications, as training reaches them (tfjs restores them with one `pow()`, which differs in
 * the last bits), so a resumed run is bit-identical to an uninterrupted one. Other optimizers are
 * left unchanged.
 *
 * @example
 * ```ts
 * await adam.setWeights(saved);
 * replayAdamBetaPowers(adam);
 * ```
 */
export function replayAdamBetaPowers(optimizer: tf.Optimizer): void {
  const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable; beta1?: number; beta2?: number; iterations: number };
  if (!adam.accBeta1 || !adam.accBeta2 || typeof adam.beta1 !== 'number' || typeof adam.beta2 !== 'number') return;
  const replay = (beta: number): tf.Scalar => {
    let acc = tf.scalar(beta);
    for (let i = 0; i < adam.iterations; i++) {
      const next = tf.mul(acc, beta) as tf.Scalar;
      acc.dispose();
      acc = next;
    }
    return acc;
  };
  const b1 = replay(adam.beta1);
  const b2 = replay(adam.beta2);
  adam.accBeta1.assign(b1);
  adam.accBeta2.assign(b2);
  tf.dispose([b1, b2]);
}
