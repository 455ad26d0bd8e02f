/**
 * 2-D position encodings for an `h × w` token grid: DETR's `PositionEmbeddingSine`
 * (normalize = true) and `PositionEmbeddingLearned`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { TransformerModule } from './module.js';
import { uniform } from './internal/random.js';
import { checkInt, checkNumber, checkSeed, rejectUnknownKeys } from './internal/validate.js';

/** Options of {@link sinePositionEncoding2D}. */
export interface SinePositionOptions {
  /** Output channels; half encode y, half x; must be a multiple of 4. Default 64. */
  channels: number;
  /** Wavelength base. Default 10000. */
  temperature: number;
  /** Whether coordinates are normalised to `(0, scale]`. Default true. */
  normalize: boolean;
  /** Scale of normalised coordinates. Default 2π. */
  scale: number;
  /** Added to the grid size when normalising. Default 1e-6 (DETR's). */
  epsilon: number;
}

/** Defaults of {@link SinePositionOptions} (DETR's with normalize = true). */
export const SINE_POSITION_DEFAULTS: Readonly<SinePositionOptions> = Object.freeze({ channels: 64, temperature: 10000, normalize: true, scale: 2 * Math.PI, epsilon: 1e-6 });

/** Validates and completes {@link SinePositionOptions}; throws on unknown keys or bad ranges. */
export function resolveSinePositionOptions(partial: Partial<SinePositionOptions> = {}): SinePositionOptions {
  const fn = 'resolveSinePositionOptions';
  rejectUnknownKeys(fn, partial, SINE_POSITION_DEFAULTS);
  const o = { ...SINE_POSITION_DEFAULTS, ...partial };
  checkInt(fn, 'channels', o.channels, 4);
  if (o.channels % 4 !== 0) throw new Error(`${fn}: channels must be a multiple of 4 (got ${o.channels})`);
  checkNumber(fn, 'temperature', o.temperature, 1, Number.MAX_VALUE);
  if (typeof o.normalize !== 'boolean') throw new Error(`${fn}: normalize must be true or false (got ${String(o.normalize)})`);
  checkNumber(fn, 'scale', o.scale, Number.MIN_VALUE, Number.MAX_VALUE);
  checkNumber(fn, 'epsilon', o.epsilon, 0, 1);
  return o;
}

/**
 * 2-D sine position encoding of an `height × width` grid, DETR's `PositionEmbeddingSine` with
 * `normalize = true` on an unpadded grid. With `npf = channels / 2`, row `i` and column `j`
 * (0-based):
 *
 * ```text
 * y = (i + 1) / (height + epsilon) · scale      (y = i + 1 when normalize = false)
 * x = (j + 1) / (width  + epsilon) · scale      (x = j + 1 when normalize = false)
 * dimT[k] = temperature ^ (2 · floor(k / 2) / npf),   k = 0 … npf − 1
 * out[0, i, j, k]       = sin(y / dimT[k]) for even k, cos(y / dimT[k]) for odd k
 * out[0, i, j, npf + k] = sin(x / dimT[k]) for even k, cos(x / dimT[k]) for odd k
 * ```
 *
 * Channels are `[y features, x features]`, sin/cos interleaved. Computed in float64, returned
 * as float32 (a constant: no gradient).
 *
 * @param height grid rows `h`
 * @param width grid columns `w`
 * @returns `[1, height, width, channels]`; {@link flattenTokens} gives `[1, h*w, channels]`.
 *
 * @example
 * ```ts
 * const pos = flattenTokens(sinePositionEncoding2D(16, 16)); // [1, 256, 64]
 * ```
 */
export function sinePositionEncoding2D(height: number, width: number, options: Partial<SinePositionOptions> = {}): tf.Tensor4D {
  const fn = 'sinePositionEncoding2D';
  tf.util.assert(Number.isInteger(height) && height > 0, () => `${fn}: height must be a positive integer (got ${height})`);
  tf.util.assert(Number.isInteger(width) && width > 0, () => `${fn}: width must be a positive integer (got ${width})`);
  const { channels, temperature, normalize, scale, epsilon } = resolveSinePositionOptions(options);
  const npf = channels / 2;
  const dimT = new Float64Array(npf);
  for (let k = 0; k < npf; k++) dimT[k] = Math.pow(temperature, (2 * Math.floor(k / 2)) / npf);
  const coord = (idx: number, size: number): number => (normalize ? ((idx + 1) / (size + epsilon)) * scale : idx + 1);
  const out = new Float32Array(height * width * channels);
  for (let i = 0; i < height; i++) {
    const y = coord(i, height);
    for (let j = 0; j < width; j++) {
      const x = coord(j, width);
      const base = (i * width + j) * channels;
      for (let k = 0; k < npf; k++) {
        const even = k % 2 === 0;
        out[base + k] = even ? Math.sin(y / dimT[k]!) : Math.cos(y / dimT[k]!);
        out[base + npf + k] = even ? Math.sin(x / dimT[k]!) : Math.cos(x / dimT[k]!);
      }
    }
  }
  return tf.tensor4d(out, [1, height, width, channels]);
}

/** Options of {@link LearnedPositionEmbedding2D}. */
export interface LearnedPositionOptions {
  /** Output channels (half column, half row embedding); must be even. Default 64. */
  channels: number;
  /** Largest grid height supported. Default 50 (DETR's). */
  maxHeight: number;
  /** Largest grid width supported. Default 50 (DETR's). */
  maxWidth: number;
  /** Seed of the uniform [0, 1) initialisation (DETR's `nn.init.uniform_`). Default 0. */
  seed: number;
}

/** Defaults of {@link LearnedPositionOptions}. */
export const LEARNED_POSITION_DEFAULTS: Readonly<LearnedPositionOptions> = Object.freeze({ channels: 64, maxHeight: 50, maxWidth: 50, seed: 0 });

/** Validates and completes {@link LearnedPositionOptions}; throws on unknown keys or bad ranges. */
export function resolveLearnedPositionOptions(partial: Partial<LearnedPositionOptions> = {}): LearnedPositionOptions {
  const fn = 'resolveLearnedPositionOptions';
  rejectUnknownKeys(fn, partial, LEARNED_POSITION_DEFAULTS);
  const o = { ...LEARNED_POSITION_DEFAULTS, ...partial };
  checkInt(fn, 'channels', o.channels, 2);
  if (o.channels % 2 !== 0) throw new Error(`${fn}: channels must be even (got ${o.channels})`);
  checkInt(fn, 'maxHeight', o.maxHeight, 1);
  checkInt(fn, 'maxWidth', o.maxWidth, 1);
  o.seed = checkSeed(fn, o.seed) ?? 0;
  return o;
}

/**
 * Learned 2-D position embedding, DETR's `PositionEmbeddingLearned`: a row table
 * `rowEmbed` `[maxHeight, channels/2]` and a column table `colEmbed` `[maxWidth, channels/2]`;
 * `out[0, i, j] = concat(colEmbed[j], rowEmbed[i])` (x features first, as in DETR).
 */
export class LearnedPositionEmbedding2D extends TransformerModule {
  /** Registered class name. */
  static readonly className = 'DiscoLearnedPositionEmbedding2D';
  /** Resolved options. */
  readonly options: LearnedPositionOptions;
  /** `[maxHeight, channels / 2]` */
  readonly rowEmbed: tf.Variable;
  /** `[maxWidth, channels / 2]` */
  readonly colEmbed: tf.Variable;

  /** Builds the tables from (partial) {@link LearnedPositionOptions}. */
  constructor(options: Partial<LearnedPositionOptions> = {}) {
    super();
    this.options = resolveLearnedPositionOptions(options);
    const { channels, maxHeight, maxWidth, seed } = this.options;
    const half = channels / 2;
    this.rowEmbed = this.addVariable('rowEmbed', tf.tensor2d(uniform(maxHeight * half, 0, 1, seed), [maxHeight, half]));
    this.colEmbed = this.addVariable('colEmbed', tf.tensor2d(uniform(maxWidth * half, 0, 1, seed + 1), [maxWidth, half]));
  }

  /** A copy of the resolved options. */
  getConfig(): LearnedPositionOptions {
    return { ...this.options };
  }

  /**
   * The embedding of an `height × width` grid (differentiable with respect to the tables).
   *
   * @returns `[1, height, width, channels]`
   */
  apply(height: number, width: number): tf.Tensor4D {
    const fn = 'LearnedPositionEmbedding2D.apply';
    this.assertLive(fn);
    const { channels, maxHeight, maxWidth } = this.options;
    tf.util.assert(Number.isInteger(height) && height >= 1 && height <= maxHeight, () => `${fn}: height must be an integer in [1, ${maxHeight}] (got ${height})`);
    tf.util.assert(Number.isInteger(width) && width >= 1 && width <= maxWidth, () => `${fn}: width must be an integer in [1, ${maxWidth}] (got ${width})`);
    const half = channels / 2;
    return tf.tidy(() => {
      const cols = tf.reshape(tf.slice(this.colEmbed, [0, 0], [width, half]), [1, 1, width, half]); // [1, 1, w, c/2]
      const rows = tf.reshape(tf.slice(this.rowEmbed, [0, 0], [height, half]), [1, height, 1, half]); // [1, h, 1, c/2]
      return tf.concat([tf.tile(cols, [1, height, 1, 1]), tf.tile(rows, [1, 1, width, 1])], 3) as tf.Tensor4D; // [1, h, w, c]
    });
  }
}
