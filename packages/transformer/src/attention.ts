/**
 * Scaled dot-product attention with key-padding and additive masks, and the multi-head
 * attention block built on it (as PyTorch's `nn.MultiheadAttention`, used by DETR and DISCO).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Linear } from './linear.js';
import { TransformerModule } from './module.js';
import { attentionDropoutMultiplier } from './internal/dropout.js';
import { deriveSeed, dropoutSeeds } from './internal/random.js';
import { checkInt, checkNumber, checkSeed, rejectUnknownKeys } from './internal/validate.js';

/**
 * Finite stand-in for −∞ on masked scores. `exp(score − 1e9 − max)` underflows to exactly 0 in
 * float32, so masked keys get exactly zero weight while rows stay NaN-free.
 */
export const MASKED_SCORE = -1e9;

/** Optional masks of an attention call. */
export interface AttentionMasks {
  /**
   * `[batch, keys]`, bool or 0/1 numbers: true/1 marks a key to ignore (padding). Masked keys get
   * exactly zero weight; a query whose keys are all masked gets all-zero weights and a zero output.
   */
  keyPaddingMask?: tf.Tensor | null;
  /**
   * `[queries, keys]` or `[batch | 1, heads | 1, queries, keys]`. Float: added to the scaled
   * scores (`-Infinity` entries count as masked, exactly as a key-padding mask; gradients flow to
   * the finite entries). Bool: true marks a blocked query–key pair.
   */
  attnMask?: tf.Tensor | null;
}

/** Options of {@link scaledDotProductAttention}. */
export interface ScaledDotProductAttentionOptions extends AttentionMasks {
  /** Multiplies `q·k`. Default `1 / sqrt(depth)`. */
  scale?: number;
  /** Dropout rate on the attention weights, used only when `training`. Default 0. */
  dropout?: number;
  /** Whether dropout is active. Default false. */
  training?: boolean;
  /** Seed of the dropout mask. Default: random. */
  seed?: number;
  /** Whether to return the weights. Default true. */
  returnWeights?: boolean;
}

/** Result of {@link scaledDotProductAttention}. */
export interface AttentionResult {
  /** `[batch, heads, queries, valueDepth]` */
  output: tf.Tensor4D;
  /** `[batch, heads, queries, keys]`, softmax weights before dropout (rows sum to 1, or 0 if fully masked); null unless `returnWeights`. */
  weights: tf.Tensor4D | null;
}

function maskTerms(
  fn: string,
  masks: AttentionMasks,
  b: number,
  h: number,
  t: number,
  s: number,
): { bias: tf.Tensor | null; keep: tf.Tensor | null } {
  const terms: { bias: tf.Tensor | null; keep: tf.Tensor | null } = { bias: null, keep: null };
  const combine = (bias: tf.Tensor, keep: tf.Tensor): void => {
    terms.bias = terms.bias == null ? bias : tf.add(terms.bias, bias);
    terms.keep = terms.keep == null ? keep : tf.mul(terms.keep, keep);
  };
  const kp = masks.keyPaddingMask;
  if (kp != null) {
    tf.util.assert(kp.rank === 2 && kp.shape[0] === b && kp.shape[1] === s, () => `${fn}: keyPaddingMask must have shape [${b}, ${s}] (got [${kp.shape}])`);
    const masked = tf.reshape(tf.cast(tf.notEqual(kp, 0), 'float32'), [b, 1, 1, s]); // [B, 1, 1, S]
    combine(tf.mul(masked, MASKED_SCORE), tf.sub(1, masked));
  }
  const am = masks.attnMask;
  if (am != null) {
    const ok4 = am.rank === 4 && (am.shape[0] === b || am.shape[0] === 1) && (am.shape[1] === h || am.shape[1] === 1) && am.shape[2] === t && am.shape[3] === s;
    tf.util.assert((am.rank === 2 && am.shape[0] === t && am.shape[1] === s) || ok4, () => `${fn}: attnMask must have shape [${t}, ${s}] or [${b} or 1, ${h} or 1, ${t}, ${s}] (got [${am.shape}])`);
    const am4 = am.rank === 2 ? tf.reshape(am, [1, 1, t, s]) : am; // [B|1, H|1, T, S]
    if (am4.dtype === 'bool') {
      const masked = tf.cast(am4, 'float32');
      combine(tf.mul(masked, MASKED_SCORE), tf.sub(1, masked));
    } else {
      const allowed = tf.greater(am4, -Infinity); // -Infinity (and NaN) entries are masked
      combine(tf.where(allowed, tf.cast(am4, 'float32'), MASKED_SCORE), tf.cast(allowed, 'float32'));
    }
  }
  return terms;
}

function scaledDotProductAttention_(query: tf.Tensor4D, key: tf.Tensor4D, value: tf.Tensor4D, options: ScaledDotProductAttentionOptions = {}): AttentionResult {
  const fn = 'scaledDotProductAttention';
  tf.util.assert(query.rank === 4, () => `${fn}: query must be [batch, heads, queries, depth] (got [${query.shape}])`);
  tf.util.assert(key.rank === 4, () => `${fn}: key must be [batch, heads, keys, depth] (got [${key.shape}])`);
  tf.util.assert(value.rank === 4, () => `${fn}: value must be [batch, heads, keys, valueDepth] (got [${value.shape}])`);
  const [b, h, t, dk] = query.shape;
  const s = key.shape[2];
  tf.util.assert(key.shape[0] === b && key.shape[1] === h && key.shape[3] === dk, () => `${fn}: key must have shape [${b}, ${h}, keys, ${dk}] (got [${key.shape}])`);
  tf.util.assert(value.shape[0] === b && value.shape[1] === h && value.shape[2] === s, () => `${fn}: value must have shape [${b}, ${h}, ${s}, valueDepth] (got [${value.shape}])`);
  const { scale = 1 / Math.sqrt(dk), dropout = 0, training = false, seed } = options;
  tf.util.assert(Number.isFinite(scale), () => `${fn}: scale must be finite (got ${scale})`);
  tf.util.assert(dropout >= 0 && dropout < 1, () => `${fn}: dropout must be in [0, 1) (got ${dropout})`);
  const { bias, keep } = maskTerms(fn, options, b, h, t, s);
  const returnWeights = options.returnWeights ?? true;
  let scores: tf.Tensor = tf.mul(tf.matMul(query, key, false, true), scale); // [B, H, T, S]
  if (bias != null) scores = tf.add(scores, bias);
  let weights = tf.softmax(scores) as tf.Tensor4D; // [B, H, T, S]
  if (keep != null) weights = tf.mul(weights, keep); // exact zeros, also for fully masked rows
  // The batched products are fast on every backend: on wasm, @disco/runtime registers a
  // BatchMatMul kernel that routes batched and transposed operands to XNNPACK.
  const attended = training && dropout > 0 ? tf.mul(weights, attentionDropoutMultiplier([b, h, t, s], dropout, seed)) : weights;
  const output = tf.matMul(attended, value) as tf.Tensor4D; // [B, H, T, Dv]
  return { output, weights: returnWeights ? weights : null };
}

/**
 * `softmax(q·kᵀ · scale + mask) · v` per batch and head, with masks as described in
 * {@link AttentionMasks} (Vaswani et al. 2017, eq. 1).
 *
 * @param query `[batch, heads, queries, depth]`
 * @param key `[batch, heads, keys, depth]`
 * @param value `[batch, heads, keys, valueDepth]`
 * @returns `output` `[batch, heads, queries, valueDepth]` and `weights` `[batch, heads, queries, keys]`.
 *
 * @example
 * ```ts
 * const { output, weights } = scaledDotProductAttention(q, k, v, { keyPaddingMask: pad });
 * ```
 */
export const scaledDotProductAttention = tf.op({ scaledDotProductAttention_ });

/** Options of {@link MultiHeadAttention}. */
export interface MultiHeadAttentionOptions {
  /** Model width `d` (tokens are `[batch, tokens, d]`). Must be divisible by `heads`. Default 64. */
  dModel: number;
  /** Number of heads. Default 8. */
  heads: number;
  /** Dropout rate on the attention weights (training only). Default 0.1. */
  dropout: number;
  /** Whether the four projections have biases. Default true. */
  bias: boolean;
  /** Seed of initialisation and dropout masks; null: random dropout masks, init seed 0. Default 0. */
  seed: number | null;
}

/** Defaults of {@link MultiHeadAttentionOptions} (the paper's: d = 64, 8 heads, dropout 0.1). */
export const MULTI_HEAD_ATTENTION_DEFAULTS: Readonly<MultiHeadAttentionOptions> = Object.freeze({ dModel: 64, heads: 8, dropout: 0.1, bias: true, seed: 0 });

/** Validates and completes {@link MultiHeadAttentionOptions}; throws on unknown keys or bad ranges. */
export function resolveMultiHeadAttentionOptions(partial: Partial<MultiHeadAttentionOptions> = {}): MultiHeadAttentionOptions {
  const fn = 'resolveMultiHeadAttentionOptions';
  rejectUnknownKeys(fn, partial, MULTI_HEAD_ATTENTION_DEFAULTS);
  const o = { ...MULTI_HEAD_ATTENTION_DEFAULTS, ...partial };
  checkInt(fn, 'dModel', o.dModel, 1);
  checkInt(fn, 'heads', o.heads, 1);
  if (o.dModel % o.heads !== 0) throw new Error(`${fn}: dModel must be divisible by heads (got dModel ${o.dModel}, heads ${o.heads})`);
  checkNumber(fn, 'dropout', o.dropout, 0, 1, true);
  if (typeof o.bias !== 'boolean') throw new Error(`${fn}: bias must be true or false (got ${String(o.bias)})`);
  o.seed = checkSeed(fn, o.seed);
  return o;
}

/** Per-call options of {@link MultiHeadAttention.apply}. */
export interface MultiHeadAttentionCallOptions extends AttentionMasks {
  /** Training mode: dropout active. Default false. */
  training?: boolean;
  /** Whether to return the per-head attention weights. Default false. */
  returnWeights?: boolean;
}

/** Result of {@link MultiHeadAttention.apply}. */
export interface MultiHeadAttentionResult {
  /** `[batch, queries, dModel]` */
  output: tf.Tensor3D;
  /** `[batch, heads, queries, keys]` (before dropout) when requested, else null. */
  weights: tf.Tensor4D | null;
}

/**
 * Multi-head attention: project queries, keys and values with `[d, d]` Xavier-initialised
 * kernels, split into `heads` heads of `d / heads` channels, attend
 * ({@link scaledDotProductAttention}), concatenate and project back. Weights: `query`, `key`,
 * `value`, `output` (each a {@link Linear} `d → d`).
 *
 * @example
 * ```ts
 * const mha = new MultiHeadAttention({ dModel: 64, heads: 8 });
 * const { output } = mha.apply(x, x, x, { keyPaddingMask }); // x: [B, T, 64]
 * ```
 */
export class MultiHeadAttention extends TransformerModule {
  /** Registered class name. */
  static readonly className = 'DiscoMultiHeadAttention';
  /** Resolved options. */
  readonly options: MultiHeadAttentionOptions;
  /** Query projection `d → d`. */
  readonly query: Linear;
  /** Key projection `d → d`. */
  readonly key: Linear;
  /** Value projection `d → d`. */
  readonly value: Linear;
  /** Output projection `d → d`. */
  readonly output: Linear;
  private nextDropoutSeed: () => number | undefined;

  /** Builds the block from (partial) {@link MultiHeadAttentionOptions}. */
  constructor(options: Partial<MultiHeadAttentionOptions> = {}) {
    super();
    this.options = resolveMultiHeadAttentionOptions(options);
    const { dModel: d, bias } = this.options;
    const seed = this.options.seed ?? 0;
    const lin = (name: string): Linear => this.addChild(name, new Linear({ inputDim: d, outputDim: d, bias, seed: deriveSeed(seed, name) }));
    this.query = lin('query');
    this.key = lin('key');
    this.value = lin('value');
    this.output = lin('output');
    this.nextDropoutSeed = dropoutSeeds(this.options.seed);
  }

  /** A copy of the resolved options. */
  getConfig(): MultiHeadAttentionOptions {
    return { ...this.options };
  }

  /**
   * Restarts the dropout-mask stream from `seed` (same seed, same masks from here on), e.g. once
   * per training step so that a resumed run reproduces an uninterrupted one.
   */
  reseedDropout(seed: number): void {
    this.nextDropoutSeed = dropoutSeeds(seed);
  }

  /**
   * Attends from `query` tokens to `key`/`value` tokens (self-attention: pass the same tensor,
   * or `x + pos` as query and key and `x` as value, as DETR does).
   *
   * @param query `[batch, queries, dModel]`
   * @param key `[batch, keys, dModel]`
   * @param value `[batch, keys, dModel]`
   * @param options masks (`keyPaddingMask` `[batch, keys]`, `attnMask` `[queries, keys]` or
   *   `[batch, heads, queries, keys]`), `training`, `returnWeights`.
   */
  apply(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, options: MultiHeadAttentionCallOptions = {}): MultiHeadAttentionResult {
    const fn = 'MultiHeadAttention.apply';
    this.assertLive(fn);
    const { dModel: d, heads: h, dropout } = this.options;
    tf.util.assert(query.rank === 3 && query.shape[2] === d, () => `${fn}: query must be [batch, queries, ${d}] (got [${query.shape}])`);
    tf.util.assert(key.rank === 3 && key.shape[2] === d && key.shape[0] === query.shape[0], () => `${fn}: key must be [${query.shape[0]}, keys, ${d}] (got [${key.shape}])`);
    tf.util.assert(value.rank === 3 && tf.util.arraysEqual(value.shape, key.shape), () => `${fn}: value must have the key's shape [${key.shape}] (got [${value.shape}])`);
    const [b, t] = query.shape as [number, number, number];
    const s = key.shape[1]!;
    const dh = d / h;
    const training = options.training ?? false;
    const seed = training && dropout > 0 ? this.nextDropoutSeed() : undefined;
    const [output, weights] = tf.tidy((): tf.Tensor[] => {
      const split = (x: tf.Tensor, n: number): tf.Tensor4D => tf.transpose(tf.reshape(x, [b, n, h, dh]), [0, 2, 1, 3]); // [B, H, n, dh]
      const q = split(this.query.apply(query), t);
      const k = split(this.key.apply(key), s);
      const v = split(this.value.apply(value), s);
      const r = scaledDotProductAttention(q, k, v, {
        returnWeights: options.returnWeights ?? false,
        keyPaddingMask: options.keyPaddingMask ?? null,
        attnMask: options.attnMask ?? null,
        dropout,
        training,
        ...(seed === undefined ? {} : { seed }),
      });
      const merged = tf.reshape(tf.transpose(r.output, [0, 2, 1, 3]), [b, t, d]); // [B, T, d]
      const out = this.output.apply(merged); // [B, T, d]
      return r.weights != null ? [out, r.weights] : [out];
    });
    return { output: output as tf.Tensor3D, weights: (weights as tf.Tensor4D | undefined) ?? null };
  }
}
