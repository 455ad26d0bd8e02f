/**
 * Stage-2 training of DISCO (Xia et al. 2022): everything but SPixNet (trained first, then frozen), with
 * `CE(modeler) + CE(generator) + 5·perceptual (+ λ·Laplacian L1 + μ·pixel L1)`, Adam, linear learning-rate
 * decay to 1 %. Pure tfjs: data arrives as batches, checkpoints leave as named tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { replayAdamBetaPowers } from '@disco/superpixel';
import { AB_SCALE, normalizedLabToRgb, type AbQuantizer } from '@disco/color';
import { isBaselineModel, type BaselineModel, type BaselineOutputs, type ColorizationModel } from '../model/baseline.js';
import { extensionsOf } from '../model/config.js';
import type { DiscoModel, DiscoOutputs } from '../model/disco.js';
import { laplacianL1, perceptualLoss, rebalancedCrossEntropy, softRebalancedCrossEntropy } from '../model/losses.js';
import type { FrozenNetwork } from '../model/frozen.js';

/** Options of {@link Stage2Trainer}. */
export interface Stage2Options {
  /** Total optimisation steps (the decay schedule spans them). Default 2000. */
  steps: number;
  /** Initial learning rate. Default 5e-4 (every shipped recipe's). */
  learningRate: number;
  /** Learning rate at the last step as a fraction of the initial one. Default 0.01. */
  finalLearningRateFraction: number;
  /** Adam β1. Default 0.9. */
  beta1: number;
  /** Adam β2. Default 0.999. */
  beta2: number;
  /** Weight of the perceptual loss when a perceptual network is used. Default 5 (the paper's). */
  perceptualWeight: number;
  /** Seed of anchor placement and dropout streams (per step: seed + step). Default 0. */
  seed: number;
  /** Loss terms and targets the paper does not have; the defaults ({@link STAGE2_NO_EXTENSIONS}) are the paper's losses. */
  extensions: Stage2Extensions;
}

/**
 * Stage-2 loss options beyond the paper (its losses: both rebalanced cross-entropies against the
 * nearest bin, and the perceptual term).
 *
 * @example
 * ```ts
 * new Stage2Trainer(model, { steps: 2000, extensions: { pixelWeight: 1, softTargets: true } });
 * ```
 */
export interface Stage2Extensions {
  /** Weight of the Laplacian-gradient L1 (0: off, the paper). */
  laplacianWeight: number;
  /**
   * Weight of a direct L1 on the predicted ab (ab/110 units; 0: off, the paper). It gives the
   * refinement network a direct signal, which short CPU runs need.
   */
  pixelWeight: number;
  /** Whether the cross-entropies (also the `classification` baseline's) use class rebalancing (λ = 0.5; true: the paper). */
  rebalance: boolean;
  /**
   * DISCO's two cross-entropies against the soft encoding of each superpixel's true color
   * (Zhang et al. 2016, eq. 2: a Gaussian, σ = 5, over its 5 nearest bins; each token weighted by
   * its nearest bin's rebalancing weight) instead of its single nearest bin (false: the paper):
   * neighbouring bins share the gradient, so rare colors are learnt from fewer samples.
   */
  softTargets: boolean;
}

/** A partial {@link Stage2Options}: any field may be left out; `extensions` merges field by field. */
export type Stage2OptionsOverrides = Partial<Omit<Stage2Options, 'extensions'>> & { extensions?: Partial<Stage2Extensions> };

/** The paper's losses: every {@link Stage2Extensions} field at its paper value. */
export const STAGE2_NO_EXTENSIONS: Readonly<Stage2Extensions> = Object.freeze({ laplacianWeight: 0, pixelWeight: 0, rebalance: true, softTargets: false });

/** Defaults of {@link Stage2Options}. */
export const STAGE2_DEFAULTS: Readonly<Stage2Options> = Object.freeze({
  steps: 2000,
  learningRate: 5e-4,
  finalLearningRateFraction: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  perceptualWeight: 5,
  seed: 0,
  extensions: STAGE2_NO_EXTENSIONS,
});

/** Validates {@link Stage2Options}; merges `extensions` over the paper's; rejects unknown keys. */
export function resolveStage2Options(partial: Stage2OptionsOverrides = {}): Stage2Options {
  const unknown = (given: object, known: object, where: string) => {
    for (const k of Object.keys(given)) {
      if (!(k in known)) throw new Error(`resolveStage2Options: unknown option '${where}${k}'; valid: ${Object.keys(known).join(', ')}`);
    }
  };
  unknown(partial, STAGE2_DEFAULTS, '');
  if (partial.extensions !== undefined) unknown(partial.extensions, STAGE2_NO_EXTENSIONS, 'extensions.');
  const x: Stage2Extensions = { ...STAGE2_NO_EXTENSIONS, ...partial.extensions };
  const o: Stage2Options = { ...STAGE2_DEFAULTS, ...partial, extensions: x };
  const check = (name: keyof Stage2Options, ok: boolean, what: string) => {
    if (!ok) throw new Error(`resolveStage2Options: ${name} must be ${what} (got ${String(o[name])})`);
  };
  const checkExtension = (name: keyof Stage2Extensions, ok: boolean, what: string) => {
    if (!ok) throw new Error(`resolveStage2Options: extensions.${name} must be ${what} (got ${String(x[name])})`);
  };
  check('steps', Number.isInteger(o.steps) && o.steps >= 1, 'an integer ≥ 1');
  check('learningRate', o.learningRate > 0, '> 0');
  check('finalLearningRateFraction', o.finalLearningRateFraction > 0 && o.finalLearningRateFraction <= 1, 'in (0, 1]');
  check('beta1', o.beta1 >= 0 && o.beta1 < 1, 'in [0, 1)');
  check('beta2', o.beta2 >= 0 && o.beta2 < 1, 'in [0, 1)');
  check('perceptualWeight', o.perceptualWeight >= 0, '≥ 0');
  check('seed', Number.isInteger(o.seed), 'an integer');
  checkExtension('laplacianWeight', x.laplacianWeight >= 0, '≥ 0');
  checkExtension('pixelWeight', x.pixelWeight >= 0, '≥ 0');
  checkExtension('rebalance', typeof x.rebalance === 'boolean', 'true or false');
  checkExtension('softTargets', typeof x.softTargets === 'boolean', 'true or false');
  return o;
}

/** Learning rate at `step` (0-based): linear from `lr` at step 0 to `lr·final` at the last step. */
export function stage2LearningRate(step: number, o: Pick<Stage2Options, 'steps' | 'learningRate' | 'finalLearningRateFraction'>): number {
  const t = o.steps <= 1 ? 0 : Math.min(1, Math.max(0, step / (o.steps - 1)));
  return o.learningRate * (1 - (1 - o.finalLearningRateFraction) * t);
}

/** Optimizer state as tfjs returns it: `{name, tensor}` entries (iterations first, then moments). */
export type OptimizerWeights = Awaited<ReturnType<tf.Optimizer['getWeights']>>;

/** One stage-2 batch: normalised Lab of square crops at the model's `imageSize`. */
export interface Stage2Batch {
  /** `[B,H,W,1]` (L−50)/50. */
  L: tf.Tensor4D;
  /** `[B,H,W,2]` ab/110. */
  ab: tf.Tensor4D;
}

/**
 * The loss terms of one step (plain numbers, read back after the step). For a baseline
 * (`arch` `regression` or `classification`) `total` is its own loss (L1 on ab/110, or the
 * per-pixel rebalanced cross-entropy) and the DISCO terms `ceModeler`, `ceGenerator`,
 * `perceptual` and `laplacian` are 0.
 */
export interface Stage2Losses {
  /** Total loss. */
  total: number;
  /** Rebalanced CE of the color modeler. */
  ceModeler: number;
  /** Rebalanced CE of the color generator. */
  ceGenerator: number;
  /** Perceptual term before weighting (0 without a feature network). */
  perceptual: number;
  /** Laplacian L1 before weighting (0 when off). */
  laplacian: number;
  /** Mean |Δab| of the prediction in Lab units (a readable quality signal; the pixel term is this / 110). */
  abL1: number;
}

/**
 * The forward pass a stage-2 step differentiates: `DiscoModel.forward(L, ab, { training, seed })`
 * (anchors located on the true colors with `seed`, ground-truth anchor colors), or
 * `BaselineModel.forward(L, { training })`. The caller disposes the outputs.
 */
export function stage2Forward(model: ColorizationModel, batch: Stage2Batch, training: boolean, seed: number): DiscoOutputs | BaselineOutputs {
  return isBaselineModel(model) ? model.forward(batch.L, { training }) : model.forward(batch.L, batch.ab, { training, seed });
}

/** Bin centres and rebalancing weights of a quantizer, read back once. */
const quantizerArrays = new WeakMap<object, { bins: Float64Array; weights: Float32Array }>();

/**
 * The soft encoding of Zhang et al. (2016) of every pixel's true ab — a Gaussian (σ =
 * `softSigma`, Lab units) over its `softNeighbours` nearest bins and any tied with the last, the
 * targets of `AbQuantizer.softEncode` — and the rebalancing weight of its nearest bin. Computed in
 * plain arrays: on wasm, `softEncode`'s top-k over 313 bins took seconds per tiny batch. Targets
 * carry no gradient.
 *
 * @param quantizer the model's quantizer (bins, weights, options).
 * @param ab `[B,H,W,2]` normalised ab (ab/110).
 * @returns `targets` `[B,H,W,313]` (each pixel sums to 1), `weights` `[B,H,W]`.
 */
export function softClassTargets(quantizer: AbQuantizer, ab: tf.Tensor4D): { targets: tf.Tensor4D; weights: tf.Tensor3D } {
  let arrays = quantizerArrays.get(quantizer);
  if (!arrays) {
    arrays = { bins: Float64Array.from(quantizer.bins.dataSync()), weights: Float32Array.from(quantizer.weights.dataSync()) };
    quantizerArrays.set(quantizer, arrays);
  }
  const { bins, weights: classWeight } = arrays;
  const C = classWeight.length;
  const k = quantizer.options.softNeighbours;
  const twoSigma2 = 2 * quantizer.options.softSigma ** 2;
  const src = ab.dataSync();
  const n = src.length / 2;
  const targets = new Float32Array(n * C);
  const weights = new Float32Array(n);
  const d2 = new Float64Array(C);
  const best = new Float64Array(k); // the k smallest squared distances, ascending
  for (let p = 0; p < n; p++) {
    const a = src[2 * p]! * AB_SCALE;
    const b = src[2 * p + 1]! * AB_SCALE;
    best.fill(Infinity);
    let nearest = 0;
    for (let q = 0; q < C; q++) {
      const d = (a - bins[2 * q]!) ** 2 + (b - bins[2 * q + 1]!) ** 2;
      d2[q] = d;
      if (d < best[k - 1]!) {
        let i = k - 1;
        while (i > 0 && best[i - 1]! > d) {
          best[i] = best[i - 1]!;
          i--;
        }
        best[i] = d;
        if (i === 0 && d < d2[nearest]!) nearest = q;
      }
    }
    const kth = best[k - 1]!;
    const dMin = best[0]!;
    let sum = 0;
    for (let q = 0; q < C; q++) {
      if (d2[q]! <= kth) {
        const g = Math.exp(-(d2[q]! - dMin) / twoSigma2);
        targets[p * C + q] = g;
        sum += g;
      }
    }
    for (let q = 0; q < C; q++) if (targets[p * C + q]! > 0) targets[p * C + q] = targets[p * C + q]! / sum;
    weights[p] = classWeight[nearest]!;
  }
  const [B, H, W] = ab.shape;
  return { targets: tf.tensor4d(targets, [B, H, W, C]), weights: tf.tensor3d(weights, [B, H, W]) };
}

/**
 * Loss of a baseline's forward pass: `regression`, `mean|ab − ab_true|` on ab/110 (plain L1);
 * `classification`, the per-pixel rebalanced cross-entropy of Zhang et al. 2016 against the soft
 * encoding of the true ab (5 nearest bins, σ = 5), each pixel weighted by its nearest bin's
 * rebalancing weight (λ = 0.5; none with `extensions.rebalance: false`).
 */
function baselineLoss(model: BaselineModel, batch: Stage2Batch, out: BaselineOutputs, o: Stage2Options): { total: tf.Scalar; terms: Record<keyof Stage2Losses, tf.Scalar> } {
  return tf.tidy(() => {
    const l1 = tf.mean(tf.abs(tf.sub(out.ab, batch.ab))) as tf.Scalar;
    let total = l1;
    if (out.arch === 'classification') {
      const { targets, weights } = softClassTargets(model.quantizer, batch.ab); // [B,H,W,313], [B,H,W]
      total = softRebalancedCrossEntropy(out.logits!, targets, o.extensions.rebalance ? weights : null);
    }
    const zero = tf.scalar(0);
    return { total, terms: { total, ceModeler: zero, ceGenerator: zero, perceptual: zero, laplacian: zero, abL1: tf.mul(l1, AB_SCALE) as tf.Scalar } };
  });
}

/**
 * The loss of a forward pass. Returns the total and its terms as scalars (caller disposes).
 * DISCO's `CE + CE + perceptual (+ …)`, or a baseline's own loss (perceptual, Laplacian and pixel
 * terms are not applied to baselines).
 *
 * @param out outputs of {@link stage2Forward} for `model`.
 */
export function stage2Loss(
  model: ColorizationModel,
  batch: Stage2Batch,
  out: DiscoOutputs | BaselineOutputs,
  o: Stage2Options,
  featureNet: FrozenNetwork | null,
): { total: tf.Scalar; terms: Record<keyof Stage2Losses, tf.Scalar> } {
  const fromBaseline = 'arch' in out;
  if (fromBaseline !== isBaselineModel(model)) throw new Error(`stage2Loss: outputs of ${fromBaseline ? `a '${out.arch}' baseline` : 'DISCO'} for a model of arch '${extensionsOf(model.config).arch}'`);
  if (isBaselineModel(model)) return baselineLoss(model, batch, out as BaselineOutputs, o);
  return discoLoss(model, batch, out as DiscoOutputs, o, featureNet);
}

/** DISCO's loss: the two cross-entropies, the perceptual term, and the optional Laplacian and pixel L1 terms. */
function discoLoss(model: DiscoModel, batch: Stage2Batch, out: DiscoOutputs, o: Stage2Options, featureNet: FrozenNetwork | null): { total: tf.Scalar; terms: Record<keyof Stage2Losses, tf.Scalar> } {
  return tf.tidy(() => {
    let ceModeler: tf.Scalar, ceGenerator: tf.Scalar;
    const x = o.extensions;
    if (x.softTargets) {
      const { targets, weights } = softClassTargets(model.quantizer, out.superpixelColors!); // [B,h,w,313], [B,h,w]
      ceModeler = softRebalancedCrossEntropy(out.modelerLogits, targets, x.rebalance ? weights : null);
      ceGenerator = softRebalancedCrossEntropy(out.generatorLogits, targets, x.rebalance ? weights : null);
    } else {
      const w = x.rebalance ? model.quantizer.weights : null;
      ceModeler = rebalancedCrossEntropy(out.modelerLogits, out.targetClasses!, w);
      ceGenerator = rebalancedCrossEntropy(out.generatorLogits, out.targetClasses!, w);
    }
    let total = tf.add(ceModeler, ceGenerator) as tf.Scalar;
    let perceptual = tf.scalar(0);
    if (featureNet && o.perceptualWeight > 0) {
      const pred = normalizedLabToRgb(batch.L, out.ab) as tf.Tensor4D;
      const gt = normalizedLabToRgb(batch.L, batch.ab) as tf.Tensor4D;
      perceptual = perceptualLoss(featureNet, pred, gt);
      total = tf.add(total, tf.mul(perceptual, o.perceptualWeight));
    }
    let lap = tf.scalar(0);
    if (x.laplacianWeight > 0) {
      lap = laplacianL1(out.ab, batch.ab);
      total = tf.add(total, tf.mul(lap, x.laplacianWeight));
    }
    const l1 = tf.mean(tf.abs(tf.sub(out.ab, batch.ab))) as tf.Scalar;
    if (x.pixelWeight > 0) total = tf.add(total, tf.mul(l1, x.pixelWeight));
    const abL1 = tf.mul(l1, 110) as tf.Scalar;
    return { total, terms: { total, ceModeler, ceGenerator, perceptual, laplacian: lap, abL1 } };
  });
}

/**
 * Adam whose learning rate the schedule sets before each update (tfjs keeps it in a protected
 * field; this subclass is the one place that writes it).
 */
class ScheduledAdam extends tf.AdamOptimizer {
  /** The learning rate the next update uses. */
  get rate(): number {
    return this.learningRate;
  }

  set rate(value: number) {
    this.learningRate = value;
  }
}

/** Dropout seed of step `step` of a run seeded `seed`: the masks depend only on (seed, step), so a resumed run replays them. */
function dropoutSeed(seed: number, step: number): number {
  return seed * 1000003 + step;
}

/**
 * Runs stage-2 steps. Anchors are located on ground-truth superpixel colors with a per-step seed,
 * anchor colors are the ground-truth bins (as in the paper's training).
 *
 * A step is {@link Stage2Trainer.gradients} then {@link Stage2Trainer.applyGradients}; the
 * data-parallel trainer calls the two halves on different threads (gradients of each shard, one
 * update of their mean), so both trainers run the same step.
 */
export class Stage2Trainer {
  /** Resolved options. */
  readonly options: Stage2Options;
  /** The Adam optimizer (its state is part of a checkpoint). */
  readonly optimizer: tf.AdamOptimizer;
  private readonly adam: ScheduledAdam;
  private readonly variables: tf.Variable[];
  /** The model being trained, DISCO or a baseline (not owned: the caller disposes it). */
  readonly model: ColorizationModel;
  /** The frozen perceptual feature network, or null (no perceptual term). */
  readonly featureNet: FrozenNetwork | null;

  /**
   * @param model the model to train; only its `trainableVariables()` change.
   * @param options partial {@link Stage2Options}.
   * @param featureNet perceptual feature network, or null.
   */
  constructor(model: ColorizationModel, options: Stage2OptionsOverrides = {}, featureNet: FrozenNetwork | null = null) {
    this.model = model;
    this.featureNet = featureNet;
    this.options = resolveStage2Options(options);
    // As tf.train.adam(lr, β1, β2): ε is the backend's.
    this.adam = new ScheduledAdam(this.options.learningRate, this.options.beta1, this.options.beta2);
    this.optimizer = this.adam;
    this.variables = model.trainableVariables();
  }

  /** The learning rate of the last update (the initial one before any). */
  get learningRate(): number {
    return this.adam.rate;
  }

  /** One optimisation step at `step` (0-based): {@link gradients}, then {@link applyGradients}. */
  step(batch: Stage2Batch, step: number): Stage2Losses {
    const { grads, losses } = this.gradients(batch, step);
    this.applyGradients(grads, step);
    tf.dispose(grads.filter((g): g is tf.Tensor => g !== null));
    return losses;
  }

  /**
   * The gradients step `step` applies, without applying them: dropout reseeded for (seed, step),
   * the training forward pass (anchors located on the true colors with seed `seed + step`) and
   * {@link stage2Loss}. Batch-norm moving statistics are updated as in a step.
   *
   * @param batch `L` `[B,H,W,1]`, `ab` `[B,H,W,2]`.
   * @returns `grads`: one tensor per variable of `model.trainableVariables()` (same order), null
   *   where the loss does not reach the variable (the caller disposes them); `losses`: the terms.
   */
  gradients(batch: Stage2Batch, step: number): { grads: Array<tf.Tensor | null>; losses: Stage2Losses } {
    const o = this.options;
    this.model.reseedDropout(dropoutSeed(o.seed, step));
    let terms: Record<keyof Stage2Losses, tf.Scalar> | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = stage2Forward(this.model, batch, true, o.seed + step);
      const r = stage2Loss(this.model, batch, out, o, this.featureNet);
      terms = Object.fromEntries(Object.entries(r.terms).filter(([k]) => k !== 'total').map(([k, v]) => [k, tf.keep(v)])) as Record<keyof Stage2Losses, tf.Scalar>;
      tf.dispose(Object.values(out).filter((t): t is tf.Tensor => t instanceof tf.Tensor));
      return r.total;
    }, this.variables);
    const t = terms as unknown as Record<keyof Stage2Losses, tf.Scalar>;
    const losses = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.dataSync()[0]!])) as unknown as Stage2Losses;
    losses.total = value.dataSync()[0]!;
    tf.dispose([...Object.values(t), value]);
    return { grads: this.variables.map((v) => grads[v.name] ?? null), losses };
  }

  /**
   * One Adam update at `step` with `grads` in the order of {@link gradients}, after setting the
   * learning rate of the schedule ({@link stage2LearningRate}). A null entry leaves its variable
   * (and its moments) unchanged, as tfjs' `minimize` does. Does not dispose `grads`.
   */
  applyGradients(grads: Array<tf.Tensor | null>, step: number): void {
    tf.util.assert(grads.length === this.variables.length, () => `Stage2Trainer.applyGradients: ${grads.length} gradients for ${this.variables.length} variables`);
    this.adam.rate = stage2LearningRate(step, this.options);
    // Every variable, in order (Adam keeps its moments by position); Adam skips a null tensor, as in `minimize`.
    this.adam.applyGradients(this.variables.map((v, i) => ({ name: v.name, tensor: grads[i] }) as { name: string; tensor: tf.Tensor }));
  }

  /** Loss terms on a batch without updating anything (inference mode: no dropout, BN moving stats). */
  evaluate(batch: Stage2Batch, seed = 0): Stage2Losses {
    let values: Stage2Losses | null = null;
    tf.tidy(() => {
      const out = stage2Forward(this.model, batch, false, seed);
      const r = stage2Loss(this.model, batch, out, this.options, this.featureNet);
      values = Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, v.dataSync()[0]!])) as unknown as Stage2Losses;
    });
    return values!;
  }

  /** Optimizer state (iterations and Adam moments) as named tensors, for checkpoints. */
  async optimizerState(): Promise<OptimizerWeights> {
    return this.optimizer.getWeights();
  }

  /** Restores optimizer state saved by {@link Stage2Trainer.optimizerState}. */
  async setOptimizerState(state: OptimizerWeights): Promise<void> {
    await this.optimizer.setWeights(state);
    replayAdamBetaPowers(this.optimizer);
  }

  /** Frees the optimizer state (not the model). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
