/**
 * The trained models shipped inside `@disco/colorize` (`models/<name>/`, each with a
 * `MODEL_CARD.md`) and the default one. Browser-safe, so the CLI (`npx disco colorize`),
 * `loadPretrained()` and the demo read the same default from here.
 */

/** Names of the embedded models: `tiny` (64² input, 8 anchors) and `tiny-pf` (the same with frozen InceptionV3 features). */
export const EMBEDDED_MODELS = Object.freeze(['tiny', 'tiny-pf'] as const);

/** Name of a model in {@link EMBEDDED_MODELS}. */
export type EmbeddedModelName = (typeof EMBEDDED_MODELS)[number];

/**
 * The default model wherever no model is named: the embedded model that leads by class-rebalanced
 * AuC on the 102 held-out photos (Zhang et al. 2016, §3.1; `experiments:score`, numbers in
 * `models/tiny-pf/MODEL_CARD.md`). A user's own published `paper` checkpoint (`--model
 * disco-beta.pth.tar`) is better than either; it is never found implicitly, so name it.
 */
export const DEFAULT_MODEL: EmbeddedModelName = 'tiny-pf';
