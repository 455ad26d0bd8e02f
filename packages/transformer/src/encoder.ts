/** A stack of N post-norm encoder layers with independent weights (DETR's `TransformerEncoder`). */
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionMasks } from './attention.js';
import { checkPos, EncoderLayer, ENCODER_LAYER_DEFAULTS, resolveEncoderLayerOptions, type EncoderLayerOptions, type ResolvedEncoderLayerOptions } from './encoder_layer.js';
import { TransformerModule } from './module.js';
import { deriveSeed } from './internal/random.js';
import { checkChoice, checkInt, rejectUnknownKeys } from './internal/validate.js';

/** Where the position encoding enters: every layer's queries and keys, or once at the input. */
export type PositionMode = 'dense' | 'input';

/** Valid {@link PositionMode}s. */
export const POSITION_MODES: readonly PositionMode[] = Object.freeze(['dense', 'input']);

/** Options of {@link Encoder}: those of each layer plus the depth and position mode. */
export interface EncoderOptions extends EncoderLayerOptions {
  /** Number of layers. Default 6. */
  layers: number;
  /**
   * `dense`: `pos` is added to queries and keys in every layer (DETR, DISCO).
   * `input`: `x + pos` once before the first layer (original Transformer). Default `dense`.
   */
  positionMode: PositionMode;
}

/** {@link EncoderOptions} after resolution. */
export interface ResolvedEncoderOptions extends ResolvedEncoderLayerOptions {
  /** Number of layers. */
  layers: number;
  /** Where the position encoding enters. */
  positionMode: PositionMode;
}

/** Defaults of {@link EncoderOptions} (the paper's encoder: 6 layers, d = 64, 8 heads, FFN 256, dropout 0.1, dense). */
export const ENCODER_DEFAULTS: Readonly<EncoderOptions> = Object.freeze({ ...ENCODER_LAYER_DEFAULTS, layers: 6, positionMode: 'dense' as PositionMode });

/** Validates and completes {@link EncoderOptions}; throws on unknown keys or bad ranges. */
export function resolveEncoderOptions(partial: Partial<EncoderOptions> = {}): ResolvedEncoderOptions {
  const fn = 'resolveEncoderOptions';
  rejectUnknownKeys(fn, partial, ENCODER_DEFAULTS);
  const { layers = ENCODER_DEFAULTS.layers, positionMode = ENCODER_DEFAULTS.positionMode, ...layer } = partial;
  checkInt(fn, 'layers', layers, 1, 64);
  checkChoice(fn, 'positionMode', positionMode, POSITION_MODES);
  return { ...resolveEncoderLayerOptions(layer, fn), layers, positionMode };
}

/** Named configurations of {@link Encoder}. */
export const ENCODER_PRESETS: Readonly<Record<'paper' | 'tiny', Readonly<Partial<EncoderOptions>>>> = Object.freeze({
  /** DISCO's color modeler / generator encoder: 6 layers, d = 64, 8 heads, FFN 256, dropout 0.1. */
  paper: Object.freeze({ layers: 6, dModel: 64, heads: 8, dff: 256, dropout: 0.1, positionMode: 'dense' as PositionMode }),
  /** The encoders of the `tiny` DISCO model (64², S = 8): 2 layers, d = 32, 4 heads, FFN 128, dropout 0.1. */
  tiny: Object.freeze({ layers: 2, dModel: 32, heads: 4, dff: 128, dropout: 0.1, positionMode: 'dense' as PositionMode }),
});

/** Per-call options of {@link Encoder.apply}. */
export interface EncoderCallOptions extends AttentionMasks {
  /** Position encoding `[batch | 1, tokens, dModel]`. Default none. */
  pos?: tf.Tensor | null;
  /** Training mode: dropout active. Default false. */
  training?: boolean;
}

/**
 * N independent {@link EncoderLayer}s applied in turn (post-norm, so no final norm). Weights:
 * `layers.0.…` to `layers.{N-1}.…`.
 *
 * @example
 * ```ts
 * const enc = new Encoder(ENCODER_PRESETS.paper);
 * const pos = flattenTokens(sinePositionEncoding2D(16, 16, { channels: 64 })); // [1, 256, 64]
 * const y = enc.apply(tokens, { pos, training: true }); // tokens: [B, 256, 64]
 * ```
 */
export class Encoder extends TransformerModule {
  /** Registered class name. */
  static readonly className = 'DiscoEncoder';
  /** Resolved options. */
  readonly options: ResolvedEncoderOptions;
  /** The layers, first to last. */
  readonly layers: readonly EncoderLayer[];

  /** Builds the stack from (partial) {@link EncoderOptions}. */
  constructor(options: Partial<EncoderOptions> = {}) {
    super();
    this.options = resolveEncoderOptions(options);
    const { layers, positionMode: _mode, seed, ...layerOptions } = this.options;
    const list: EncoderLayer[] = [];
    for (let i = 0; i < layers; i++) {
      list.push(this.addChild(`layers.${i}`, new EncoderLayer({ ...layerOptions, seed: seed == null ? null : deriveSeed(seed, `layers.${i}`) })));
    }
    this.layers = list;
  }

  /** A copy of the resolved options. */
  getConfig(): ResolvedEncoderOptions {
    return { ...this.options };
  }

  /**
   * Restarts every layer's dropout streams from `seed` (layer i uses a seed derived from `seed`
   * and i). Call it once per training step to make masks a function of (seed, step) only.
   */
  reseedDropout(seed: number): void {
    this.layers.forEach((layer, i) => layer.reseedDropout(deriveSeed(seed, `layers.${i}`)));
  }

  /**
   * Runs every layer.
   *
   * @param x tokens `[batch, tokens, dModel]`
   * @param options `pos` `[batch | 1, tokens, dModel]`, masks (`keyPaddingMask` `[batch, tokens]`,
   *   `attnMask` `[tokens, tokens]` or `[batch, heads, tokens, tokens]`), `training`.
   * @returns `[batch, tokens, dModel]`
   */
  apply(x: tf.Tensor, options: EncoderCallOptions = {}): tf.Tensor3D {
    const fn = 'Encoder.apply';
    this.assertLive(fn);
    const d = this.options.dModel;
    tf.util.assert(x.rank === 3 && x.shape[2] === d, () => `${fn}: x must be [batch, tokens, ${d}] (got [${x.shape}])`);
    checkPos(fn, 'pos', options.pos, x);
    return tf.tidy(() => {
      const dense = this.options.positionMode === 'dense';
      let h: tf.Tensor3D = (!dense && options.pos != null ? tf.add(x, options.pos) : x) as tf.Tensor3D;
      const layerOptions = { keyPaddingMask: options.keyPaddingMask ?? null, attnMask: options.attnMask ?? null, training: options.training ?? false, pos: dense ? (options.pos ?? null) : null };
      for (const layer of this.layers) h = layer.apply(h, layerOptions);
      return h;
    });
  }
}
