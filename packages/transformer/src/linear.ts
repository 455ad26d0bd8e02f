/** A fully connected layer `y = x W + b` on the last axis, Xavier-uniform initialised. */
import * as tf from '@tensorflow/tfjs-core';
import { TransformerModule } from './module.js';
import { linearOp } from './internal/linear_op.js';
import { xavierUniform } from './internal/random.js';
import { checkInt, checkSeed, rejectUnknownKeys } from './internal/validate.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Input features. Default 64. */
  inputDim: number;
  /** Output features. Default 64. */
  outputDim: number;
  /** Whether to add a bias (initialised to zero). Default true. */
  bias: boolean;
  /** Seed of the Xavier-uniform kernel initialisation. Default 0. */
  seed: number;
}

/** Defaults of {@link LinearOptions}. */
export const LINEAR_DEFAULTS: Readonly<LinearOptions> = Object.freeze({ inputDim: 64, outputDim: 64, bias: true, seed: 0 });

/** Validates and completes {@link LinearOptions}; throws on unknown keys or bad ranges. */
export function resolveLinearOptions(partial: Partial<LinearOptions> = {}): LinearOptions {
  const fn = 'resolveLinearOptions';
  rejectUnknownKeys(fn, partial, LINEAR_DEFAULTS);
  const o = { ...LINEAR_DEFAULTS, ...partial };
  checkInt(fn, 'inputDim', o.inputDim, 1);
  checkInt(fn, 'outputDim', o.outputDim, 1);
  if (typeof o.bias !== 'boolean') throw new Error(`${fn}: bias must be true or false (got ${String(o.bias)})`);
  o.seed = checkSeed(fn, o.seed) ?? 0;
  return o;
}

/** Activation fused into {@link Linear.apply}. */
export type LinearActivation = 'linear' | 'relu';

/**
 * `y = act(x · kernel + bias)` over the last axis. Weights: `kernel` `[inputDim, outputDim]`
 * (Xavier uniform, bound `sqrt(6 / (inputDim + outputDim))`), `bias` `[outputDim]` (zeros).
 */
export class Linear extends TransformerModule {
  /** Registered class name (stable across versions, used in configs). */
  static readonly className = 'DiscoLinear';
  /** Resolved options. */
  readonly options: LinearOptions;
  /** `[inputDim, outputDim]` */
  readonly kernel: tf.Variable;
  /** `[outputDim]`, or null without bias. */
  readonly bias: tf.Variable | null;

  /** Builds the layer from (partial) {@link LinearOptions}. */
  constructor(options: Partial<LinearOptions> = {}) {
    super();
    this.options = resolveLinearOptions(options);
    const { inputDim, outputDim, seed } = this.options;
    this.kernel = this.addVariable('kernel', tf.tensor2d(xavierUniform(inputDim * outputDim, inputDim, outputDim, seed), [inputDim, outputDim]));
    this.bias = this.options.bias ? this.addVariable('bias', tf.zeros([outputDim])) : null;
  }

  /** A copy of the resolved options. */
  getConfig(): LinearOptions {
    return { ...this.options };
  }

  /**
   * Applies the layer.
   *
   * @param x `[..., inputDim]`
   * @param activation fused activation, default `linear`.
   * @returns `[..., outputDim]`
   */
  apply(x: tf.Tensor, activation: LinearActivation = 'linear'): tf.Tensor {
    this.assertLive('Linear.apply');
    const { inputDim, outputDim } = this.options;
    tf.util.assert(x.rank >= 1 && x.shape[x.rank - 1] === inputDim, () => `Linear.apply: x must have last axis ${inputDim} (got shape [${x.shape}])`);
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = tf.reshape(x, [-1, inputDim]); // [N, inputDim]
      const y = linearOp(x2 as tf.Tensor2D, this.kernel as tf.Tensor2D, this.bias as tf.Tensor1D | null); // [N, outputDim]
      return tf.reshape(activation === 'relu' ? tf.relu(y) : y, [...lead, outputDim]);
    });
  }
}
