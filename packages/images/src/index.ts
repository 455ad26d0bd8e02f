/**
 * `@disco/images`: image files ↔ pixels for DISCO (Node-only; decodes and encodes with sharp) —
 * one reader ({@link readImage} and its 8-bit and header-only forms), one writer and one image
 * lister ({@link listImages}, {@link expandImageInputs}), so stage-1 training, stage-2 training,
 * colorization and evaluation read the same files the same way. Browser code takes pixels
 * directly and does not need this package.
 *
 * @packageDocumentation
 */
/** Package version. */
export const VERSION = '0.1.0';

export {
  READ_IMAGE_DEFAULTS,
  WRITE_IMAGE_DEFAULTS,
  decodeImage,
  decodeRgb8,
  readImage,
  readImageSize,
  readRgbImage,
  resolveReadImageOptions,
  writeImage,
  writePng8,
  type DecodedImage,
  type DecodedRgb8,
  type ReadImageOptions,
  type WriteImageOptions,
} from './image.js';
export { IMAGE_EXTENSIONS, expandImageInputs, isImageFile, listImageInputs, listImages, type ExpandImageInputsOptions } from './list.js';
