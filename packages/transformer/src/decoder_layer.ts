/** DETR's post-norm transformer decoder layer: self-attention, cross-attention, FFN. */
import * as tf from '@tensorflow/tfjs-core';
import { MultiHeadAttention } from './attention.js';
import { checkPos, ENCODER_LAYER_DEFAULTS, resolveEncoderLayerOptions, type EncoderLayerOptions, type ResolvedEncoderLayerOptions } from './encoder_layer.js';
import { LayerNorm } from './layer_norm.js';
import { Linear } from './linear.js';
import { TransformerModule } from './module.js';
import { maybeDropout } from './internal/dropout.js';
import { deriveSeed, dropoutSeeds } from './internal/random.js';

/** Options of {@link DecoderLayer}: the same fields as {@link EncoderLayerOptions}. */
export type DecoderLayerOptions = EncoderLayerOptions;

/** Defaults of {@link DecoderLayerOptions} (same as the encoder layer's). */
export const DECODER_LAYER_DEFAULTS: Readonly<DecoderLayerOptions> = ENCODER_LAYER_DEFAULTS;

/** Validates and completes {@link DecoderLayerOptions}; throws on unknown keys or bad ranges. */
export function resolveDecoderLayerOptions(partial: Partial<DecoderLayerOptions> = {}): ResolvedEncoderLayerOptions {
  return resolveEncoderLayerOptions(partial, 'resolveDecoderLayerOptions');
}

/** Per-call options of {@link DecoderLayer.apply}. */
export interface DecoderLayerCallOptions {
  /** Query position `[batch | 1, queries, dModel]`, added to the self-attention q, k and the cross-attention q. */
  queryPos?: tf.Tensor | null;
  /** Memory position `[batch | 1, memoryTokens, dModel]`, added to the cross-attention keys. */
  pos?: tf.Tensor | null;
  /** Self-attention mask `[queries, queries]` or `[batch, heads, queries, queries]` (see {@link AttentionMasks}). */
  tgtMask?: tf.Tensor | null;
  /** Cross-attention mask `[queries, memoryTokens]` or `[batch, heads, queries, memoryTokens]`. */
  memoryMask?: tf.Tensor | null;
  /** `[batch, queries]`, true/1 = padded query token (ignored as a self-attention key). */
  tgtKeyPaddingMask?: tf.Tensor | null;
  /** `[batch, memoryTokens]`, true/1 = padded memory token. */
  memoryKeyPaddingMask?: tf.Tensor | null;
  /** Training mode: dropout active. Default false. */
  training?: boolean;
}

/**
 * One post-norm decoder layer, exactly DETR's `TransformerDecoderLayer.forward_post`:
 *
 * ```text
 * t = LN1(t + Drop(SelfMHA(q = k = t + queryPos, v = t)))
 * t = LN2(t + Drop(CrossMHA(q = t + queryPos, k = memory + pos, v = memory)))
 * t = LN3(t + Drop(Linear2(Drop(ReLU(Linear1(t))))))
 * ```
 *
 * Weights: `selfAttn`, `crossAttn`, `linear1`, `linear2`, `norm1`, `norm2`, `norm3`.
 */
export class DecoderLayer extends TransformerModule {
  /** Registered class name. */
  static readonly className = 'DiscoDecoderLayer';
  /** Resolved options. */
  readonly options: ResolvedEncoderLayerOptions;
  /** Self-attention over the queries. */
  readonly selfAttn: MultiHeadAttention;
  /** Cross-attention from the queries to the memory. */
  readonly crossAttn: MultiHeadAttention;
  /** FFN input projection `d → dff`. */
  readonly linear1: Linear;
  /** FFN output projection `dff → d`. */
  readonly linear2: Linear;
  /** Norm after self-attention. */
  readonly norm1: LayerNorm;
  /** Norm after cross-attention. */
  readonly norm2: LayerNorm;
  /** Norm after the FFN. */
  readonly norm3: LayerNorm;
  private nextDropoutSeed: () => number | undefined;

  /** Builds the layer from (partial) {@link DecoderLayerOptions}. */
  constructor(options: Partial<DecoderLayerOptions> = {}) {
    super();
    this.options = resolveDecoderLayerOptions(options);
    const { dModel, heads, dff, dropout, layerNormEpsilon, seed } = this.options;
    const s = seed ?? 0;
    const childSeed = (name: string): number | null => (seed == null ? null : deriveSeed(s, name));
    this.selfAttn = this.addChild('selfAttn', new MultiHeadAttention({ dModel, heads, dropout, seed: childSeed('selfAttn') }));
    this.crossAttn = this.addChild('crossAttn', new MultiHeadAttention({ dModel, heads, dropout, seed: childSeed('crossAttn') }));
    this.linear1 = this.addChild('linear1', new Linear({ inputDim: dModel, outputDim: dff, seed: deriveSeed(s, 'linear1') }));
    this.linear2 = this.addChild('linear2', new Linear({ inputDim: dff, outputDim: dModel, seed: deriveSeed(s, 'linear2') }));
    this.norm1 = this.addChild('norm1', new LayerNorm({ dim: dModel, epsilon: layerNormEpsilon }));
    this.norm2 = this.addChild('norm2', new LayerNorm({ dim: dModel, epsilon: layerNormEpsilon }));
    this.norm3 = this.addChild('norm3', new LayerNorm({ dim: dModel, epsilon: layerNormEpsilon }));
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
    this.crossAttn.reseedDropout(deriveSeed(seed, 'crossAttn'));
  }

  /**
   * Runs the layer.
   *
   * @param tgt queries `[batch, queries, dModel]`
   * @param memory encoder output `[batch, memoryTokens, dModel]`
   * @param options positions, masks and `training` (see {@link DecoderLayerCallOptions}).
   * @returns `[batch, queries, dModel]`
   */
  apply(tgt: tf.Tensor, memory: tf.Tensor, options: DecoderLayerCallOptions = {}): tf.Tensor3D {
    const fn = 'DecoderLayer.apply';
    this.assertLive(fn);
    const d = this.options.dModel;
    tf.util.assert(tgt.rank === 3 && tgt.shape[2] === d, () => `${fn}: tgt must be [batch, queries, ${d}] (got [${tgt.shape}])`);
    tf.util.assert(memory.rank === 3 && memory.shape[2] === d && memory.shape[0] === tgt.shape[0], () => `${fn}: memory must be [${tgt.shape[0]}, memoryTokens, ${d}] (got [${memory.shape}])`);
    checkPos(fn, 'queryPos', options.queryPos, tgt);
    checkPos(fn, 'pos', options.pos, memory);
    const training = options.training ?? false;
    const rate = this.options.dropout;
    // Seeds are drawn only when dropout is active, so eval calls do not shift the stream.
    const seeds = training && rate > 0 ? Array.from({ length: 4 }, () => this.nextDropoutSeed()) : [];
    return tf.tidy(() => {
      const withPos = (x: tf.Tensor, p: tf.Tensor | null | undefined): tf.Tensor => (p != null ? tf.add(x, p) : x);
      const qk = withPos(tgt, options.queryPos);
      const sa = this.selfAttn.apply(qk, qk, tgt, { keyPaddingMask: options.tgtKeyPaddingMask ?? null, attnMask: options.tgtMask ?? null, training }).output;
      let t = this.norm1.apply(tf.add(tgt, maybeDropout(sa, rate, training, seeds[0])));
      const ca = this.crossAttn.apply(withPos(t, options.queryPos), withPos(memory, options.pos), memory, {
        keyPaddingMask: options.memoryKeyPaddingMask ?? null,
        attnMask: options.memoryMask ?? null,
        training,
      }).output;
      t = this.norm2.apply(tf.add(t, maybeDropout(ca, rate, training, seeds[1])));
      const hidden = maybeDropout(this.linear1.apply(t, 'relu'), rate, training, seeds[2]);
      const ffn = this.linear2.apply(hidden);
      return this.norm3.apply(tf.add(t, maybeDropout(ffn, rate, training, seeds[3]))) as tf.Tensor3D;
    });
  }
}
