/**
 * sRGB (D65) ↔ CIE Lab as differentiable tfjs ops, and the normalisation the model uses.
 *
 * Formulas (IEC 61966-2-1 sRGB, CIE 1976 L*a*b*):
 * - companding: `lin = c ≤ 0.04045 ? c/12.92 : ((c+0.055)/1.055)^2.4`, inverse
 *   `c = lin ≤ 0.0031308 ? 12.92·lin : 1.055·lin^(1/2.4) − 0.055`;
 * - linear RGB → XYZ with the sRGB/D65 matrix, white `Xn = 0.95047, Yn = 1, Zn = 1.08883`;
 * - `f(t) = t > ε ? ∛t : (κt + 16)/116`, ε = 216/24389, κ = 24389/27;
 *   `L = 116 f(Y/Yn) − 16`, `a = 500 (f(X/Xn) − f(Y/Yn))`, `b = 200 (f(Y/Yn) − f(Z/Zn))`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** CIE ε = 216/24389: below it `f` is linear. */
export const CIE_EPSILON = 216 / 24389;
/** CIE κ = 24389/27. */
export const CIE_KAPPA = 24389 / 27;
/** D65 reference white `[Xn, Yn, Zn]` (2° observer), Y normalised to 1. */
export const D65_WHITE: readonly [number, number, number] = Object.freeze([0.95047, 1.0, 1.08883]) as readonly [number, number, number];
/** Linear sRGB → XYZ (D65), row-major: `xyz = M · rgb`. */
export const SRGB_TO_XYZ: readonly (readonly [number, number, number])[] = Object.freeze([
  Object.freeze([0.4124564, 0.3575761, 0.1804375]) as readonly [number, number, number],
  Object.freeze([0.2126729, 0.7151522, 0.072175]) as readonly [number, number, number],
  Object.freeze([0.0193339, 0.119192, 0.9503041]) as readonly [number, number, number],
]);

/** Inverse of a 3×3 matrix in float64 (adjugate / determinant). */
function invert3(m: readonly (readonly number[])[]): number[][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, i] = m[2]!;
  const A = e! * i! - f! * h!;
  const B = -(d! * i! - f! * g!);
  const C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  return [
    [A / det, -(b! * i! - c! * h!) / det, (b! * f! - c! * e!) / det],
    [B / det, (a! * i! - c! * g!) / det, -(a! * f! - c! * d!) / det],
    [C / det, -(a! * h! - b! * g!) / det, (a! * e! - b! * d!) / det],
  ];
}

const XYZ_TO_SRGB = invert3(SRGB_TO_XYZ);

/** `[3, 3]` tensor of `m` transposed with each row scaled by `rowScale[j]` on output column j. */
function rightMatrix(m: readonly (readonly number[])[], outScale: readonly number[]): tf.Tensor2D {
  // y[j] = Σ_k m[j][k] x[k] · outScale[j]  ⇒  y = x · Mᵀ, Mᵀ[k][j] = m[j][k] · outScale[j].
  const v: number[] = [];
  for (let k = 0; k < 3; k++) for (let j = 0; j < 3; j++) v.push(m[j]![k]! * outScale[j]!);
  return tf.tensor2d(v, [3, 3]);
}

function assertRank4Channels(x: tf.Tensor, channels: number, opName: string, arg: string): void {
  tf.util.assert(x instanceof tf.Tensor && x.rank === 4 && x.shape[3] === channels, () => `${opName}: ${arg} must have shape [batch, height, width, ${channels}], got [${x?.shape}]`);
  tf.util.assert(x.dtype === 'float32', () => `${opName}: ${arg} must be float32, got ${x.dtype}`);
}

/** Applies a 3×3 matrix to the last axis of `[B,H,W,3]`. */
function applyMatrix(x: tf.Tensor4D, mT: tf.Tensor2D): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const flat = tf.reshape(x, [b * h * w, 3]); // [B·H·W, 3]
  return tf.reshape(tf.matMul(flat, mT), [b, h, w, 3]);
}

function rgbToLab_(rgb: tf.Tensor4D): tf.Tensor4D {
  assertRank4Channels(rgb, 3, 'rgbToLab', 'rgb');
  // sRGB companding → linear. The pow branch sees only values ≥ 0.04045, so no NaN gradient.
  const lin = tf.where(
    tf.lessEqual(rgb, 0.04045),
    tf.div(rgb, 12.92),
    tf.pow(tf.div(tf.add(tf.maximum(rgb, 0.04045), 0.055), 1.055), 2.4),
  ) as tf.Tensor4D;
  // XYZ / white, via one matrix that folds in the division by the white point.
  const white = D65_WHITE.map((v) => 1 / v);
  const t = applyMatrix(lin, rightMatrix(SRGB_TO_XYZ, white)); // [B,H,W,3] = X/Xn, Y/Yn, Z/Zn
  const f = tf.where(
    tf.greater(t, CIE_EPSILON),
    tf.pow(tf.maximum(t, CIE_EPSILON), 1 / 3),
    tf.div(tf.add(tf.mul(t, CIE_KAPPA), 16), 116),
  ) as tf.Tensor4D;
  // [L, a, b] = f · [[0, 500, 0], [116, −500, 200], [0, 0, −200]] + [−16, 0, 0]
  const toLab = tf.tensor2d([0, 500, 0, 116, -500, 200, 0, 0, -200], [3, 3]);
  return tf.add(applyMatrix(f, toLab), tf.tensor1d([-16, 0, 0])) as tf.Tensor4D;
}

function labToRgb_(lab: tf.Tensor4D): tf.Tensor4D {
  assertRank4Channels(lab, 3, 'labToRgb', 'lab');
  // [fx, fy, fz] = [L, a, b] · [[1/116, 1/116, 1/116], [1/500, 0, 0], [0, 0, −1/200]] + 16/116
  const toF = tf.tensor2d([1 / 116, 1 / 116, 1 / 116, 1 / 500, 0, 0, 0, 0, -1 / 200], [3, 3]);
  const f: tf.Tensor4D = tf.add(applyMatrix(lab, toF), 16 / 116);
  const fEps = Math.cbrt(CIE_EPSILON); // = 6/29
  const t = tf.where(tf.greater(f, fEps), tf.pow(tf.maximum(f, fEps), 3), tf.div(tf.sub(tf.mul(f, 116), 16), CIE_KAPPA)) as tf.Tensor4D;
  // XYZ = t · white, then linear RGB = M⁻¹ · XYZ: fold the white point into the matrix columns.
  const m: number[][] = XYZ_TO_SRGB.map((row) => row.map((v, k) => v * D65_WHITE[k]!));
  const lin = tf.clipByValue(applyMatrix(t, rightMatrix(m, [1, 1, 1])), 0, 1); // out-of-gamut clamped
  return tf.where(
    tf.lessEqual(lin, 0.0031308),
    tf.mul(lin, 12.92),
    tf.sub(tf.mul(tf.pow(tf.maximum(lin, 0.0031308), 1 / 2.4), 1.055), 0.055),
  ) as tf.Tensor4D;
}

/**
 * sRGB (D65) → CIE Lab, differentiable.
 *
 * @param rgb `[batch, height, width, 3]` float32 sRGB in [0, 1].
 * @returns `[batch, height, width, 3]` float32 `[L, a, b]` (L in [0, 100], a and b in about ±128).
 *
 * @example
 * ```ts
 * const lab = rgbToLab(tf.tensor4d([1, 0, 0], [1, 1, 1, 3])); // ≈ [53.24, 80.09, 67.20]
 * ```
 */
export const rgbToLab = tf.op({ rgbToLab_ });

/**
 * CIE Lab → sRGB (D65), differentiable. Colors outside the sRGB gamut are clamped to [0, 1] in
 * linear RGB (before companding), so the result is always a valid image.
 *
 * @param lab `[batch, height, width, 3]` float32 `[L, a, b]`.
 * @returns `[batch, height, width, 3]` float32 sRGB in [0, 1].
 */
export const labToRgb = tf.op({ labToRgb_ });

/** Centre and half-range of L used by the model: `L → (L − 50) / 50`. */
export const L_CENTER = 50;
/** Scale of ab used by the model: `ab → ab / 110`. */
export const AB_SCALE = 110;

function normalizeL_(l: tf.Tensor4D): tf.Tensor4D {
  assertRank4Channels(l, 1, 'normalizeL', 'l');
  return tf.div(tf.sub(l, L_CENTER), L_CENTER);
}
function denormalizeL_(l: tf.Tensor4D): tf.Tensor4D {
  assertRank4Channels(l, 1, 'denormalizeL', 'l');
  return tf.add(tf.mul(l, L_CENTER), L_CENTER);
}
function normalizeAb_(ab: tf.Tensor4D): tf.Tensor4D {
  assertRank4Channels(ab, 2, 'normalizeAb', 'ab');
  return tf.div(ab, AB_SCALE);
}
function denormalizeAb_(ab: tf.Tensor4D): tf.Tensor4D {
  assertRank4Channels(ab, 2, 'denormalizeAb', 'ab');
  return tf.mul(ab, AB_SCALE);
}

/**
 * Model normalisation of lightness: `(L − 50) / 50`, so L ∈ [0, 100] maps to [−1, 1].
 *
 * @param l `[batch, height, width, 1]` L in Lab units.
 * @returns `[batch, height, width, 1]`.
 */
export const normalizeL = tf.op({ normalizeL_ });
/**
 * Inverse of {@link normalizeL}: `50 · l + 50`.
 *
 * @param l `[batch, height, width, 1]` normalised L.
 * @returns `[batch, height, width, 1]` L in Lab units.
 */
export const denormalizeL = tf.op({ denormalizeL_ });
/**
 * Model normalisation of chroma: `ab / 110`.
 *
 * @param ab `[batch, height, width, 2]` ab in Lab units.
 * @returns `[batch, height, width, 2]`.
 */
export const normalizeAb = tf.op({ normalizeAb_ });
/**
 * Inverse of {@link normalizeAb}: `110 · ab`.
 *
 * @param ab `[batch, height, width, 2]` normalised ab.
 * @returns `[batch, height, width, 2]` ab in Lab units.
 */
export const denormalizeAb = tf.op({ denormalizeAb_ });

/** Normalised Lab split into the model's two inputs. */
export interface NormalizedLab {
  /** `[batch, height, width, 1]` lightness as `(L − 50) / 50`. */
  L: tf.Tensor4D;
  /** `[batch, height, width, 2]` chroma as `ab / 110`. */
  ab: tf.Tensor4D;
}

/**
 * sRGB → the model's normalised `{L, ab}`: `L` as `(L - 50) / 50` and `ab` as `ab / 110`.
 *
 * @param rgb `[batch, height, width, 3]` float32 sRGB in [0, 1] (any `tf.Tensor`; the shape is
 *   checked at run time).
 * @returns `L` `[batch, height, width, 1]` and `ab` `[batch, height, width, 2]`; the caller owns both.
 */
export function rgbToNormalizedLab(rgb: tf.Tensor): NormalizedLab {
  assertRank4Channels(rgb, 3, 'rgbToNormalizedLab', 'rgb');
  return tf.tidy(() => {
    const lab = rgbToLab(rgb as tf.Tensor4D);
    const [l, ab] = tf.split(lab, [1, 2], 3) as [tf.Tensor4D, tf.Tensor4D];
    return { L: normalizeL(l), ab: normalizeAb(ab) };
  });
}

/**
 * The model's normalised `L` and `ab` → sRGB in [0, 1] (out-of-gamut colors clamped).
 *
 * @param l `[batch, height, width, 1]` normalised L.
 * @param ab `[batch, height, width, 2]` normalised ab.
 * @returns `[batch, height, width, 3]` sRGB.
 */
export function normalizedLabToRgb(l: tf.Tensor4D, ab: tf.Tensor4D): tf.Tensor4D {
  tf.util.assert(
    l.rank === 4 && ab.rank === 4 && tf.util.arraysEqual(l.shape.slice(0, 3), ab.shape.slice(0, 3)),
    () => `normalizedLabToRgb: l [${l.shape}] and ab [${ab.shape}] must share batch, height and width`,
  );
  return tf.tidy(() => labToRgb(tf.concat([denormalizeL(l), denormalizeAb(ab)], 3)));
}

// ---------------------------------------------------------------------------------------------
// The same conversions on plain arrays (float64 arithmetic), for full-resolution images that are
// processed outside tfjs: the formulas of rgbToNormalizedLab and normalizedLabToRgb, equal to
// them within float32 rounding (≤ 1e-5 in the normalised units).

/** sRGB companding of the 256 byte values: `lin = c ≤ 0.04045 ? c/12.92 : ((c+0.055)/1.055)^2.4`, `c = v/255`. */
const LINEAR_OF_BYTE: Float64Array = Float64Array.from({ length: 256 }, (_, v) => {
  const c = Math.fround(v / 255);
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

const cieF = (t: number): number => (t > CIE_EPSILON ? Math.cbrt(t) : (CIE_KAPPA * t + 16) / 116);

/**
 * 8-bit sRGB pixels → the model's normalised L (`(L − 50)/50`) and, if `ab` is given, ab
 * (`ab/110`), as {@link rgbToNormalizedLab} computes them for `rgb/255`.
 *
 * @param rgb `n·3` bytes, interleaved RGB.
 * @param L `n` floats written: normalised L.
 * @param ab `2n` floats written (optional): normalised ab, interleaved.
 */
export function srgb8ToNormalizedLab(rgb: Uint8Array, L: Float32Array | null, ab: Float32Array | null = null): void {
  const [mx, my, mz] = SRGB_TO_XYZ;
  const n = Math.floor(rgb.length / 3);
  for (let i = 0; i < n; i++) {
    const r = LINEAR_OF_BYTE[rgb[3 * i]!]!;
    const g = LINEAR_OF_BYTE[rgb[3 * i + 1]!]!;
    const b = LINEAR_OF_BYTE[rgb[3 * i + 2]!]!;
    const fy = cieF((my![0] * r + my![1] * g + my![2] * b) / D65_WHITE[1]);
    if (L) L[i] = (116 * fy - 16 - L_CENTER) / L_CENTER;
    if (ab) {
      const fx = cieF((mx![0] * r + mx![1] * g + mx![2] * b) / D65_WHITE[0]);
      const fz = cieF((mz![0] * r + mz![1] * g + mz![2] * b) / D65_WHITE[2]);
      ab[2 * i] = (500 * (fx - fy)) / AB_SCALE;
      ab[2 * i + 1] = (200 * (fy - fz)) / AB_SCALE;
    }
  }
}

/**
 * The model's normalised L and ab → 8-bit sRGB, as {@link normalizedLabToRgb} followed by
 * `round(clip(v, 0, 1)·255)` (out-of-gamut colors clamped in linear RGB; non-finite values → 0).
 *
 * @param L `n` normalised L.
 * @param ab `2n` normalised ab, interleaved.
 * @param out `n·3` bytes written.
 */
export function normalizedLabToSrgb8(L: ArrayLike<number>, ab: ArrayLike<number>, out: Uint8Array): void {
  const m = XYZ_TO_SRGB.map((row) => row.map((v, k) => v * D65_WHITE[k]!));
  const [m0, m1, m2] = m as [number[], number[], number[]];
  const fEps = Math.cbrt(CIE_EPSILON);
  const inv = (f: number): number => (f > fEps ? f * f * f : (116 * f - 16) / CIE_KAPPA);
  const enc = (lin: number): number => {
    const c = Number.isFinite(lin) ? Math.min(1, Math.max(0, lin)) : 0;
    const s = c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
    return Math.round(Math.min(1, Math.max(0, Math.fround(s))) * 255);
  };
  const n = L.length;
  for (let i = 0; i < n; i++) {
    const fy = (L[i]! * L_CENTER + L_CENTER + 16) / 116;
    const fx = fy + (ab[2 * i]! * AB_SCALE) / 500;
    const fz = fy - (ab[2 * i + 1]! * AB_SCALE) / 200;
    const tx = inv(fx);
    const ty = inv(fy);
    const tz = inv(fz);
    out[3 * i] = enc(m0[0]! * tx + m0[1]! * ty + m0[2]! * tz);
    out[3 * i + 1] = enc(m1[0]! * tx + m1[1]! * ty + m1[2]! * tz);
    out[3 * i + 2] = enc(m2[0]! * tx + m2[1]! * ty + m2[2]! * tz);
  }
}
