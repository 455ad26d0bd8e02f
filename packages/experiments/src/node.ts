/**
 * `@disco/experiments/node`: Node-only parts of the evaluation — image listing and decoding, the
 * offline InceptionV3 feature networks, batched feature extraction and scoring behind
 * `nx run experiments:eval-fid`.
 *
 * @packageDocumentation
 */
export { listImageInputs, listImages, readRgbImage, IMAGE_EXTENSIONS, type DecodedRgb8 as DecodedImage } from '@disco/images';
export {
  loadNsfwInception,
  loadInceptionFromFile,
  readNsfwInceptionArtifacts,
  nsfwInceptionDir,
  fileModelHandler,
  imagesToBatch,
  fidInceptionNetwork,
  loadFidInception,
  PT_INCEPTION_FILE,
  PT_INCEPTION_URL,
  PT_INCEPTION_SHA256_PREFIX,
  type FeatureNetwork,
  type FeatureLayer,
  type FeatureOutputs,
  type InceptionFileOptions,
} from './node/inception.js';
export {
  extractImageSetFeatures,
  scoreFeatureSets,
  formatScoreTable,
  checkSetSizes,
  smallSampleWarnings,
  MIN_IMAGES_PER_SET,
  type ImageSetFeatures,
  type ExtractOptions,
  type ScoreOptions,
  type LayerScores,
  type IsScores,
  type SetScores,
} from './node/eval_fid.js';
export {
  scoreHeldout,
  diagnoseAnchors,
  greyMethod,
  constantMethod,
  discoMethod,
  modelMethods,
  meanTrainingAb,
  type HeldoutMethod,
  type MethodScores,
  type HeldoutScores,
  type HeldoutOptions,
  type AnchorDiagnosis,
} from './node/heldout.js';
export { renderSheet, sheetColumn, sheetColumns, type SheetColumn } from './node/sheet.js';
export { frontierPoints, frontierSpec, frontierTable, renderVegaLitePng, type Frontier, type FrontierPoint } from './node/frontier.js';
export { writeReport, loadTfvisBundle, tfvisBundlePath, imageSourceResolver, type WriteReportOptions } from './report/index.js';
export { runFidInceptionParity, formatParityTable, type ParityOptions, type ParityReport, type ParityRow, type ParityTolerance } from './node/fid_parity.js';
export { loadFidInceptionStateDict, type FidInceptionWeightsFile } from './node/fid_weights.js';
