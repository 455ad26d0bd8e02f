/**
 * `@disco/color`: the color science DISCO is built on — sRGB (D65) ↔ CIE Lab as differentiable
 * tfjs ops and their plain-array forms, the model's L/ab normalisation, and the 313-bin ab
 * quantizer (Zhang et al., ECCV 2016) with its class rebalancing, on which DISCO's color
 * modeler and generator classify (Xia et al. 2022, §3.2); and the anti-aliased resize that brings a
 * photo's Lab to the model's size (`resizeArea`). Browser-safe; imports only tfjs-core.
 *
 * @packageDocumentation
 */
/** Package version. */
export const VERSION = '0.1.0';

export {
  AB_SCALE,
  CIE_EPSILON,
  CIE_KAPPA,
  D65_WHITE,
  L_CENTER,
  SRGB_TO_XYZ,
  denormalizeAb,
  denormalizeL,
  labToRgb,
  normalizeAb,
  normalizeL,
  normalizedLabToRgb,
  normalizedLabToSrgb8,
  rgbToLab,
  rgbToNormalizedLab,
  srgb8ToNormalizedLab,
  type NormalizedLab,
} from './lab.js';
export { GAMUT313_BIN_SIZE, GAMUT313_DESCRIPTION, GAMUT313_POINTS, GAMUT313_PRIOR } from './gamut313.js';
export {
  AbQuantizer,
  NUM_AB_BINS,
  QUANTIZER_DEFAULTS,
  rebalancingWeights,
  resolveQuantizerOptions,
  type QuantizerOptions,
} from './quantizer.js';
export type { Rgb8Image } from './rgb8.js';
export { resizeArea } from './resize.js';
