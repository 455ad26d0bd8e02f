/**
 * `@disco/colorize/node`: the Node-only half of `@disco/colorize` — DISCO model folders, the
 * perceptual network's files and the `disco` command line.
 *
 * Image files (`@disco/images`), the streaming photo dataset and the photo fetcher
 * (`@disco/photos`) are re-exported here for one version so that code importing them from
 * `@disco/colorize/node` keeps compiling.
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
} from '@disco/images';
export { DATASET_DEFAULTS, PhotoDataset, resolveDatasetOptions, type DatasetBatch, type DatasetOptions } from '@disco/photos';
export { readRcc, type RccEntry } from '@disco/photos';
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
} from '@disco/photos';
export { nsfwInceptionDir, readNsfwInceptionArtifacts, loadNsfwInceptionStem, loadNsfwInceptionBlocks } from './io/nsfw_inception.js';
export { EMBEDDED_MODELS, MODEL_FILES, embeddedModelDir, resolveModelArg, saveDiscoModel, loadDiscoModel, readModelMeta, type EmbeddedModelName } from './io/model_files.js';
export { PRETRAINED_MODELS, colorize, loadPretrained, type ColorizeImageOptions, type LoadPretrainedOptions, type PretrainedName } from './pretrained.js';
export { runDiscoCli, buildDiscoProgram } from './cli/disco.js';
export { readOfficialCheckpoint, type OfficialCheckpoint } from './io/official_checkpoint.js';
export { formatParityTable, parityModel, readParityFixture, runParity, type FixtureArray, type ParityCase, type ParityFixture, type ParityRow, type ParityTolerance } from './io/parity.js';
export {
  trainDisco,
  readDiscoCheckpoint,
  modelFromCheckpoint,
  registerFeatureNetwork,
  type FeatureNetworkFactory,
  type TrainDiscoSpec,
  type TrainDiscoHooks,
  type TrainDiscoResult,
  type TrainStepReport,
  type DiscoCheckpointState,
  type LoadedDiscoCheckpoint,
} from './train/run.js';
export { recipeSpec, type RecipeRun } from './recipes/spec.js';
