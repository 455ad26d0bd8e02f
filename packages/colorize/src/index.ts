/**
 * `@disco/colorize`: the assembled DISCO colorization model. This entry point is browser-safe;
 * Node-only file I/O, datasets and the photo fetcher are in `@disco/colorize/node`.
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
  rgbToLab,
  rgbToNormalizedLab,
  type NormalizedLab,
} from './color/lab.js';
export { GAMUT313_BIN_SIZE, GAMUT313_DESCRIPTION, GAMUT313_POINTS, GAMUT313_PRIOR } from './color/gamut313.js';
export {
  AbQuantizer,
  NUM_AB_BINS,
  QUANTIZER_DEFAULTS,
  rebalancingWeights,
  resolveQuantizerOptions,
  type QuantizerOptions,
} from './color/quantizer.js';
