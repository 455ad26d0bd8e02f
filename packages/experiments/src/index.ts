/**
 * `@disco/experiments`: the DISCO paper's evaluation metrics — colorfulness, FID, KID and
 * Inception Score — as pure float64 functions over images and feature sets (browser-safe).
 * The Node-only feature networks and the `eval-fid` command live in `@disco/experiments/node`.
 *
 * @packageDocumentation
 */
export { colorfulness, meanColorfulness, summarizeColorfulness, type RgbImage, type ColorfulnessSummary } from './metrics/colorfulness.js';
export { featureMatrix, featureMean, featureStatistics, covarianceFactor, checkFeatures, type FeatureMatrix, type FeatureStatistics } from './metrics/features.js';
export {
  frechetInceptionDistance,
  frechetDistance,
  resolveFidOptions,
  FID_DEFAULTS,
  FID_METHODS,
  type FidOptions,
  type FidMethod,
  type FidResult,
} from './metrics/fid.js';
export { kernelInceptionDistance, polynomialMmd2, resolveKidOptions, KID_DEFAULTS, type KidOptions, type KidResult } from './metrics/kid.js';
export {
  inceptionScore,
  resolveInceptionScoreOptions,
  INCEPTION_SCORE_DEFAULTS,
  type InceptionScoreOptions,
  type InceptionScoreResult,
  softmaxRows,
} from './metrics/inception_score.js';
export {
  FidInception,
  FID_INCEPTION_BLOCKS,
  FID_INCEPTION_CONVS,
  FID_INCEPTION_STAGES,
  FID_INCEPTION_CLASSES,
  FID_INCEPTION_FEATURES,
  FID_INCEPTION_SIZE,
  FID_INCEPTION_DEFAULTS,
  resolveFidInceptionOptions,
  fidInceptionKeys,
  checkFidInceptionStateDict,
  avgPool3x3,
  type FidInceptionOptions,
  type FidInceptionStage,
  type BasicConvSpec,
  type MixedBlockSpec,
  type PoolKind,
  type StateTensorLike,
} from './metrics/fid_inception.js';
export { fidInceptionInput, resizeBilinearTorch, type Rgb8Image } from './metrics/fid_preprocess.js';

/** Package version. */
export const VERSION = '0.1.0';
export { abAccuracy, blockiness, colorShares, ClassErrorHistogram, AUC_MAX_THRESHOLD, type AbAccuracy, type ColorShares } from './metrics/ab.js';
export {
  gridStats,
  ablationStats,
  testTimeKStats,
  summarize,
  welchInterval,
  pairedInterval,
  bootstrapInterval,
  studentTQuantile,
  studentTCdf,
  normalQuantile,
  expectedSign,
  verdictOf,
  resolveIntervalOptions,
  type Summary,
  type Difference,
  type IntervalMethod,
  type IntervalOptions,
  type Verdict,
  type MetricStats,
  type VariantStats,
  type ClaimCheck,
  type AblationStats,
  type TestTimeKStats,
  type GridStats,
} from './report/stats.js';
export { renderMarkdown, type MarkdownOptions } from './report/markdown.js';
export { renderHtml, chartSpecs, type HtmlOptions, type ChartSpec } from './report/html.js';
