/** Layer normalisation over the last axis, as PyTorch's `nn.LayerNorm(d)`. */
import * as tf from '@tensorflow/tfjs-core';
import { TransformerModule } from './module.js';
import { checkInt, checkNumber, rejectUnknownKeys } from './internal/validate.js';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Size of the normalised (last) axis. Default 64. */
  dim: number;
  /** Added to the variance. Default 1e-5 (PyTorch's). */
  epsilon: number;
}

/** Defaults of {@link LayerNormOptions}. */
export const LAYER_NORM_DEFAULTS: Readonly<LayerNormOptions> = Object.freeze({ dim: 64, epsilon: 1e-5 });

/** Validates and completes {@link LayerNormOptions}; throws on unknown keys or bad ranges. */
export function resolveLayerNormOptions(partial: Partial<LayerNormOptions> = {}): LayerNormOptions {
  const fn = 'resolveLayerNormOptions';
  rejectUnknownKeys(fn, partial, LAYER_NORM_DEFAULTS);
  const o = { ...LAYER_NORM_DEFAULTS, ...partial };
  checkInt(fn, 'dim', o.dim, 1);
  checkNumber(fn, 'epsilon', o.epsilon, 0, 1);
  return o;
}

/**
 * `y = (x − mean) / sqrt(var + epsilon) · gamma + beta` over the last axis (biased variance).
 * Weights: `gamma` `[dim]` (ones), `beta` `[dim]` (zeros).
 */
export class LayerNorm extends TransformerModule {
  /** Registered class name. */
  static readonly className = 'DiscoLayerNorm';
  /** Resolved options. */
  readonly options: LayerNormOptions;
  /** Scale, `[dim]`. */
  readonly gamma: tf.Variable;
  /** Shift, `[dim]`. */
  readonly beta: tf.Variable;

  /** Builds the layer from (partial) {@link LayerNormOptions}. */
  constructor(options: Partial<LayerNormOptions> = {}) {
    super();
    this.options = resolveLayerNormOptions(options);
    this.gamma = this.addVariable('gamma', tf.ones([this.options.dim]));
    this.beta = this.addVariable('beta', tf.zeros([this.options.dim]));
  }

  /** A copy of the resolved options. */
  getConfig(): LayerNormOptions {
    return { ...this.options };
  }

  /**
   * Normalises `x`.
   *
   * @param x `[..., dim]`
   * @returns `[..., dim]`
   */
  apply(x: tf.Tensor): tf.Tensor {
    this.assertLive('LayerNorm.apply');
    const { dim, epsilon } = this.options;
    tf.util.assert(x.rank >= 1 && x.shape[x.rank - 1] === dim, () => `LayerNorm.apply: x must have last axis ${dim} (got shape [${x.shape}])`);
    return tf.tidy(() => {
      const mean = tf.mean(x, -1, true); // [..., 1]
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), -1, true); // [..., 1]
      const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon)));
      return tf.add(tf.mul(normed, this.gamma), this.beta);
    });
  }
}
