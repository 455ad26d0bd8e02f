/**
 * `@disco/transformer`: the transformer blocks of DISCO's color modeler and color generator
 * (Xia et al., ACM TOG 2022, §3), usable on their own.
 *
 * - {@link scaledDotProductAttention} and {@link MultiHeadAttention}: attention with key-padding
 *   and additive masks (masked keys get exactly zero weight, fully masked rows give zeros).
 * - {@link EncoderLayer}, {@link Encoder}: DETR's post-norm encoder layers with position added to
 *   queries and keys in every layer.
 * - {@link sinePositionEncoding2D}: the 2-D sine position encoding.
 * - {@link flattenTokens} / {@link unflattenTokens}: `[B, h, w, d]` ↔ `[B, h*w, d]`.
 * - {@link encodeWeights} / {@link decodeWeights}: save and load any block's weights.
 *
 * @packageDocumentation
 */
/** Package version. */
export const VERSION = '0.1.0';

export { TransformerModule, encodeWeights, decodeWeights, type NamedWeights, type EncodedWeights } from './module.js';
export { Linear, LINEAR_DEFAULTS, resolveLinearOptions, type LinearOptions, type LinearActivation } from './linear.js';
export { LayerNorm, LAYER_NORM_DEFAULTS, resolveLayerNormOptions, type LayerNormOptions } from './layer_norm.js';
export {
  scaledDotProductAttention,
  MultiHeadAttention,
  MULTI_HEAD_ATTENTION_DEFAULTS,
  MASKED_SCORE,
  resolveMultiHeadAttentionOptions,
  type AttentionMasks,
  type AttentionResult,
  type ScaledDotProductAttentionOptions,
  type MultiHeadAttentionOptions,
  type MultiHeadAttentionCallOptions,
  type MultiHeadAttentionResult,
} from './attention.js';
export {
  EncoderLayer,
  ENCODER_LAYER_DEFAULTS,
  resolveEncoderLayerOptions,
  type EncoderLayerOptions,
  type ResolvedEncoderLayerOptions,
  type EncoderLayerCallOptions,
} from './encoder_layer.js';
export {
  Encoder,
  ENCODER_DEFAULTS,
  ENCODER_PRESETS,
  POSITION_MODES,
  resolveEncoderOptions,
  type EncoderOptions,
  type ResolvedEncoderOptions,
  type EncoderCallOptions,
  type PositionMode,
} from './encoder.js';
export {
  sinePositionEncoding2D,
  SINE_POSITION_DEFAULTS,
  resolveSinePositionOptions,
  type SinePositionOptions,
} from './position.js';
export { flattenTokens, unflattenTokens } from './tokens.js';
