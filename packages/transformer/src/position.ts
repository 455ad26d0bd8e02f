/**
 * The 2-D position encoding of an `h × w` token grid: DETR's `PositionEmbeddingSine`
 * (normalize = true).
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkInt, checkNumber, rejectUnknownKeys } from './internal/validate.js';

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
