/** DETR's post-norm transformer encoder layer with position added to queries and keys. */
import * as tf from '@tensorflow/tfjs-core';
import { MultiHeadAttention, type AttentionMasks } from './attention.js';
import { LayerNorm } from './layer_norm.js';
import { Linear } from './linear.js';
import { TransformerModule } from './module.js';
import { maybeDropout } from './internal/dropout.js';
import { deriveSeed, dropoutSeeds } from './internal/random.js';
import { checkInt, checkNumber, checkSeed, rejectUnknownKeys } from './internal/validate.js';

/** Options of {@link EncoderLayer}. */
export interface EncoderLayerOptions {
  /** Model width `d`. Default 64. */
  dModel: number;
  /** Attention heads; must divide `dModel`. Default 8. */
  heads: number;
  /** Hidden width of the feed-forward block; null means `4 · dModel`. Default null (256 at d = 64). */
  dff: number | null;
  /** Dropout rate (attention weights, residual branches, FFN hidden), training only. Default 0.1. */
  dropout: number;
  /** Layer-norm epsilon. Default 1e-5. */
  layerNormEpsilon: number;
  /** Seed of initialisation and dropout masks; null: random dropout masks, init seed 0. Default 0. */
  seed: number | null;
}

/** {@link EncoderLayerOptions} after resolution: `dff` is a number. */
export interface ResolvedEncoderLayerOptions extends EncoderLayerOptions {
  /** Hidden width of the feed-forward block. */
  dff: number;
}

/** Defaults of {@link EncoderLayerOptions} (the paper's: d = 64, 8 heads, FFN 256, dropout 0.1). */
export const ENCODER_LAYER_DEFAULTS: Readonly<EncoderLayerOptions> = Object.freeze({ dModel: 64, heads: 8, dff: null, dropout: 0.1, layerNormEpsilon: 1e-5, seed: 0 });

/** Validates and completes {@link EncoderLayerOptions}; throws on unknown keys or bad ranges. */
export function resolveEncoderLayerOptions(partial: Partial<EncoderLayerOptions> = {}, fn = 'resolveEncoderLayerOptions'): ResolvedEncoderLayerOptions {
  rejectUnknownKeys(fn, partial, ENCODER_LAYER_DEFAULTS);
  const o = { ...ENCODER_LAYER_DEFAULTS, ...partial };
  checkInt(fn, 'dModel', o.dModel, 1);
  checkInt(fn, 'heads', o.heads, 1);
  if (o.dModel % o.heads !== 0) throw new Error(`${fn}: dModel must be divisible by heads (got dModel ${o.dModel}, heads ${o.heads})`);
  const dff = o.dff === null ? 4 * o.dModel : checkInt(fn, 'dff', o.dff, 1);
  checkNumber(fn, 'dropout', o.dropout, 0, 1, true);
  checkNumber(fn, 'layerNormEpsilon', o.layerNormEpsilon, 0, 1);
  return { ...o, dff, seed: checkSeed(fn, o.seed) };
}

/** Per-call options of {@link EncoderLayer.apply}. */
export interface EncoderLayerCallOptions extends AttentionMasks {
  /** Position encoding `[batch | 1, tokens, dModel]`, added to queries and keys (not values). Default none. */
  pos?: tf.Tensor | null;
  /** Training mode: dropout active. Default false. */
  training?: boolean;
}

/** Checks a position tensor against tokens `[b, t, d]`. */
export function checkPos(fn: string, name: string, pos: tf.Tensor | null | undefined, x: tf.Tensor): void {
  if (pos == null) return;
  const [b, t, d] = x.shape;
  tf.util.assert(pos.rank === 3 && (pos.shape[0] === b || pos.shape[0] === 1) && pos.shape[1] === t && pos.shape[2] === d, () => `${fn}: ${name} must have shape [${b} or 1, ${t}, ${d}] (got [${pos.shape}])`);
}

/**
 * One post-norm encoder layer, exactly DETR's `TransformerEncoderLayer.forward_post`:
 *
 * ```text
 * x = LN1(x + Drop(MHA(q = k = x + pos, v = x)))
 * x = LN2(x + Drop(Linear2(Drop(ReLU(Linear1(x))))))
 * ```
 *
 * Weights: `selfAttn` ({@link MultiHeadAttention}), `linear1` (`d → dff`), `linear2`
 * (`dff → d`), `norm1`, `norm2` ({@link LayerNorm}).
 */
export class EncoderLayer extends TransformerModule {
  /** Registered class name. */
  static readonly className = 'DiscoEncoderLayer';
  /** Resolved options. */
  readonly options: ResolvedEncoderLayerOptions;
  /** Self-attention. */
  readonly selfAttn: MultiHeadAttention;
  /** FFN input projection `d → dff`. */
  readonly linear1: Linear;
  /** FFN output projection `dff → d`. */
  readonly linear2: Linear;
  /** Norm after attention. */
  readonly norm1: LayerNorm;
  /** Norm after the FFN. */
  readonly norm2: LayerNorm;
  private nextDropoutSeed: () => number | undefined;

  /** Builds the layer from (partial) {@link EncoderLayerOptions}. */
  constructor(options: Partial<EncoderLayerOptions> = {}) {
    super();
    this.options = resolveEncoderLayerOptions(options);
    const { dModel, heads, dff, dropout, layerNormEpsilon, seed } = this.options;
    const s = seed ?? 0;
    const childSeed = (name: string): number | null => (seed == null ? null : deriveSeed(s, name));
    this.selfAttn = this.addChild('selfAttn', new MultiHeadAttention({ dModel, heads, dropout, seed: childSeed('selfAttn') }));
    this.linear1 = this.addChild('linear1', new Linear({ inputDim: dModel, outputDim: dff, seed: deriveSeed(s, 'linear1') }));
    this.linear2 = this.addChild('linear2', new Linear({ inputDim: dff, outputDim: dModel, seed: deriveSeed(s, 'linear2') }));
    this.norm1 = this.addChild('norm1', new LayerNorm({ dim: dModel, epsilon: layerNormEpsilon }));
    this.norm2 = this.addChild('norm2', new LayerNorm({ dim: dModel, epsilon: layerNormEpsilon }));
    this.nextDropoutSeed = dropoutSeeds(seed);
  }

  /** A copy of the resolved options. */
  getConfig(): ResolvedEncoderLayerOptions {
    return { ...this.options };
  }

  /** Restarts this layer's dropout streams (and its attention blocks') from `seed`. */
  reseedDropout(seed: number): void {
    this.nextDropoutSeed = dropoutSeeds(seed);
    this.selfAttn.reseedDropout(deriveSeed(seed, 'selfAttn'));
  }

  /**
   * Runs the layer.
   *
   * @param x tokens `[batch, tokens, dModel]`
   * @param options `pos` `[batch | 1, tokens, dModel]`, masks (`keyPaddingMask` `[batch, tokens]`,
   *   `attnMask` `[tokens, tokens]` or `[batch, heads, tokens, tokens]`), `training`.
   * @returns `[batch, tokens, dModel]`
   */
  apply(x: tf.Tensor, options: EncoderLayerCallOptions = {}): tf.Tensor3D {
    const fn = 'EncoderLayer.apply';
    this.assertLive(fn);
    const d = this.options.dModel;
    tf.util.assert(x.rank === 3 && x.shape[2] === d, () => `${fn}: x must be [batch, tokens, ${d}] (got [${x.shape}])`);
    checkPos(fn, 'pos', options.pos, x);
    const training = options.training ?? false;
    const rate = this.options.dropout;
    // Seeds are drawn only when dropout is active, so eval calls do not shift the stream.
    const seeds = training && rate > 0 ? Array.from({ length: 3 }, () => this.nextDropoutSeed()) : [];
    return tf.tidy(() => {
      const qk = options.pos != null ? tf.add(x, options.pos) : x;
      const attn = this.selfAttn.apply(qk, qk, x, { keyPaddingMask: options.keyPaddingMask ?? null, attnMask: options.attnMask ?? null, training }).output;
      const h = this.norm1.apply(tf.add(x, maybeDropout(attn, rate, training, seeds[0])));
      const hidden = maybeDropout(this.linear1.apply(h, 'relu'), rate, training, seeds[1]);
      const ffn = this.linear2.apply(hidden);
      return this.norm2.apply(tf.add(h, maybeDropout(ffn, rate, training, seeds[2]))) as tf.Tensor3D;
    });
  }
}
