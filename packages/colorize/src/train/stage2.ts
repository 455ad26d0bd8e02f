/**
 * Stage-2 training of DISCO (Xia et al. 2022): everything but SPixNet (trained first, then frozen), with
 * `CE(modeler) + CE(generator) + 5·perceptual (+ λ·Laplacian L1 + μ·pixel L1)`, Adam, linear learning-rate
 * decay to 1 %. Pure tfjs: data arrives as batches, checkpoints leave as named tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { replayAdamBetaPowers } from '@disco/superpixel';
import { AB_SCALE, normalizedLabToRgb } from '@disco/color';
import type { BaselineOutputs, DiscoModel, DiscoOutputs } from '../model/disco.js';
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
  /** Weight of the Laplacian-gradient L1 (0: off). Default 0. */
  laplacianWeight: number;
  /**
   * Weight of a direct L1 on the predicted ab (ab/110 units; 0: off, the paper). Not in the
   * paper: it gives the refinement network a direct signal, which short CPU runs need. Default 0.
   */
  pixelWeight: number;
  /** Whether the cross-entropies (also the `classification` baseline's) use class rebalancing (λ = 0.5). Default true. */
  rebalance: boolean;
  /**
   * DISCO's two cross-entropies against the soft encoding of each superpixel's true color
   * (Zhang et al. 2016, eq. 2: a Gaussian, σ = 5, over its 5 nearest bins; each token weighted by
   * its nearest bin's rebalancing weight) instead of its single nearest bin (the paper). Not in
   * the paper: neighbouring bins share the gradient, so rare colors are learnt from fewer samples.
   * Default false.
   */
  softTargets: boolean;
  /** Seed of anchor placement and dropout streams (per step: seed + step). Default 0. */
  seed: number;
}

/** Defaults of {@link Stage2Options}. */
export const STAGE2_DEFAULTS: Readonly<Stage2Options> = Object.freeze({
  steps: 2000,
  learningRate: 5e-4,
  finalLearningRateFraction: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  perceptualWeight: 5,
  laplacianWeight: 0,
  pixelWeight: 0,
  rebalance: true,
  softTargets: false,
  seed: 0,
});

/** Validates {@link Stage2Options}; rejects unknown keys. */
export function resolveStage2Options(partial: Partial<Stage2Options> = {}): Stage2Options {
  for (const k of Object.keys(partial)) {
    if (!(k in STAGE2_DEFAULTS)) throw new Error(`resolveStage2Options: unknown option '${k}'; valid: ${Object.keys(STAGE2_DEFAULTS).join(', ')}`);
  }
  const o = { ...STAGE2_DEFAULTS, ...partial };
  const check = (name: keyof Stage2Options, ok: boolean, what: string) => {
    if (!ok) throw new Error(`resolveStage2Options: ${name} must be ${what} (got ${String(o[name])})`);
  };
  check('steps', Number.isInteger(o.steps) && o.steps >= 1, 'an integer ≥ 1');
  check('learningRate', o.learningRate > 0, '> 0');
  check('finalLearningRateFraction', o.finalLearningRateFraction > 0 && o.finalLearningRateFraction <= 1, 'in (0, 1]');
  check('beta1', o.beta1 >= 0 && o.beta1 < 1, 'in [0, 1)');
  check('beta2', o.beta2 >= 0 && o.beta2 < 1, 'in [0, 1)');
  check('perceptualWeight', o.perceptualWeight >= 0, '≥ 0');
  check('laplacianWeight', o.laplacianWeight >= 0, '≥ 0');
  check('pixelWeight', o.pixelWeight >= 0, '≥ 0');
  check('seed', Number.isInteger(o.seed), 'an integer');
  check('rebalance', typeof o.rebalance === 'boolean', 'true or false');
  check('softTargets', typeof o.softTargets === 'boolean', 'true or false');
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
 * The forward pass a stage-2 step differentiates: `model.forward(L, ab, { training, seed })` for
 * DISCO (anchors located on the true colors with `seed`, ground-truth anchor colors), or
 * `model.forwardBaseline(L, { training })` for a baseline. The caller disposes the outputs.
 */
export function stage2Forward(model: DiscoModel, batch: Stage2Batch, training: boolean, seed: number): DiscoOutputs | BaselineOutputs {
  return model.config.arch === 'disco' ? model.forward(batch.L, batch.ab, { training, seed }) : model.forwardBaseline(batch.L, { training });
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
export function softClassTargets(quantizer: DiscoModel['quantizer'], ab: tf.Tensor4D): { targets: tf.Tensor4D; weights: tf.Tensor3D } {
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
 * rebalancing weight (λ = 0.5; none with `rebalance: false`).
 */
function baselineLoss(model: DiscoModel, batch: Stage2Batch, out: BaselineOutputs, o: Stage2Options): { total: tf.Scalar; terms: Record<keyof Stage2Losses, tf.Scalar> } {
  return tf.tidy(() => {
    const l1 = tf.mean(tf.abs(tf.sub(out.ab, batch.ab))) as tf.Scalar;
    let total = l1;
    if (out.arch === 'classification') {
      const { targets, weights } = softClassTargets(model.quantizer, batch.ab); // [B,H,W,313], [B,H,W]
      total = softRebalancedCrossEntropy(out.logits!, targets, o.rebalance ? weights : null);
    }
    const zero = tf.scalar(0);
    return { total, terms: { total, ceModeler: zero, ceGenerator: zero, perceptual: zero, laplacian: zero, abL1: tf.mul(l1, AB_SCALE) as tf.Scalar } };
  });
}

/**
 * The loss of a forward pass. Returns the total and its terms as scalars (caller disposes).
 * Branches on `model.config.arch`: DISCO's `CE + CE + perceptual (+ …)`, or a baseline's own
 * loss (perceptual, Laplacian and pixel terms are not applied to baselines).
 *
 * @param out outputs of {@link stage2Forward}: `model.forward(batch.L, batch.ab, { training })`
 *   for DISCO, `model.forwardBaseline(batch.L, { training })` for a baseline.
 */
export function stage2Loss(
  model: DiscoModel,
  batch: Stage2Batch,
  out: DiscoOutputs | BaselineOutputs,
  o: Stage2Options,
  featureNet: FrozenNetwork | null,
): { total: tf.Scalar; terms: Record<keyof Stage2Losses, tf.Scalar> } {
  const arch = model.config.arch;
  const isBaseline = 'arch' in out;
  if (isBaseline !== (arch !== 'disco')) throw new Error(`stage2Loss: outputs of ${isBaseline ? `a '${out.arch}' baseline` : 'DISCO'} for a model of arch '${arch}'`);
  if (isBaseline) return baselineLoss(model, batch, out, o);
  return tf.tidy(() => {
    let ceModeler: tf.Scalar, ceGenerator: tf.Scalar;
    if (o.softTargets) {
      const { targets, weights } = softClassTargets(model.quantizer, out.superpixelColors!); // [B,h,w,313], [B,h,w]
      ceModeler = softRebalancedCrossEntropy(out.modelerLogits, targets, o.rebalance ? weights : null);
      ceGenerator = softRebalancedCrossEntropy(out.generatorLogits, targets, o.rebalance ? weights : null);
    } else {
      const w = o.rebalance ? model.quantizer.weights : null;
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
    if (o.laplacianWeight > 0) {
      lap = laplacianL1(out.ab, batch.ab);
      total = tf.add(total, tf.mul(lap, o.laplacianWeight));
    }
    const l1 = tf.mean(tf.abs(tf.sub(out.ab, batch.ab))) as tf.Scalar;
    if (o.pixelWeight > 0) total = tf.add(total, tf.mul(l1, o.pixelWeight));
    const abL1 = tf.mul(l1, 110) as tf.Scalar;
    return { total, terms: { total, ceModeler, ceGenerator, perceptual, laplacian: lap, abL1 } };
  });
}

/**
 * Runs stage-2 steps. Anchors are located on ground-truth superpixel colors with a per-step seed,
 * anchor colors are the ground-truth bins (as in the paper's training).
 */
export class Stage2Trainer {
  /** Resolved options. */
  readonly options: Stage2Options;
  /** The Adam optimizer (its state is part of a checkpoint). */
  readonly optimizer: tf.AdamOptimizer;
  private readonly variables: tf.Variable[];
  /** The model being trained (not owned: the caller disposes it). */
  readonly model: DiscoModel;
  /** The frozen perceptual feature network, or null (no perceptual term). */
  readonly featureNet: FrozenNetwork | null;

  /**
   * @param model the model to train; only {@link DiscoModel.trainableVariables} change.
   * @param options partial {@link Stage2Options}.
   * @param featureNet perceptual feature network, or null.
   */
  constructor(model: DiscoModel, options: Partial<Stage2Options> = {}, featureNet: FrozenNetwork | null = null) {
    this.model = model;
    this.featureNet = featureNet;
    this.options = resolveStage2Options(options);
    this.optimizer = tf.train.adam(this.options.learningRate, this.options.beta1, this.options.beta2) as tf.AdamOptimizer;
    this.variables = model.trainableVariables();
  }

  /** One optimisation step at `step` (0-based, sets the learning rate of the schedule). */
  step(batch: Stage2Batch, step: number): Stage2Losses {
    const o = this.options;
    (this.optimizer as unknown as { learningRate: number }).learningRate = stage2LearningRate(step, o);
    this.model.reseedDropout(o.seed * 1000003 + step);
    let terms: Record<keyof Stage2Losses, tf.Scalar> | null = null;
    const cost = this.optimizer.minimize(
      () => {
        const out = stage2Forward(this.model, batch, true, o.seed + step);
        const r = stage2Loss(this.model, batch, out, o, this.featureNet);
        terms = Object.fromEntries(Object.entries(r.terms).filter(([k]) => k !== 'total').map(([k, v]) => [k, tf.keep(v)])) as Record<keyof Stage2Losses, tf.Scalar>;
        tf.dispose(Object.values(out).filter((t): t is tf.Tensor => t instanceof tf.Tensor));
        return r.total;
      },
      true,
      this.variables,
    );
    const t = terms as unknown as Record<keyof Stage2Losses, tf.Scalar>;
    const values = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.dataSync()[0]!])) as unknown as Stage2Losses;
    values.total = cost!.dataSync()[0]!;
    tf.dispose([...Object.values(t), cost!]);
    return values;
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
