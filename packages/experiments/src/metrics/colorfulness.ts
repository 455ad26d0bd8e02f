/**
 * Colorfulness (Hasler & Süsstrunk 2003, "Measuring colourfulness in natural images"), the metric
 * the DISCO paper reports next to FID.
 */

/** An 8-bit-range RGB(A) image, row-major interleaved (`data[(y*width + x)*channels + c]`). */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 3 (RGB) or 4 (RGBA; alpha is ignored). */
  channels: 3 | 4;
  /** `width*height*channels` values in 0..255 (`Uint8Array`, or floats on the same scale). */
  data: ArrayLike<number>;
}

/**
 * Colorfulness of one image, on RGB in 0..255: with `rg = R - G` and `yb = (R + G)/2 - B` per pixel,
 * `CF = sqrt(σ_rg² + σ_yb²) + 0.3 · sqrt(μ_rg² + μ_yb²)`, where μ and σ are the mean and the
 * population standard deviation (ddof 0) over all pixels. A gray image (R = G = B) scores 0.
 *
 * @example
 * ```ts
 * colorfulness({ width: 1, height: 1, channels: 3, data: [255, 0, 0] }); // 0.3 * sqrt(255² + 127.5²)
 * ```
 */
export function colorfulness(image: RgbImage): number {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`colorfulness: image size must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 3 && channels !== 4) throw new Error(`colorfulness: image.channels must be 3 or 4, got ${channels}`);
  const n = width * height;
  if (data.length !== n * channels) throw new Error(`colorfulness: image.data has ${data.length} values, expected ${n * channels}`);
  let srg = 0;
  let syb = 0;
  for (let p = 0; p < n; p++) {
    const r = data[p * channels]!;
    const g = data[p * channels + 1]!;
    const b = data[p * channels + 2]!;
    srg += r - g;
    syb += 0.5 * (r + g) - b;
  }
  const mrg = srg / n;
  const myb = syb / n;
  let vrg = 0;
  let vyb = 0;
  for (let p = 0; p < n; p++) {
    const r = data[p * channels]!;
    const g = data[p * channels + 1]!;
    const b = data[p * channels + 2]!;
    vrg += (r - g - mrg) ** 2;
    vyb += (0.5 * (r + g) - b - myb) ** 2;
  }
  return Math.sqrt(vrg / n + vyb / n) + 0.3 * Math.sqrt(mrg * mrg + myb * myb);
}

/** Colorfulness of a set of images. */
export interface ColorfulnessSummary {
  /** Mean over images (the number the paper reports). */
  mean: number;
  /** Population standard deviation over images. */
  std: number;
  /** Per-image values, in input order. */
  values: number[];
}

/** {@link colorfulness} of each image, with their mean and standard deviation. */
export function meanColorfulness(images: readonly RgbImage[]): ColorfulnessSummary {
  if (images.length === 0) throw new Error('meanColorfulness: images must not be empty');
  return summarizeColorfulness(images.map((im) => colorfulness(im)));
}

/** Mean and population std of already computed colorfulness values. */
export function summarizeColorfulness(values: readonly number[]): ColorfulnessSummary {
  if (values.length === 0) throw new Error('summarizeColorfulness: values must not be empty');
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std, values: [...values] };
}
