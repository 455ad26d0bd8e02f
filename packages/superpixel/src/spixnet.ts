import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * Architecture of {@link SpixNet}, a SpixelFCN-style encoder-decoder (Yang et al., CVPR 2020, as
 * used by Xia et al. 2022, §3.1) ending in a 9-way softmax over the neighbouring grid cells.
 * Every field has a default in {@link SPIXNET_DEFAULTS} (the `paper` preset).
 */
export interface SpixNetConfig {
  /** Channels per encoder level, full resolution first; level i > 0 halves the resolution. Default `[16, 32, 64, 128, 256]`. */
  widths: readonly number[];
  /** Negative slope of every LeakyReLU. Default 0.1. */
  leakyAlpha: number;
  /** Momentum of the batch-norm moving statistics. Default 0.9. */
  bnMomentum: number;
  /** Seed of the weight initialisers (same seed, same initial weights). Default 0. */
  seed: number;
  /**
   * How the stride-2 3×3 convolutions pad. `symmetric`: one row and column of zeros on every side,
   * as PyTorch's `padding=1` in the published SpixelNet (an even side 2m gives m outputs centred on
   * rows 0, 2, 4, …). `same`: tfjs' `'same'`, which pads only the bottom and right for stride 2
   * (the networks trained here before this option existed). Stride-1 convolutions pad 1 on every
   * side either way. Default `symmetric` (`paper`); the `tiny` preset and SpixNets saved without
   * this field use `same`.
   */
  padding: 'symmetric' | 'same';
}

/** The `paper` configuration: widths 16-32-64-128-256, LeakyReLU 0.1. */
export const SPIXNET_DEFAULTS: Readonly<SpixNetConfig> = Object.freeze({
  widths: Object.freeze([16, 32, 64, 128, 256]),
  leakyAlpha: 0.1,
  bnMomentum: 0.9,
  seed: 0,
  padding: 'symmetric',
});

/** Named presets: `paper` (widths 16-32-64-128-256) and `tiny` (narrow, for tests and quick runs). */
export const SPIXNET_PRESETS: Readonly<Record<'paper' | 'tiny', Readonly<SpixNetConfig>>> = Object.freeze({
  paper: SPIXNET_DEFAULTS,
  tiny: Object.freeze({ ...SPIXNET_DEFAULTS, widths: Object.freeze([4, 8, 8, 16, 16]), padding: 'same' as const }),
});

/** Name of a {@link SPIXNET_PRESETS} entry. */
export type SpixNetPreset = keyof typeof SPIXNET_PRESETS;

const KEYS = Object.keys(SPIXNET_DEFAULTS) as Array<keyof SpixNetConfig>;

/**
 * Completes and validates a partial {@link SpixNetConfig} (pure: copies, never mutates).
 * Starts from `preset` (default `paper`); throws one line naming the bad key and the valid range.
 */
export function resolveSpixNetConfig(partial: Partial<SpixNetConfig> = {}, preset: SpixNetPreset = 'paper'): SpixNetConfig {
  if (!(preset in SPIXNET_PRESETS)) throw new Error(`resolveSpixNetConfig: unknown preset '${String(preset)}'; valid: ${Object.keys(SPIXNET_PRESETS).join(', ')}`);
  for (const key of Object.keys(partial)) {
    if (!(KEYS as string[]).includes(key)) throw new Error(`resolveSpixNetConfig: unknown option '${key}'; valid: ${KEYS.join(', ')}`);
  }
  const base = SPIXNET_PRESETS[preset];
  const c: SpixNetConfig = {
    widths: [...(partial.widths ?? base.widths)],
    leakyAlpha: partial.leakyAlpha ?? base.leakyAlpha,
    bnMomentum: partial.bnMomentum ?? base.bnMomentum,
    seed: partial.seed ?? base.seed,
    padding: partial.padding ?? base.padding,
  };
  if (c.widths.length < 2 || !c.widths.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`resolveSpixNetConfig: widths must be at least 2 positive integers; got [${c.widths}]`);
  }
  if (!(c.leakyAlpha >= 0 && c.leakyAlpha < 1)) throw new Error(`resolveSpixNetConfig: leakyAlpha must be in [0, 1); got ${c.leakyAlpha}`);
  if (!(c.bnMomentum >= 0 && c.bnMomentum < 1)) throw new Error(`resolveSpixNetConfig: bnMomentum must be in [0, 1); got ${c.bnMomentum}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new Error(`resolveSpixNetConfig: seed must be a non-negative integer; got ${c.seed}`);
  if (c.padding !== 'symmetric' && c.padding !== 'same') throw new Error(`resolveSpixNetConfig: padding must be 'symmetric' or 'same'; got ${String(c.padding)}`);
  return c;
}

/** Key of the config in the saved model's user-defined metadata. */
const METADATA_KEY = 'disco.spixnet';

/** Builds the functional tfjs-layers graph of the SPixNet plan. */
function buildModel(c: SpixNetConfig): tfl.LayersModel {
  // +1: tfjs treats a seed of 0 as "no seed" (random), which made seed 0 irreproducible.
  let seed = c.seed * 1000 + 1;
  const init = () => tfl.initializers.heNormal({ seed: seed++ });
  const conv = (x: tfl.SymbolicTensor, filters: number, strides: number, name: string): tfl.SymbolicTensor => {
    // Symmetric padding for stride 2: pad 1 everywhere, then a 'valid' convolution (same weights and names).
    const padded = strides === 2 && c.padding === 'symmetric';
    const input = padded ? (tfl.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: `${name}_pad` }).apply(x) as tfl.SymbolicTensor) : x;
    const y = tfl.layers.conv2d({ filters, kernelSize: 3, strides, padding: padded ? 'valid' : 'same', useBias: false, kernelInitializer: init(), name: `${name}_conv` }).apply(input);
    const n = tfl.layers.batchNormalization({ momentum: c.bnMomentum, epsilon: 1e-5, name: `${name}_bn` }).apply(y);
    return tfl.layers.leakyReLU({ alpha: c.leakyAlpha, name: `${name}_act` }).apply(n) as tfl.SymbolicTensor;
  };
  const input = tfl.input({ shape: [null, null, 1], name: 'L' });
  // Encoder: level 0 at full resolution, each further level halves it (two conv blocks per level).
  const skips: tfl.SymbolicTensor[] = [];
  let x: tfl.SymbolicTensor = input;
  c.widths.forEach((width, i) => {
    x = conv(x, width, i === 0 ? 1 : 2, `enc${i}a`);
    x = conv(x, width, 1, `enc${i}b`);
    skips.push(x);
  });
  // Decoder: transposed conv ×2, concat with the encoder skip of that level, conv block.
  for (let i = c.widths.length - 2; i >= 0; i--) {
    const up = tfl.layers.conv2dTranspose({ filters: c.widths[i]!, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init(), name: `dec${i}_up` }).apply(x) as tfl.SymbolicTensor;
    const act = tfl.layers.leakyReLU({ alpha: c.leakyAlpha, name: `dec${i}_up_act` }).apply(up) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate({ axis: -1, name: `dec${i}_cat` }).apply([skips[i]!, act]) as tfl.SymbolicTensor;
    x = conv(cat, c.widths[i]!, 1, `dec${i}`);
  }
  const logits = tfl.layers.conv2d({ filters: 9, kernelSize: 3, padding: 'same', kernelInitializer: init(), name: 'assoc_logits' }).apply(x);
  const assoc = tfl.layers.softmax({ axis: -1, name: 'association' }).apply(logits) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: assoc, name: 'spixnet' });
}

/**
 * SPixNet (DISCO §3.1): predicts each pixel's soft association with the 9 superpixels around its
 * grid cell from the L channel. Owns a tfjs-layers model; call {@link SpixNet.dispose} when done.
 *
 * @example
 * ```ts
 * const net = SpixNet.create({}, 'tiny');
 * const a = net.predict(L); // [B, H, W, 9], H and W multiples of 16
 * ```
 */
export class SpixNet {
  /** The resolved architecture. */
  readonly config: Readonly<SpixNetConfig>;
  /** The underlying tfjs-layers model (input `[B, H, W, 1]`, output `[B, H, W, 9]`). */
  readonly model: tfl.LayersModel;

  private constructor(config: SpixNetConfig, model: tfl.LayersModel) {
    this.config = Object.freeze({ ...config, widths: Object.freeze([...config.widths]) });
    this.model = model;
  }

  /** A freshly initialised network from a preset and overrides (see {@link resolveSpixNetConfig}). */
  static create(partial: Partial<SpixNetConfig> = {}, preset: SpixNetPreset = 'paper'): SpixNet {
    const config = resolveSpixNetConfig(partial, preset);
    return new SpixNet(config, buildModel(config));
  }

  /** Height and width must be multiples of this (`2^(levels-1)`). */
  get stride(): number {
    return 2 ** (this.config.widths.length - 1);
  }

  /**
   * The association of each pixel with its 9 neighbouring superpixels.
   *
   * @param L Lightness `[batch, height, width, 1]` as `(L-50)/50` (any `tf.Tensor`; the rank is checked at run time); height and width multiples of {@link SpixNet.stride}.
   * @param training Batch-norm in training mode (batch statistics, moving averages updated). Default false.
   * @returns Softmax association `[batch, height, width, 9]`.
   */
  predict(L: tf.Tensor, training = false): tf.Tensor4D {
    tf.util.assert(L instanceof tf.Tensor && L.rank === 4 && L.shape[3] === 1, () => `SpixNet.predict: L must have shape [batch, height, width, 1]; got [${L?.shape}]`);
    tf.util.assert(L.shape[1]! % this.stride === 0 && L.shape[2]! % this.stride === 0, () => `SpixNet.predict: L height and width must be multiples of ${this.stride}; got [${L.shape}]`);
    return this.model.apply(L, { training }) as tf.Tensor4D;
  }

  /** Saves topology, weights and config through a tfjs `io` handler (files, memory, IndexedDB…). */
  async save(handler: tf.io.IOHandler): Promise<tf.io.SaveResult> {
    this.model.setUserDefinedMetadata({ [METADATA_KEY]: { ...this.config, widths: [...this.config.widths] } });
    return this.model.save(handler);
  }

  /** Loads a network written by {@link SpixNet.save}. */
  static async load(handler: tf.io.IOHandler): Promise<SpixNet> {
    const model = await tfl.loadLayersModel(handler);
    const meta = model.getUserDefinedMetadata() as Record<string, Partial<SpixNetConfig>> | undefined;
    const saved = meta?.[METADATA_KEY];
    if (saved == null) {
      model.dispose();
      throw new Error(`SpixNet.load: handler: the model carries no '${METADATA_KEY}' metadata (not saved by SpixNet.save)`);
    }
    // Saved before `padding` existed: those networks were built with tfjs 'same' padding.
    return new SpixNet(resolveSpixNetConfig({ padding: 'same', ...saved }), model);
  }

  /** Number of trainable scalars. */
  countParams(): number {
    return this.model.countParams();
  }

  /** Frees the weights. */
  dispose(): void {
    this.model.dispose();
  }
}
