/**
 * `@disco/colorize/node`: the Node-only half of `@disco/colorize` — image files, the streaming
 * photo dataset, and the fetcher of the real-photograph sets from Debian's archive.
 *
 * @packageDocumentation
 */
export {
  READ_IMAGE_DEFAULTS,
  WRITE_IMAGE_DEFAULTS,
  decodeImage,
  readImage,
  resolveReadImageOptions,
  writeImage,
  type DecodedImage,
  type ReadImageOptions,
  type WriteImageOptions,
} from './io/image.js';
export { DATASET_DEFAULTS, PhotoDataset, resolveDatasetOptions, type DatasetBatch, type DatasetOptions } from './data/dataset.js';
export { readRcc, type RccEntry } from './data/rcc.js';
export {
  PHOTO_PACKAGES,
  checkDisjoint,
  compareManifests,
  fetchPhotos,
  kphotoalbumAngles,
  type FetchPhotosOptions,
  type FetchPhotosResult,
  type PhotoManifest,
  type PhotoPackage,
  type PhotoRecord,
  type PhotoSet,
} from './data/photos.js';
export { nsfwInceptionDir, readNsfwInceptionArtifacts, loadNsfwInceptionStem } from './io/nsfw_inception.js';
export { MODEL_FILES, embeddedModelDir, saveDiscoModel, loadDiscoModel, readModelMeta } from './io/model_files.js';
export { runDiscoCli, buildDiscoProgram, registerFeatureNetwork, type FeatureNetworkFactory } from './cli/disco.js';
