/**
 * `@disco/photos`: the photographs DISCO trains and is evaluated on, apart from the model — the
 * fetcher of the real-photograph sets from Debian's archive (with a reader of Qt `.rcc` resource
 * bundles and a DEP-5 copyright parser for the licenses), and the streaming, seeded training
 * dataset of random crops that stage 2 reads. Node-only.
 *
 * @packageDocumentation
 */
/** Package version. */
export const VERSION = '0.1.0';

export { DATASET_DEFAULTS, PhotoDataset, resolveDatasetOptions, type DatasetBatch, type DatasetOptions } from './dataset.js';
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
} from './photos.js';
export { readRcc, type RccEntry } from './rcc.js';
export { dep5LicenseFor, parseDep5, type Dep5Paragraph } from './dep5.js';
export { PHOTOS_MANIFEST, defaultPhotoCache, defaultPhotoSets, type DefaultPhotoSets, type DefaultPhotoSetsOptions } from './sets.js';
