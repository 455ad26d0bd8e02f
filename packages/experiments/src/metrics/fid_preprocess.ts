/**
 * The FID network's input preprocessing, exactly as `pytorch-fid` (browser-safe, plain JS, float32
 * arithmetic): RGB bytes / 255, bilinear resize to 299×299 as PyTorch `interpolate(mode='bilinear',
 * align_corners=False)` without antialiasing, then `2x − 1`.
 */

/** 8-bit RGB pixels, row-major `[height, width, 3]`. */
export interface Rgb8Image {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `height·width·3` bytes, R G B per pixel, row-major. */
  readonly data: Uint8Array;
}

const f32 = Math.fround;

/** Source taps of one output axis: `i0`, `i1` and the float32 weights `w0`, `w1` per output index. */
function taps(n: number, size: number): { i0: Int32Array; i1: Int32Array; w0: Float32Array; w1: Float32Array } {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const w0 = new Float32Array(size);
  const w1 = new Float32Array(size);
  if (n === size) {
    for (let i = 0; i < size; i++) {
      i0[i] = i1[i] = i;
      w0[i] = 1;
    }
    return { i0, i1, w0, w1 };
  }
  const scale = f32(n / size); // PyTorch's area_pixel_compute_scale in float32
  for (let i = 0; i < size; i++) {
    const src = Math.max(scale * (i + 0.5) - 0.5, 0); // float64 from the float32 scale
    const a = Math.floor(src);
    i0[i] = a;
    i1[i] = Math.min(a + 1, n - 1);
    w1[i] = f32(src - a);
    w0[i] = f32(1 - w1[i]!);
  }
  return { i0, i1, w0, w1 };
}

/**
 * Resizes an image in [0, 1] (`[h, w, 3]` float32, HWC) to `[size, size, 3]` like PyTorch's CPU
 * `upsample_bilinear2d` (align_corners=False, no antialias; identity along an axis of the target
 * size): along the width for the two source rows, then along the height, each step a fused
 * multiply-add `fma(v0, w0, fround(v1·w1))` rounded once to float32. Reproduces the reference's
 * float32 values bit for bit (the fixture's `input299`).
 *
 * @example
 * ```ts
 * const x = resizeBilinearTorch(Float32Array.from(bytes, (b) => b / 255), 64, 64, 299); // [299, 299, 3]
 * ```
 */
export function resizeBilinearTorch(src: Float32Array, height: number, width: number, size: number): Float32Array {
  if (src.length !== height * width * 3) throw new Error(`resizeBilinearTorch: src has ${src.length} values, expected ${height}*${width}*3`);
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`resizeBilinearTorch: size must be a positive integer, got ${size}`);
  const ty = taps(height, size);
  const tx = taps(width, size);
  const out = new Float32Array(size * size * 3);
  // Each output row mixes two source rows: first resize those rows along the width.
  const rowA = new Float32Array(size * 3);
  const rowB = new Float32Array(size * 3);
  const rowAlongWidth = (r: number, dst: Float32Array) => {
    const base = r * width * 3;
    for (let j = 0; j < size; j++) {
      const a = base + tx.i0[j]! * 3;
      const b = base + tx.i1[j]! * 3;
      const w0 = tx.w0[j]!;
      const w1 = tx.w1[j]!;
      for (let c = 0; c < 3; c++) dst[j * 3 + c] = f32(src[a + c]! * w0 + f32(src[b + c]! * w1));
    }
  };
  for (let i = 0; i < size; i++) {
    rowAlongWidth(ty.i0[i]!, rowA);
    rowAlongWidth(ty.i1[i]!, rowB);
    const w0 = ty.w0[i]!;
    const w1 = ty.w1[i]!;
    const o = i * size * 3;
    for (let k = 0; k < size * 3; k++) out[o + k] = f32(rowA[k]! * w0 + f32(rowB[k]! * w1));
  }
  return out;
}

/**
 * The FID network's input from 8-bit RGB: `fround(byte / 255)`, {@link resizeBilinearTorch} to
 * `size`×`size` (299), `fround(2x − 1)`. Returns `[size, size, 3]` (HWC) float32 in [-1, 1];
 * `scaleToMinusOne: false` stops before `2x − 1` (values in [0, 1]).
 *
 * @example
 * ```ts
 * const x = fidInceptionInput({ width: 64, height: 64, data: rgbBytes }); // Float32Array(299*299*3)
 * const t = tf.tensor4d(x, [1, 299, 299, 3]);
 * ```
 */
export function fidInceptionInput(image: Rgb8Image, size = 299, scaleToMinusOne = true): Float32Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) throw new Error(`fidInceptionInput: image data has ${data.length} bytes, expected ${width}*${height}*3`);
  const x = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) x[i] = f32(data[i]! / 255);
  const y = resizeBilinearTorch(x, height, width, size);
  if (scaleToMinusOne) for (let i = 0; i < y.length; i++) y[i] = f32(2 * y[i]! - 1);
  return y;
}
