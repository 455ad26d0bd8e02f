/**
 * `@disco/anchors`: DISCO's anchor locator (Xia et al., ACM TOG 2022, §3: the anchor locator).
 *
 * - {@link kmeans} / {@link initCentroids}: batched, seeded k-means over token features `[B, T, C]`;
 *   {@link kmeansPublished}: the released DISCO code's k-means, rule for rule.
 * - {@link locateAnchors} / {@link selectAnchors} / {@link randomAnchors}: K anchors per image as
 *   indices `[B, K]` and a hint mask `[B, h, w, 1]`.
 * - {@link sampleAnchorColors} / {@link groundTruthAnchorColors} / {@link anchorHints}: anchor
 *   colors and the one-hot hints `[B, h, w, 313]` for the color generator.
 * - {@link applyUserAnchors}: anchors placed and colored by a person.
 *
 * Everything is parameter-free, seeded and gradient-free; browser-safe (tfjs-core only).
 *
 * @packageDocumentation
 */
export {
  KMEANS_DEFAULTS,
  KMEANS_INITS,
  KMEANS_METRICS,
  resolveKMeansOptions,
  LOCATOR_DEFAULTS,
  ANCHOR_PLACEMENTS,
  resolveLocatorOptions,
  COLOR_SAMPLING_DEFAULTS,
  COLOR_VARIANTS,
  resolveColorSamplingOptions,
  ANCHOR_RULES,
  DIVERSE_RULES,
  USER_ANCHOR_DEFAULTS,
  USER_ANCHOR_MODES,
  resolveUserAnchorOptions,
  type KMeansOptions,
  type KMeansInit,
  type KMeansMetric,
  type LocatorOptions,
  type AnchorPlacement,
  type AnchorRules,
  type DiverseRule,
  type ColorSamplingOptions,
  type ColorVariant,
  type UserAnchorOptions,
  type UserAnchorMode,
} from './options.js';
export { kmeans, initCentroids, type KMeansResult, type InitOptions } from './kmeans.js';
export { kmeansPublished, PUBLISHED_KMEANS_DEFAULTS, type PublishedKMeansOptions, type PublishedKMeansResult } from './kmeans_published.js';
export { selectAnchors, randomAnchors, locateAnchors, type AnchorSet, type LocatedAnchors } from './select.js';
export { nearestBins, sampleAnchorColors, groundTruthAnchorColors, anchorHints, type AnchorHints } from './colors.js';
export { applyUserAnchors, type UserAnchor, type AnchorUnits } from './user.js';
export { broadcastHints } from './broadcast.js';

/** Package version. */
export const VERSION = '0.1.0';
