/**
 * `@disco/colorize/node`: the Node-only half of `@disco/colorize` — DISCO model folders, the
 * perceptual network's files and the `disco` command line.
 *
 * Image files are read and written by `@disco/images`; the photo sets and their dataset are `@disco/photos`.
 *
 * @packageDocumentation
 */
export { nsfwInceptionDir, nsfwInceptionFiles, readNsfwInceptionArtifacts, fileModelHandler } from './io/nsfw_inception.js';
export { DEFAULT_MODEL, EMBEDDED_MODELS, MODEL_FILES, embeddedModelDir, resolveModelArg, saveDiscoModel, loadDiscoModel, readModelMeta, type EmbeddedModelName } from './io/model_files.js';
export { PRETRAINED_MODELS, colorize, loadPretrained, type ColorizeImageOptions, type LoadPretrainedOptions, type PretrainedName } from './pretrained.js';
export { runDiscoCli, buildDiscoProgram } from './cli/disco.js';
export { readOfficialCheckpoint, type OfficialCheckpoint } from './io/official_checkpoint.js';
export { formatParityTable, parityModel, readParityFixture, runParity, type FixtureArray, type ParityCase, type ParityFixture, type ParityRow, type ParityTolerance } from './io/parity.js';
export {
  trainDisco,
  readDiscoCheckpoint,
  modelFromCheckpoint,
  type TrainDiscoSpec,
  type TrainDiscoHooks,
  type TrainDiscoResult,
  type TrainStepReport,
  type DiscoCheckpointState,
  type LoadedDiscoCheckpoint,
} from './train/run.js';
export { recipeSpec, type RecipeRun } from './recipes/spec.js';
