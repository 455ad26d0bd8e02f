/**
 * The DISCO model configuration: data, not code branches. Presets `paper` and `tiny`; ablations
 * are whole-block swaps chosen here and applied at assembly ({@link DiscoModel}). Everything the
 * paper's model does not have sits in {@link DiscoConfig.extensions} (empty in `paper`).
 */
import { ANCHOR_PLACEMENTS, type AnchorPlacement } from '@disco/anchors';

/** Backbone layer plan (the VGG-like "ColorProbNet" of the paper's code). */
export interface BackboneConfig {
  /** Widths of the four encoder stages at 1, 1/2, 1/4, 1/8 resolution. Paper `[64,128,256,512]`. */
  widths: [number, number, number, number];
  /** Convolutions per encoder stage. Paper `[2,3,3,3]`. */
  convs: [number, number, number, number];
  /** Extra stages at 1/8 resolution (width `widths[3]`). Paper 3 (conv5–conv7). */
  extraStages: number;
  /** Convolutions per extra stage. Paper 3. */
  extraConvs: number;
  /** Output feature channels (= transformer width). Paper 64. */
  outChannels: number;
}

/** Refinement hourglass layer plan ("HourGlass2"). */
export interface RefinementConfig {
  /** Widths at 1, 1/2, 1/4 resolution. Paper `[64,128,256]`. */
  widths: [number, number, number];
  /** Residual blocks at the bottleneck. Paper 3. */
  residualBlocks: number;
}

/** The two transformer encoders (color modeler and color generator). */
export interface TransformerConfig {
  /** Layers in each encoder. Paper 6. */
  layers: number;
  /** Attention heads. Paper 8. */
  heads: number;
  /** Feed-forward width. Paper 256 (4·d). */
  dff: number;
  /** Dropout. Paper 0.1. */
  dropout: number;
}

/** Ablation switches: whole blocks swapped at assembly. */
export interface AblationConfig {
  /**
   * Anchor placement (`@disco/anchors`' {@link AnchorPlacement}): `cluster` (one anchor per k-means
   * cluster, the paper) or `random` (K positions drawn uniformly, the paper's ablation).
   */
  placement: AnchorPlacement;
  /** Whether the generator sees anchor hints (false: "without anchor branch"). */
  anchorBranch: boolean;
  /** `soft` association from SPixNet, or `hard` (one-hot of its maximum). */
  superpixels: 'soft' | 'hard';
  /** Whether the refinement CNN runs (false: decoded generator colors diffused to pixels). */
  refinement: boolean;
}

/**
 * The architecture a config builds: the DISCO model, or one of two per-pixel baselines on the same
 * backbone ({@link BackboneConfig}) without superpixels, anchors or transformers:
 *
 * - `regression`: a small head maps the backbone features `[B,H,W,d]` to ab `[B,H,W,2]` (tanh,
 *   ab/110), trained with an L1 loss on ab.
 * - `classification`: a small head maps them to 313 logits `[B,H,W,313]` per pixel, trained with
 *   the class-rebalanced cross-entropy of Zhang et al. (ECCV 2016) on soft-encoded targets and
 *   decoded by the annealed mean at {@link DiscoExtensions.decodeTemperature} (0.38 unless given).
 */
export type DiscoArch = 'disco' | 'regression' | 'classification';

/** The valid {@link DiscoArch} values. */
export const DISCO_ARCHS: readonly DiscoArch[] = Object.freeze(['disco', 'regression', 'classification'] as const);

/** Temperature of the annealed mean of Zhang et al. (2016), the `classification` baseline's default. */
export const ZHANG_ANNEALED_MEAN_TEMPERATURE = 0.38;

/** The frozen pretrained networks {@link PretrainedFeaturesConfig.network} may name. */
export const PRETRAINED_NETWORKS: readonly PretrainedFeaturesConfig['network'][] = Object.freeze(['nsfw-inception'] as const);

/**
 * The layers of nsfwjs' InceptionV3 (Szegedy et al., CVPR 2016) that {@link PretrainedFeaturesConfig.layer}
 * may name, with their channel counts: `stem` (the output of the five stem convolutions and the
 * second max pool, 192), `mixed0` (256), `mixed1` (288), `mixed2` (288), all at about 1/8 of the
 * network's input side (35² at 299²); and the deeper, more semantic `mixed3` (the grid reduction,
 * 768), `mixed4` and `mixed5` (768, the 1×7 / 7×1 blocks) at about 1/16 (17² at 299²). `mixed5` is
 * the last block of nsfwjs' network that keeps its ImageNet weights (later ones were fine-tuned on
 * another task), so it is the deepest offered.
 */
export const PRETRAINED_LAYERS: Readonly<Record<PretrainedFeaturesConfig['layer'], number>> = Object.freeze({
  stem: 192,
  mixed0: 256,
  mixed1: 288,
  mixed2: 288,
  mixed3: 768,
  mixed4: 768,
  mixed5: 768,
});

/**
 * Frozen pretrained features (an extension beyond the paper, off — `null` — in both presets): an
 * ImageNet-trained network run on the grey input replicated to RGB, its features resized to the
 * token grid and fused into the tokens that feed the color modeler, the anchor locator and the
 * color generator (see {@link DiscoModel}); in a baseline (`arch` `regression` / `classification`)
 * resized to the pixel grid and fused into the backbone's per-pixel features before the head, so
 * that the baselines can be compared with the same frozen network. The network's weights are never trained nor saved in
 * the model files; they are loaded again, from the network named here, whenever a model is built.
 */
export interface PretrainedFeaturesConfig {
  /** `nsfw-inception`: the InceptionV3 bundled with the `nsfwjs` npm package (needs `@disco/colorize/node`, which registers it). */
  network: 'nsfw-inception';
  /** Last layer run (see {@link PRETRAINED_LAYERS}). Default `mixed2`. */
  layer: 'stem' | 'mixed0' | 'mixed1' | 'mixed2' | 'mixed3' | 'mixed4' | 'mixed5';
  /**
   * Longer side, in pixels, the grey image is resized to before the network (aspect kept, at least
   * 75, the smallest input InceptionV3's valid-padding stem accepts; 75 gives 3² at `mixed3`–`mixed5`). Default 299,
   * the network's training resolution.
   */
  inputSize: number;
}

/** Defaults of a non-null {@link DiscoConfig.pretrainedFeatures} (fields left out of an override). */
export const PRETRAINED_FEATURES_DEFAULTS: Readonly<PretrainedFeaturesConfig> = Object.freeze({ network: 'nsfw-inception', layer: 'mixed2', inputSize: 299 });

/**
 * What the paper's model (Xia et al. 2022, as published) does not have: this project's extensions
 * and variants, each named once. A field left out of {@link DiscoConfig.extensions} takes the
 * paper's behaviour, listed in {@link NO_EXTENSIONS}; the `paper` preset has none, the `tiny`
 * preset the two implementation variants of the models trained before the published code was
 * matched (`padding: 'same'`, `anchorRules: 'distinct'`).
 */
export interface DiscoExtensions {
  /**
   * `disco` (the model of Xia et al. 2022) or a per-pixel baseline on the same backbone:
   * `regression` or `classification` (see {@link DiscoArch}). Baselines use `imageSize`,
   * `backbone`, `decodeTemperature` (classification) and `seed`; the other fields are kept (and
   * validated) but unused, except that a frozen SPixNet of `spixnetPreset` is carried along so
   * that the model files and `--spixnet` loading stay the same. Paper: `disco`.
   */
  arch: DiscoArch;
  /**
   * How an anchor's color enters the generator: `onehot` (the paper's one-hot bin) or `soft`
   * (a Gaussian over the nearest bins, σ = 5 as Zhang et al. 2016's soft encoding, so that
   * neighbouring colors share their embedding and rare bins are not left untrained). Paper: `onehot`.
   */
  hintEncoding: 'onehot' | 'soft';
  /**
   * Hint broadcast: every token also receives the hint color of its nearest anchor in the color
   * modeler's feature space (`broadcastHints` of `@disco/anchors`), both as an input and as a
   * log-prior `log(ε + hint)` added to the generator's logits (a copy path). The generator then
   * refines a propagated color instead of having to learn the propagation from K sparse hints.
   * Paper: false.
   */
  hintBroadcast: boolean;
  /**
   * Residual refinement: the refinement predicts a residual on the generator's decoded colors
   * instead of ab from scratch: its input gains the diffused decoded ab (2 channels) and its
   * output is `decoded + tanh(…)`. With it the anchors' colors reach the pixels through the
   * generator's 313-way prediction even when the refinement is barely trained. Paper: false.
   */
  residualRefinement: boolean;
  /**
   * Temperature of the annealed-mean decoding of the generator's logits into superpixel ab
   * (used without refinement and by the residual refinement). 1 is the plain mean (the paper);
   * Zhang et al. 2016 use 0.38. The `classification` baseline decodes its per-pixel logits with it;
   * left out, it is {@link defaultDecodeTemperature} of the arch (1, or 0.38 for `classification`).
   */
  decodeTemperature: number;
  /**
   * Frozen pretrained features fused into the tokens (see {@link PretrainedFeaturesConfig});
   * `null` (the paper): none, and the model is exactly the one without this field.
   */
  pretrainedFeatures: PretrainedFeaturesConfig | null;
  /**
   * How the stride-2 3×3 convolutions of SPixNet, the backbone and the refinement pad (nine in
   * the paper's plan). `symmetric` (the paper): one row and column of zeros on every side,
   * PyTorch's `padding=1` in the published code; `same`: tfjs' `'same'`, which pads only the
   * bottom and right for stride 2. Weights trained with one do not transfer to the other. `tiny`
   * and every model file written before this field existed: `same`.
   */
  padding: 'symmetric' | 'same';
  /**
   * The anchor locator's and the diverse sampler's rules at inference.
   *
   * - `published` (the paper, as its released code): k-means from K distinct tokens drawn
   *   uniformly, an empty cluster re-seeded with a random token, stopping when
   *   `(Σ_k ‖Δc_k‖)² < 1e-4` or after 20 passes, returning the assignment computed at the start
   *   of the last pass; the anchor of an empty cluster is the globally largest token (an anchor
   *   may repeat); variant T = 2 maximises `d(c, c₀) + d(c, c₁)`.
   * - `distinct` (this project's variant): greedy k-means++ initialisation, empty clusters
   *   re-seeded with the farthest tokens, stopping when no centre moves by more than 1e-4 (at
   *   most 50 passes), K distinct anchors, and T = 2 maximising `min(d(c, c₀), d(c, c₁))`.
   *
   * `tiny` and model files written before this field existed: `distinct`.
   */
  anchorRules: 'published' | 'distinct';
}

/** The paper's behaviour for every {@link DiscoExtensions} field: what a field left out means. */
export const NO_EXTENSIONS: Readonly<DiscoExtensions> = Object.freeze({
  arch: 'disco',
  hintEncoding: 'onehot',
  hintBroadcast: false,
  residualRefinement: false,
  decodeTemperature: 1,
  pretrainedFeatures: null,
  padding: 'symmetric',
  anchorRules: 'published',
});

/** The extension fields a config or override may set; `pretrainedFeatures` merges over {@link PRETRAINED_FEATURES_DEFAULTS}. */
export type DiscoExtensionsOverrides = Partial<Omit<DiscoExtensions, 'pretrainedFeatures'>> & {
  /** `null` (off) or the fields to change from {@link PRETRAINED_FEATURES_DEFAULTS}. */
  pretrainedFeatures?: Partial<PretrainedFeaturesConfig> | null;
};

/** Everything that defines a DISCO model. */
export interface DiscoConfig {
  /** Training / model image size (square). Paper 256. */
  imageSize: number;
  /** Superpixel cell size S. Paper 16. */
  cellSize: number;
  /** Number of anchors K. Paper 8. */
  anchors: number;
  /** SPixNet preset name (see `@disco/superpixel`). */
  spixnetPreset: 'paper' | 'tiny';
  /** Backbone plan. */
  backbone: BackboneConfig;
  /** Transformer plan. */
  transformer: TransformerConfig;
  /** Refinement plan. */
  refinement: RefinementConfig;
  /** The paper's ablations (paper: cluster placement, anchor branch on, soft superpixels, refinement on). */
  ablation: AblationConfig;
  /**
   * What the paper does not have, only the fields that differ from {@link NO_EXTENSIONS} (a
   * resolved config drops the others); `{}` in the `paper` preset. Read a field with
   * {@link extensionsOf}, which fills in the paper's values.
   *
   * @example
   * ```ts
   * resolveDiscoConfig({ extensions: { hintEncoding: 'soft', hintBroadcast: true } }).extensions;
   * // { hintEncoding: 'soft', hintBroadcast: true, padding: 'same', anchorRules: 'distinct' } (tiny preset)
   * ```
   */
  extensions: Partial<DiscoExtensions>;
  /** Seed of weight initialisation. */
  seed: number;
}

/** The paper's model: 256², S = 16, K = 8, full widths, 6 + 6 transformer layers. */
export const PAPER_CONFIG: Readonly<DiscoConfig> = deepFreeze({
  imageSize: 256,
  cellSize: 16,
  anchors: 8,
  spixnetPreset: 'paper',
  backbone: { widths: [64, 128, 256, 512], convs: [2, 3, 3, 3], extraStages: 3, extraConvs: 3, outChannels: 64 },
  transformer: { layers: 6, heads: 8, dff: 256, dropout: 0.1 },
  refinement: { widths: [64, 128, 256], residualBlocks: 3 },
  ablation: { placement: 'cluster', anchorBranch: true, superpixels: 'soft', refinement: true },
  extensions: {},
  seed: 0,
});

/**
 * A CPU-sized model: 64², S = 8 (64 tokens), narrow widths, 2 + 2 transformer layers; it pads and
 * places anchors by this project's earlier rules (`padding: 'same'`, `anchorRules: 'distinct'`).
 */
export const TINY_CONFIG: Readonly<DiscoConfig> = deepFreeze({
  imageSize: 64,
  cellSize: 8,
  anchors: 8,
  spixnetPreset: 'tiny',
  backbone: { widths: [16, 32, 64, 96], convs: [1, 2, 2, 2], extraStages: 1, extraConvs: 2, outChannels: 32 },
  transformer: { layers: 2, heads: 4, dff: 128, dropout: 0.1 },
  refinement: { widths: [16, 32, 64], residualBlocks: 1 },
  ablation: { placement: 'cluster', anchorBranch: true, superpixels: 'soft', refinement: true },
  extensions: { padding: 'same', anchorRules: 'distinct' },
  seed: 0,
});

/** Named presets. */
export const DISCO_PRESETS: Readonly<Record<'paper' | 'tiny', Readonly<DiscoConfig>>> = Object.freeze({ paper: PAPER_CONFIG, tiny: TINY_CONFIG });

/** A partial config: any field may be omitted; nested objects merge field by field. */
export type DiscoConfigOverrides = Partial<Omit<DiscoConfig, 'backbone' | 'transformer' | 'refinement' | 'ablation' | 'extensions'>> & {
  /** Extensions to change from the preset's, field by field. */
  extensions?: DiscoExtensionsOverrides;
  backbone?: Partial<BackboneConfig>;
  transformer?: Partial<TransformerConfig>;
  refinement?: Partial<RefinementConfig>;
  ablation?: Partial<AblationConfig>;
};

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function rejectUnknown(where: string, given: object, known: object): void {
  for (const k of Object.keys(given)) {
    if (!(k in known)) throw new Error(`resolveDiscoConfig: unknown key '${where}${k}'; valid: ${Object.keys(known).join(', ')}`);
  }
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`resolveDiscoConfig: ${name} must be a positive integer (got ${v})`);
}

function oneOf<T>(name: string, v: T, valid: readonly T[]): void {
  if (!valid.includes(v)) throw new Error(`resolveDiscoConfig: ${name} must be one of ${valid.join(', ')} (got ${String(v)})`);
}

function resolvePretrained(given: Partial<PretrainedFeaturesConfig> | null | undefined): PretrainedFeaturesConfig | null {
  if (given === null || given === undefined) return null;
  if (typeof given !== 'object' || Array.isArray(given)) throw new Error(`resolveDiscoConfig: extensions.pretrainedFeatures must be null or an object (got ${JSON.stringify(given)})`);
  rejectUnknown('extensions.pretrainedFeatures.', given, PRETRAINED_FEATURES_DEFAULTS);
  const p: PretrainedFeaturesConfig = { ...PRETRAINED_FEATURES_DEFAULTS, ...given };
  oneOf('extensions.pretrainedFeatures.network', p.network, PRETRAINED_NETWORKS);
  oneOf('extensions.pretrainedFeatures.layer', p.layer, Object.keys(PRETRAINED_LAYERS) as PretrainedFeaturesConfig['layer'][]);
  if (!Number.isInteger(p.inputSize) || p.inputSize < 75) throw new Error(`resolveDiscoConfig: extensions.pretrainedFeatures.inputSize must be an integer ≥ 75 (got ${p.inputSize})`);
  return p;
}

/** The decode temperature of an arch when none is given: 0.38 ({@link ZHANG_ANNEALED_MEAN_TEMPERATURE}) for `classification`, else 1 (the paper's plain mean). */
export function defaultDecodeTemperature(arch: DiscoArch): number {
  return arch === 'classification' ? ZHANG_ANNEALED_MEAN_TEMPERATURE : NO_EXTENSIONS.decodeTemperature;
}

/**
 * Every extension field of `config`, the ones it leaves out taking the paper's value
 * ({@link NO_EXTENSIONS}; `decodeTemperature`: {@link defaultDecodeTemperature} of its arch).
 *
 * @example
 * ```ts
 * extensionsOf(PAPER_CONFIG).hintBroadcast; // false
 * ```
 */
export function extensionsOf(config: Pick<DiscoConfig, 'extensions'>): DiscoExtensions {
  const arch = config.extensions.arch ?? NO_EXTENSIONS.arch;
  return { ...NO_EXTENSIONS, decodeTemperature: defaultDecodeTemperature(arch), ...config.extensions };
}

/** Validates merged extension overrides; returns only the fields that differ from the paper (canonical). */
function resolveExtensions(given: DiscoExtensionsOverrides): Partial<DiscoExtensions> {
  rejectUnknown('extensions.', given, NO_EXTENSIONS);
  const e: DiscoExtensions = { ...extensionsOf({ extensions: { ...given, pretrainedFeatures: null } }), pretrainedFeatures: resolvePretrained(given.pretrainedFeatures) };
  oneOf('extensions.arch', e.arch, DISCO_ARCHS);
  oneOf('extensions.hintEncoding', e.hintEncoding, ['onehot', 'soft'] as const);
  oneOf('extensions.hintBroadcast', e.hintBroadcast, [true, false]);
  oneOf('extensions.residualRefinement', e.residualRefinement, [true, false]);
  oneOf('extensions.padding', e.padding, ['symmetric', 'same'] as const);
  oneOf('extensions.anchorRules', e.anchorRules, ['published', 'distinct'] as const);
  if (!(e.decodeTemperature > 0 && e.decodeTemperature <= 1)) throw new Error(`resolveDiscoConfig: extensions.decodeTemperature must be in (0, 1] (got ${e.decodeTemperature})`);
  const paper = { ...NO_EXTENSIONS, decodeTemperature: defaultDecodeTemperature(e.arch) };
  const out: Partial<DiscoExtensions> = {};
  for (const k of Object.keys(NO_EXTENSIONS) as (keyof DiscoExtensions)[]) {
    if (e[k] !== paper[k]) (out as Record<string, unknown>)[k] = e[k];
  }
  return out;
}

/**
 * Completes and validates a config: starts from a preset (default `tiny`), merges overrides field
 * by field (also inside `extensions`), rejects unknown keys, and checks ranges (image size a
 * multiple of 8 and of S, head count dividing the width, …). Extensions equal to the paper's
 * behaviour are dropped, so equal models have equal configs. Pure: never mutates its arguments.
 *
 * @example
 * ```ts
 * const config = resolveDiscoConfig({ anchors: 16, extensions: { hintBroadcast: true } }, 'paper');
 * ```
 */
export function resolveDiscoConfig(overrides: DiscoConfigOverrides = {}, preset: 'paper' | 'tiny' = 'tiny'): DiscoConfig {
  oneOf('preset', preset, ['paper', 'tiny'] as const);
  const base = DISCO_PRESETS[preset];
  rejectUnknown('', overrides, base);
  for (const key of ['backbone', 'transformer', 'refinement', 'ablation'] as const) {
    if (overrides[key] !== undefined) rejectUnknown(`${key}.`, overrides[key]!, base[key]);
  }
  const c: DiscoConfig = {
    ...base,
    ...overrides,
    backbone: { ...base.backbone, ...overrides.backbone } as BackboneConfig,
    transformer: { ...base.transformer, ...overrides.transformer },
    refinement: { ...base.refinement, ...overrides.refinement } as RefinementConfig,
    ablation: { ...base.ablation, ...overrides.ablation },
    extensions: resolveExtensions({ ...base.extensions, ...overrides.extensions }),
  };
  c.backbone = { ...c.backbone, widths: [...c.backbone.widths] as BackboneConfig['widths'], convs: [...c.backbone.convs] as BackboneConfig['convs'] };
  c.refinement = { ...c.refinement, widths: [...c.refinement.widths] as RefinementConfig['widths'] };
  positiveInt('imageSize', c.imageSize);
  positiveInt('cellSize', c.cellSize);
  positiveInt('anchors', c.anchors);
  if (c.imageSize % 8 !== 0) throw new Error(`resolveDiscoConfig: imageSize must be a multiple of 8 (the backbone goes to 1/8), got ${c.imageSize}`);
  if (c.imageSize % c.cellSize !== 0) throw new Error(`resolveDiscoConfig: imageSize ${c.imageSize} must be a multiple of cellSize ${c.cellSize}`);
  const tokens = (c.imageSize / c.cellSize) ** 2;
  if (c.anchors > tokens) throw new Error(`resolveDiscoConfig: anchors ${c.anchors} exceeds the ${tokens} superpixels`);
  oneOf('spixnetPreset', c.spixnetPreset, ['paper', 'tiny'] as const);
  if (c.backbone.widths.length !== 4 || c.backbone.convs.length !== 4) throw new Error('resolveDiscoConfig: backbone.widths and backbone.convs need 4 entries');
  c.backbone.widths.forEach((w, i) => positiveInt(`backbone.widths[${i}]`, w));
  c.backbone.convs.forEach((w, i) => positiveInt(`backbone.convs[${i}]`, w));
  if (!Number.isInteger(c.backbone.extraStages) || c.backbone.extraStages < 0) throw new Error(`resolveDiscoConfig: backbone.extraStages must be ≥ 0 (got ${c.backbone.extraStages})`);
  positiveInt('backbone.extraConvs', c.backbone.extraConvs);
  positiveInt('backbone.outChannels', c.backbone.outChannels);
  positiveInt('transformer.layers', c.transformer.layers);
  positiveInt('transformer.heads', c.transformer.heads);
  positiveInt('transformer.dff', c.transformer.dff);
  if (c.backbone.outChannels % c.transformer.heads !== 0) throw new Error(`resolveDiscoConfig: transformer.heads ${c.transformer.heads} must divide backbone.outChannels ${c.backbone.outChannels}`);
  if (c.backbone.outChannels % 4 !== 0) throw new Error(`resolveDiscoConfig: backbone.outChannels must be a multiple of 4 (2-D sine encoding), got ${c.backbone.outChannels}`);
  if (!(c.transformer.dropout >= 0 && c.transformer.dropout < 1)) throw new Error(`resolveDiscoConfig: transformer.dropout must be in [0, 1) (got ${c.transformer.dropout})`);
  c.refinement.widths.forEach((w, i) => positiveInt(`refinement.widths[${i}]`, w));
  if (!Number.isInteger(c.refinement.residualBlocks) || c.refinement.residualBlocks < 0) throw new Error(`resolveDiscoConfig: refinement.residualBlocks must be ≥ 0`);
  oneOf('ablation.placement', c.ablation.placement, ANCHOR_PLACEMENTS);
  oneOf('ablation.superpixels', c.ablation.superpixels, ['soft', 'hard'] as const);
  oneOf('ablation.anchorBranch', c.ablation.anchorBranch, [true, false]);
  oneOf('ablation.refinement', c.ablation.refinement, [true, false]);
  if (!Number.isInteger(c.seed)) throw new Error(`resolveDiscoConfig: seed must be an integer (got ${c.seed})`);
  return c;
}

/** The flat fields of configs written before {@link DiscoConfig.extensions} existed, now extensions. */
const FLAT_EXTENSION_FIELDS = ['arch', 'hintEncoding', 'hintBroadcast', 'decodeTemperature', 'pretrainedFeatures', 'padding', 'anchorRules'] as const;

/**
 * The overrides that rebuild a stored config (a model file's or checkpoint's `config`) in today's
 * shape, computing what it computed when written:
 *
 * - grouped configs (with `extensions`, written since it exists) are complete: every extension
 *   they leave out is the paper's ({@link NO_EXTENSIONS}), whatever the preset;
 * - flat configs (written before): `arch`, `hintEncoding`, `hintBroadcast`, `decodeTemperature`,
 *   `pretrainedFeatures`, `padding` and `anchorRules` move into `extensions`,
 *   `refinement.residual` becomes `extensions.residualRefinement`, and `padding` / `anchorRules`,
 *   when missing, take the behaviour of the time before they existed (`same`, `distinct`);
 * - `ablation.anchors` (`clustering` | `random`) becomes `ablation.placement` (`cluster` | `random`);
 * - `pretrainedFeatures.source: 'model-input'` (a field since removed) is dropped, `photo` refused.
 *
 * @example
 * ```ts
 * migrateStoredConfig({ imageSize: 64, hintBroadcast: true, refinement: { residual: true } });
 * // { imageSize: 64, refinement: {}, extensions: { padding: 'same', anchorRules: 'distinct', hintBroadcast: true, residualRefinement: true } }
 * ```
 */
export function migrateStoredConfig(config: object): DiscoConfigOverrides {
  const stored = config as Readonly<Record<string, unknown>>;
  const out: Record<string, unknown> = { ...stored };
  let ext: Record<string, unknown>;
  if ('extensions' in stored) {
    const { decodeTemperature: _default, ...paper } = NO_EXTENSIONS;
    ext = { ...paper, ...(stored.extensions as object) };
  } else {
    ext = { padding: 'same', anchorRules: 'distinct' };
    for (const k of FLAT_EXTENSION_FIELDS) {
      if (k in stored) ext[k] = stored[k];
      delete out[k];
    }
    const refinement = stored.refinement as Record<string, unknown> | undefined;
    if (refinement && 'residual' in refinement) {
      const { residual, ...rest } = refinement;
      out.refinement = rest;
      ext.residualRefinement = residual;
    }
  }
  const ablation = stored.ablation as Record<string, unknown> | undefined;
  if (ablation && 'anchors' in ablation) {
    const { anchors, ...rest } = ablation;
    out.ablation = { ...rest, placement: anchors === 'clustering' ? 'cluster' : anchors };
  }
  out.extensions = { ...ext, ...withoutSource(ext.pretrainedFeatures as DiscoExtensionsOverrides['pretrainedFeatures']) };
  return out as DiscoConfigOverrides;
}

/**
 * A config read back from a model file or checkpoint ({@link migrateStoredConfig}), completed
 * with the defaults of fields added since it was written and validated. The preset supplying the
 * defaults is `paper` for a 256² / S = 16 config, else `tiny`.
 *
 * @example
 * ```ts
 * const config = resolveStoredConfig(JSON.parse(fs.readFileSync('disco-model.json', 'utf8')).config);
 * ```
 */
export function resolveStoredConfig(stored: object): DiscoConfig {
  const { imageSize, cellSize } = stored as Partial<DiscoConfig>;
  return resolveDiscoConfig(migrateStoredConfig(stored), imageSize === 256 && cellSize === 16 ? 'paper' : 'tiny');
}

/**
 * Files written while `pretrainedFeatures` had a `source` field (`model-input`, the default, or
 * `photo`, a trial not adopted and since removed) store it: `model-input` is what every model
 * computes now, so it is dropped; `photo` is refused by name.
 */
function withoutSource(pf: DiscoExtensionsOverrides['pretrainedFeatures']): Pick<DiscoExtensionsOverrides, 'pretrainedFeatures'> {
  if (!pf || typeof pf !== 'object' || !('source' in pf)) return {};
  const { source, ...rest } = pf as Partial<PretrainedFeaturesConfig> & { source?: unknown };
  if (source !== 'model-input') throw new Error(`resolveStoredConfig: pretrainedFeatures.source '${String(source)}' is no longer supported (only the model's own input, 'model-input', was adopted)`);
  return { pretrainedFeatures: rest };
}
