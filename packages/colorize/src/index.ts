/**
 * `@disco/colorize`: the assembled DISCO colorization model. This entry point is browser-safe;
 * Node-only model files and the `disco` CLI are in `@disco/colorize/node`.
 *
 * The color science it is built on (Lab, the 313-bin quantizer, `resizeArea`) is `@disco/color`.
 *
 * @packageDocumentation
 */
/** Package version. */
export const VERSION = '0.1.0';

// The assembled model, its training and inference (browser-safe).
export {
  PAPER_CONFIG,
  TINY_CONFIG,
  DISCO_PRESETS,
  resolveDiscoConfig,
  resolveStoredConfig,
  migrateStoredConfig,
  extensionsOf,
  defaultDecodeTemperature,
  NO_EXTENSIONS,
  DISCO_ARCHS,
  ZHANG_ANNEALED_MEAN_TEMPERATURE,
  PRETRAINED_NETWORKS,
  PRETRAINED_LAYERS,
  PRETRAINED_FEATURES_DEFAULTS,
  type PretrainedFeaturesConfig,
  type DiscoArch,
  type DiscoConfig,
  type DiscoConfigOverrides,
  type DiscoExtensions,
  type DiscoExtensionsOverrides,
  type BackboneConfig,
  type RefinementConfig,
  type TransformerConfig,
  type AblationConfig,
} from './model/config.js';
export { buildBackbone, buildPixelHead, buildRefinement, type ConvPadding } from './model/networks.js';
export { OFFICIAL_CONFIG, foldSpectralNorm, officialModel, officialToNamedWeights, type OfficialConversionOptions, type StateDictTensor } from './model/official.js';
export { DiscoModel, type DiscoEncoding, type DiscoForwardOptions, type DiscoOutputs, type AnchorColorSource } from './model/disco.js';
export { BaselineModel, asDiscoModel, createColorizationModel, isBaselineModel, type BaselineArch, type BaselineOutputs, type ColorizationModel } from './model/baseline.js';
export type { ParamCounts } from './model/params.js';
export { rebalancedCrossEntropy, softRebalancedCrossEntropy, perceptualLoss, laplacian, laplacianL1 } from './model/losses.js';
export {
  loadFrozenModel,
  cutFrozenModel,
  registerFrozenNetwork,
  loadFrozenNetwork,
  unloadFrozenNetwork,
  frozenNetwork,
  type FrozenNetwork,
  type FrozenNetworkSource,
} from './model/frozen.js';
export { DEFAULT_MODEL, EMBEDDED_MODELS, type EmbeddedModelName } from './model/embedded.js';
export { PERCEPTUAL_NETWORKS, loadPerceptualNetwork, type PerceptualNetworkSpec } from './model/perceptual.js';
export { createPretrainedFeatures, loadPretrainedFeatures, pretrainedLayerName, pretrainedChannels, pretrainedInput, resizeToGrid } from './model/pretrained.js';
export { colorizeL, edgePad, guidedChromaOptions, COLORIZE_DEFAULTS, COLORIZE_NO_EXTENSIONS, type ChromaUpsampling, type ColorizeExtensions, type ColorizeOptions, type ColorizeResult } from './model/infer.js';
export { guidedFilter, guidedUpsample, GUIDED_EPS_DEFAULT, type GuidedFilterOptions } from './model/guided.js';
export { composeRgb8, BAND_PIXELS, type ComposeOptions } from './io/banded.js';
export { serializeDiscoModel, deserializeDiscoModel, DISCO_MODEL_FORMAT, type DiscoModelJson } from './model/serialize.js';
export {
  Stage2Trainer,
  stage2Loss,
  stage2Forward,
  softClassTargets,
  stage2LearningRate,
  resolveStage2Options,
  STAGE2_DEFAULTS,
  STAGE2_NO_EXTENSIONS,
  type Stage2Options,
  type Stage2OptionsOverrides,
  type Stage2Extensions,
  type Stage2Batch,
  type Stage2Losses,
  type OptimizerWeights,
} from './train/stage2.js';
export { TRAIN_DEFAULTS, perceptualWeightFor, type TrainDefaults } from './train/defaults.js';
export { RECIPES, TINY_RECIPE, TINY_PF_RECIPE, PAPER_RECIPE, checkRecipe, freezeRecipe, recipeConfig, type RecipeExtensions, type RecipeModel, type RecipeOptions, type TrainRecipe } from './recipes/index.js';
