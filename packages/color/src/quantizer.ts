/**
 * The 313-bin ab quantizer of Zhang et al. (ECCV 2016) used by DISCO's color modeler and
 * generator: hard and soft encoding, decoding (top-k, annealed mean), class rebalancing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GAMUT313_POINTS, GAMUT313_PRIOR } from './gamut313.js';

/** Number of quantized ab bins. */
export const NUM_AB_BINS = 313;

/** Options of {@link AbQuantizer}. */
export interface QuantizerOptions {
  /** Rebalancing mix λ ∈ [0, 1] of `w = 1/((1−λ)p + λ/313)`. Default 0.5. */
  rebalanceLambda: number;
  /** Gaussian σ (Lab units) of soft encoding. Default 5. */
  softSigma: number;
  /** Number of nearest bins soft encoding spreads over, 1..313. Default 5. */
  softNeighbours: number;
  /** Temperature of the annealed mean, in (0, 1]. Default 0.38 (Zhang et al.). */
  temperature: number;
}

/** Defaults of {@link QuantizerOptions}. */
export const QUANTIZER_DEFAULTS: Readonly<QuantizerOptions> = Object.freeze({
  rebalanceLambda: 0.5,
  softSigma: 5,
  softNeighbours: 5,
  temperature: 0.38,
});

/**
 * Copies `partial` over {@link QUANTIZER_DEFAULTS}, validating ranges and rejecting unknown keys.
 * Pure: never mutates its argument.
 */
export function resolveQuantizerOptions(partial: Partial<QuantizerOptions> = {}): QuantizerOptions {
  const known = Object.keys(QUANTIZER_DEFAULTS);
  for (const k of Object.keys(partial)) {
    if (!known.includes(k)) throw new Error(`resolveQuantizerOptions: unknown option '${k}'; valid: ${known.join(', ')}`);
  }
  const o: QuantizerOptions = { ...QUANTIZER_DEFAULTS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (o as unknown as Record<string, number>)[k] = v;
  const check = (name: keyof QuantizerOptions, ok: boolean, valid: string): void => {
    if (!ok) throw new Error(`resolveQuantizerOptions: ${name} = ${o[name]}; valid: ${valid}`);
  };
  check('rebalanceLambda', o.rebalanceLambda >= 0 && o.rebalanceLambda <= 1, 'a number in [0, 1]');
  check('softSigma', Number.isFinite(o.softSigma) && o.softSigma > 0, 'a number > 0');
  check('softNeighbours', Number.isInteger(o.softNeighbours) && o.softNeighbours >= 1 && o.softNeighbours <= NUM_AB_BINS, `an integer in 1..${NUM_AB_BINS}`);
  check('temperature', o.temperature > 0 && o.temperature <= 1, 'a number in (0, 1]');
  return o;
}

/**
 * Class-rebalancing weights `w = 1 / ((1−λ) p + λ / n)`, scaled so that `Σ p·w = 1`.
 * Pure float64 arithmetic on plain arrays.
 *
 * @param prior the bin prior `p` (n entries, sums to 1).
 * @param lambda the mix λ ∈ [0, 1].
 */
export function rebalancingWeights(prior: readonly number[], lambda: number): Float64Array {
  tf.util.assert(lambda >= 0 && lambda <= 1, () => `rebalancingWeights: lambda must be in [0, 1], got ${lambda}`);
  tf.util.assert(prior.length > 0, () => 'rebalancingWeights: prior must not be empty');
  const n = prior.length;
  const w = new Float64Array(n);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    w[i] = 1 / ((1 - lambda) * prior[i]! + lambda / n);
    norm += prior[i]! * w[i]!;
  }
  for (let i = 0; i < n; i++) w[i] = w[i]! / norm;
  return w;
}

function assertAb(ab: tf.Tensor, opName: string): void {
  tf.util.assert(ab.rank >= 1 && ab.shape[ab.rank - 1] === 2, () => `${opName}: ab must have shape [..., 2], got [${ab.shape}]`);
  tf.util.assert(ab.dtype === 'float32', () => `${opName}: ab must be float32, got ${ab.dtype}`);
}
function assertLogits(logits: tf.Tensor, opName: string): void {
  tf.util.assert(logits.rank >= 1 && logits.shape[logits.rank - 1] === NUM_AB_BINS, () => `${opName}: logits must have shape [..., ${NUM_AB_BINS}], got [${logits.shape}]`);
}

/**
 * The 313-bin quantizer. Holds constant tensors (bins, prior, weights): call {@link dispose}.
 * All ab values are in **Lab units** (multiply the model's normalised ab by 110 first).
 *
 * @example
 * ```ts
 * const q = new AbQuantizer();
 * const ids = q.encode(ab);            // [B,h,w] int32
 * const w = q.classWeights(ids);       // [B,h,w] rebalancing weights
 * const abHat = q.decodeAnnealedMean(logits); // [B,h,w,2]
 * q.dispose();
 * ```
 */
export class AbQuantizer {
  /** Resolved options. */
  readonly options: QuantizerOptions;
  /** `[313, 2]` float32 bin centres `[a, b]`. */
  readonly bins: tf.Tensor2D;
  /** `[313]` float32 ImageNet prior of each bin. */
  readonly prior: tf.Tensor1D;
  /** `[313]` float32 rebalancing weights for `options.rebalanceLambda` (Σ p·w = 1). */
  readonly weights: tf.Tensor1D;
  private readonly binsT: tf.Tensor2D; // [2, 313]
  private readonly binNorms: tf.Tensor1D; // [313]

  /** @param options partial {@link QuantizerOptions}; see {@link QUANTIZER_DEFAULTS}. */
  constructor(options: Partial<QuantizerOptions> = {}) {
    this.options = resolveQuantizerOptions(options);
    const flat = GAMUT313_POINTS.flatMap((p) => [p[0], p[1]]);
    this.bins = tf.keep(tf.tensor2d(flat, [NUM_AB_BINS, 2]));
    this.prior = tf.keep(tf.tensor1d(GAMUT313_PRIOR as number[]));
    this.weights = tf.keep(tf.tensor1d(Array.from(rebalancingWeights(GAMUT313_PRIOR, this.options.rebalanceLambda))));
    this.binsT = tf.keep(tf.transpose(this.bins));
    this.binNorms = tf.keep(tf.tensor1d(GAMUT313_POINTS.map((p) => p[0] * p[0] + p[1] * p[1])));
  }

  /** Squared distances `[N, 313]` from `[N, 2]` points to every bin. */
  private sqDistances(flat: tf.Tensor2D): tf.Tensor2D {
    const xNorm = tf.sum(tf.square(flat), 1, true); // [N, 1]
    const cross = tf.matMul(flat, this.binsT); // [N, 313]
    return tf.relu(tf.add(tf.sub(xNorm, tf.mul(cross, 2)), this.binNorms)) as tf.Tensor2D;
  }

  /**
   * Nearest-bin class ids.
   *
   * @param ab `[..., 2]` float32 ab in Lab units.
   * @returns `[...]` int32 ids in 0..312.
   */
  encode(ab: tf.Tensor): tf.Tensor {
    assertAb(ab, 'AbQuantizer.encode');
    return tf.tidy(() => {
      const lead = ab.shape.slice(0, -1);
      const d = this.sqDistances(tf.reshape(ab, [-1, 2]));
      return tf.reshape(tf.argMin(d, 1), lead);
    });
  }

  /**
   * Soft encoding: a Gaussian (σ = `softSigma`) over the `softNeighbours` nearest bins,
   * normalised to sum to 1 (bins tied with the k-th nearest are included too).
   *
   * @param ab `[..., 2]` float32 ab in Lab units.
   * @returns `[..., 313]` float32 target distributions.
   */
  softEncode(ab: tf.Tensor): tf.Tensor {
    assertAb(ab, 'AbQuantizer.softEncode');
    const { softSigma, softNeighbours } = this.options;
    return tf.tidy(() => {
      const lead = ab.shape.slice(0, -1);
      const d = this.sqDistances(tf.reshape(ab, [-1, 2])); // [N, 313]
      const neg = tf.neg(d);
      const { values } = tf.topk(neg, softNeighbours); // [N, k], largest −d² first
      const kth = tf.slice(values, [0, softNeighbours - 1], [-1, 1]); // [N, 1]
      const nearest = tf.slice(values, [0, 0], [-1, 1]); // [N, 1]
      const mask = tf.cast(tf.greaterEqual(neg, kth), 'float32');
      const g = tf.mul(tf.exp(tf.div(tf.sub(neg, nearest), 2 * softSigma * softSigma)), mask); // ≤ 1, no underflow at the nearest
      const p = tf.div(g, tf.sum(g, 1, true));
      return tf.reshape(p, [...lead, NUM_AB_BINS]);
    });
  }

  /**
   * Rebalancing weight of each class id.
   *
   * @param ids `[...]` int32 class ids.
   * @returns `[...]` float32 weights.
   */
  classWeights(ids: tf.Tensor): tf.Tensor {
    tf.util.assert(ids.dtype === 'int32', () => `AbQuantizer.classWeights: ids must be int32, got ${ids.dtype}`);
    return tf.tidy(() => tf.reshape(tf.gather(this.weights, tf.reshape(ids, [-1])), ids.shape));
  }

  /**
   * Annealed-mean decoding: the mean bin under `softmax(logits / T)`. T → 0 tends to the mode,
   * T = 1 is the plain mean. Differentiable in `logits`.
   *
   * @param logits `[..., 313]` unnormalised log-probabilities.
   * @param temperature T ∈ (0, 1]; default `options.temperature` (0.38).
   * @returns `[..., 2]` float32 ab in Lab units.
   */
  decodeAnnealedMean(logits: tf.Tensor, temperature: number = this.options.temperature): tf.Tensor {
    assertLogits(logits, 'AbQuantizer.decodeAnnealedMean');
    tf.util.assert(temperature > 0 && temperature <= 1, () => `AbQuantizer.decodeAnnealedMean: temperature must be in (0, 1], got ${temperature}`);
    return tf.tidy(() => {
      const lead = logits.shape.slice(0, -1);
      const p = tf.softmax(tf.div(tf.reshape(logits, [-1, NUM_AB_BINS]), temperature)); // [N, 313]
      return tf.reshape(tf.matMul(p, this.bins), [...lead, 2]);
    });
  }

  /**
   * Top-k decoding: the probability-weighted mean of the `k` most probable bins (k = 1: the mode).
   *
   * @param logits `[..., 313]` unnormalised log-probabilities.
   * @param k number of bins, 1..313. Default 1.
   * @returns `[..., 2]` float32 ab in Lab units.
   */
  decodeTopK(logits: tf.Tensor, k = 1): tf.Tensor {
    assertLogits(logits, 'AbQuantizer.decodeTopK');
    tf.util.assert(Number.isInteger(k) && k >= 1 && k <= NUM_AB_BINS, () => `AbQuantizer.decodeTopK: k must be an integer in 1..${NUM_AB_BINS}, got ${k}`);
    return tf.tidy(() => {
      const lead = logits.shape.slice(0, -1);
      const { values, indices } = tf.topk(tf.reshape(logits, [-1, NUM_AB_BINS]), k); // [N, k]
      const p = tf.softmax(values); // [N, k]
      const ab = tf.reshape(tf.gather(this.bins, tf.reshape(indices, [-1])), [-1, k, 2]); // [N, k, 2]
      return tf.reshape(tf.sum(tf.mul(ab, tf.expandDims(p, 2)), 1), [...lead, 2]);
    });
  }

  /** Frees the quantizer's tensors. */
  dispose(): void {
    tf.dispose([this.bins, this.prior, this.weights, this.binsT, this.binNorms]);
  }
}
