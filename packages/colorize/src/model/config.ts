/**
 * The DISCO model configuration: data, not code branches. Presets `paper` and `tiny`; ablations
 * are whole-block swaps chosen here and applied at assembly ({@link DiscoModel}).
 */

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
  /**
   * Predict a residual on the generator's decoded colors instead of ab from scratch: the input
   * gains the diffused decoded ab (2 channels) and the output is `decoded + tanh(…)`. The paper's
   * refinement maps features to ab directly (false); with true the anchors' colors reach the
   * pixels through the generator's 313-way prediction even when the refinement is barely trained.
   */
  residual: boolean;
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
  /** Anchor placement: `clustering` (k-means, the paper) or `random`. */
  anchors: 'clustering' | 'random';
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
 *   decoded by the annealed mean at {@link DiscoConfig.decodeTemperature} (0.38 unless given).
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

/** Everything that defines a DISCO model. */
export interface DiscoConfig {
  /**
   * `disco` (the model of Xia et al. 2022; both presets) or a per-pixel baseline on the same
   * backbone: `regression` or `classification` (see {@link DiscoArch}). Baselines use `imageSize`,
   * `backbone`, `decodeTemperature` (classification) and `seed`; the other fields are kept (and
   * validated) but unused, except that a frozen SPixNet of `spixnetPreset` is carried along so
   * that the model files and `--spixnet` loading stay the same.
   */
  arch: DiscoArch;
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
  /** Ablations (paper: clustering anchors, anchor branch on, soft superpixels, refinement on). */
  ablation: AblationConfig;
  /**
   * How an anchor's color enters the generator: `onehot` (the paper's one-hot bin) or `soft`
   * (a Gaussian over the nearest bins, σ = 5 as Zhang et al. 2016's soft encoding, so that
   * neighbouring colors share their embedding and rare bins are not left untrained).
   */
  hintEncoding: 'onehot' | 'soft';
  /**
   * Anchor-color broadcast (an extension beyond the paper, off in both presets' defaults): every
   * token also receives the hint color of its nearest anchor in the color modeler's feature space
   * (`broadcastAnchorColors` of `@disco/anchors`), both as an input and as a log-prior
   * `log(ε + hint)` added to the generator's logits (a copy path). The generator then refines a
   * propagated color instead of having to learn the propagation from K sparse hints.
   */
  hintBroadcast: boolean;
  /**
   * Temperature of the annealed-mean decoding of the generator's logits into superpixel ab
   * (used without refinement and by the residual refinement). 1 is the plain mean; Zhang et al.
   * 2016 use 0.38. The `classification` baseline decodes its per-pixel logits with it; resolving a
   * `classification` config without an explicit value gives 0.38.
   */
  decodeTemperature: number;
  /**
   * Frozen pretrained features fused into the tokens (an extension beyond the paper; `null`, off,
   * in both presets, and the model is then exactly the one without this field). See
   * {@link PretrainedFeaturesConfig}.
   */
  pretrainedFeatures: PretrainedFeaturesConfig | null;
  /**
   * How the stride-2 3×3 convolutions of SPixNet, the backbone and the refinement pad (nine in
   * the paper's plan). `symmetric`: one row and column of zeros on every side, PyTorch's
   * `padding=1` in the published code; `same`: tfjs' `'same'`, which pads only the bottom and
   * right for stride 2. Weights trained with one do not transfer to the other. `paper`:
   * `symmetric`; `tiny` and every model file written before this field existed: `same`.
   */
  padding: 'symmetric' | 'same';
  /**
   * The anchor locator's and the diverse sampler's rules at inference.
   *
   * - `published` (the released code of Xia et al.): k-means from K distinct tokens drawn
   *   uniformly, an empty cluster re-seeded with a random token, stopping when
   *   `(Σ_k ‖Δc_k‖)² < 1e-4` or after 20 passes, returning the assignment computed at the start
   *   of the last pass; the anchor of an empty cluster is the globally largest token (an anchor
   *   may repeat); variant T = 2 maximises `d(c, c₀) + d(c, c₁)`.
   * - `distinct` (this project's variant): greedy k-means++ initialisation, empty clusters
   *   re-seeded with the farthest tokens, stopping when no centre moves by more than 1e-4 (at
   *   most 50 passes), K distinct anchors, and T = 2 maximising `min(d(c, c₀), d(c, c₁))`.
   *
   * `paper`: `published`; `tiny` and model files written before this field existed: `distinct`.
   */
  anchorRules: 'published' | 'distinct';
  /** Seed of weight initialisation. */
  seed: number;
}

/** The paper's model: 256², S = 16, K = 8, full widths, 6 + 6 transformer layers. */
export const PAPER_CONFIG: Readonly<DiscoConfig> = deepFreeze({
  arch: 'disco',
  imageSize: 256,
  cellSize: 16,
  anchors: 8,
  spixnetPreset: 'paper',
  backbone: { widths: [64, 128, 256, 512], convs: [2, 3, 3, 3], extraStages: 3, extraConvs: 3, outChannels: 64 },
  transformer: { layers: 6, heads: 8, dff: 256, dropout: 0.1 },
  refinement: { widths: [64, 128, 256], residualBlocks: 3, residual: false },
  ablation: { anchors: 'clustering', anchorBranch: true, superpixels: 'soft', refinement: true },
  hintEncoding: 'onehot',
  hintBroadcast: false,
  decodeTemperature: 1,
  pretrainedFeatures: null,
  padding: 'symmetric',
  anchorRules: 'published',
  seed: 0,
});

/** A CPU-sized model: 64², S = 8 (64 tokens), narrow widths, 2 + 2 transformer layers. */
export const TINY_CONFIG: Readonly<DiscoConfig> = deepFreeze({
  arch: 'disco',
  imageSize: 64,
  cellSize: 8,
  anchors: 8,
  spixnetPreset: 'tiny',
  backbone: { widths: [16, 32, 64, 96], convs: [1, 2, 2, 2], extraStages: 1, extraConvs: 2, outChannels: 32 },
  transformer: { layers: 2, heads: 4, dff: 128, dropout: 0.1 },
  refinement: { widths: [16, 32, 64], residualBlocks: 1, residual: false },
  ablation: { anchors: 'clustering', anchorBranch: true, superpixels: 'soft', refinement: true },
  hintEncoding: 'onehot',
  hintBroadcast: false,
  decodeTemperature: 1,
  pretrainedFeatures: null,
  padding: 'same',
  anchorRules: 'distinct',
  seed: 0,
});

/** Named presets. */
export const DISCO_PRESETS: Readonly<Record<'paper' | 'tiny', Readonly<DiscoConfig>>> = Object.freeze({ paper: PAPER_CONFIG, tiny: TINY_CONFIG });

/** A partial config: any field may be omitted; nested objects merge field by field. */
export type DiscoConfigOverrides = Partial<Omit<DiscoConfig, 'backbone' | 'transformer' | 'refinement' | 'ablation' | 'pretrainedFeatures'>> & {
  /** `null` (off) or the fields to change from {@link PRETRAINED_FEATURES_DEFAULTS}. */
  pretrainedFeatures?: Partial<PretrainedFeaturesConfig> | null;
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
  if (typeof given !== 'object' || Array.isArray(given)) throw new Error(`resolveDiscoConfig: pretrainedFeatures must be null or an object (got ${JSON.stringify(given)})`);
  rejectUnknown('pretrainedFeatures.', given, PRETRAINED_FEATURES_DEFAULTS);
  const p: PretrainedFeaturesConfig = { ...PRETRAINED_FEATURES_DEFAULTS, ...given };
  oneOf('pretrainedFeatures.network', p.network, PRETRAINED_NETWORKS);
  oneOf('pretrainedFeatures.layer', p.layer, Object.keys(PRETRAINED_LAYERS) as PretrainedFeaturesConfig['layer'][]);
  if (!Number.isInteger(p.inputSize) || p.inputSize < 75) throw new Error(`resolveDiscoConfig: pretrainedFeatures.inputSize must be an integer ≥ 75 (got ${p.inputSize})`);
  return p;
}

/**
 * Completes and validates a config: starts from a preset (default `tiny`), merges overrides field
 * by field, rejects unknown keys, and checks ranges (image size a multiple of 8 and of S, head
 * count dividing the width, …). Pure: never mutates its arguments.
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
    pretrainedFeatures: resolvePretrained(overrides.pretrainedFeatures === undefined ? base.pretrainedFeatures : overrides.pretrainedFeatures),
  };
  c.backbone = { ...c.backbone, widths: [...c.backbone.widths] as BackboneConfig['widths'], convs: [...c.backbone.convs] as BackboneConfig['convs'] };
  c.refinement = { ...c.refinement, widths: [...c.refinement.widths] as RefinementConfig['widths'] };
  oneOf('arch', c.arch, DISCO_ARCHS);
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
  oneOf('ablation.anchors', c.ablation.anchors, ['clustering', 'random'] as const);
  oneOf('ablation.superpixels', c.ablation.superpixels, ['soft', 'hard'] as const);
  oneOf('ablation.anchorBranch', c.ablation.anchorBranch, [true, false]);
  oneOf('ablation.refinement', c.ablation.refinement, [true, false]);
  oneOf('refinement.residual', c.refinement.residual, [true, false]);
  oneOf('hintEncoding', c.hintEncoding, ['onehot', 'soft'] as const);
  oneOf('hintBroadcast', c.hintBroadcast, [true, false]);
  oneOf('padding', c.padding, ['symmetric', 'same'] as const);
  oneOf('anchorRules', c.anchorRules, ['published', 'distinct'] as const);
  if (c.arch === 'classification' && overrides.decodeTemperature === undefined) c.decodeTemperature = ZHANG_ANNEALED_MEAN_TEMPERATURE;
  if (!(c.decodeTemperature > 0 && c.decodeTemperature <= 1)) throw new Error(`resolveDiscoConfig: decodeTemperature must be in (0, 1] (got ${c.decodeTemperature})`);
  if (!Number.isInteger(c.seed)) throw new Error(`resolveDiscoConfig: seed must be an integer (got ${c.seed})`);
  return c;
}

/** Values of fields a stored config may lack because it was written before they existed: the behaviour of that time. */
const STORED_CONFIG_LEGACY: Readonly<Pick<DiscoConfig, 'padding' | 'anchorRules'>> = Object.freeze({ padding: 'same', anchorRules: 'distinct' });

/**
 * A config read back from a model file or checkpoint, completed with the defaults of fields added
 * since it was written (e.g. `arch`, `pretrainedFeatures`) and validated. The preset supplying the
 * defaults is `paper` for a 256² / S = 16 config, else `tiny`; `padding` and `anchorRules`, when
 * missing, take the behaviour of the time before they existed (`same`, `distinct`), so such a file
 * computes exactly what it computed when it was written.
 *
 * @example
 * ```ts
 * const config = resolveStoredConfig(JSON.parse(fs.readFileSync('disco-model.json', 'utf8')).config);
 * ```
 */
export function resolveStoredConfig(stored: DiscoConfigOverrides): DiscoConfig {
  return resolveDiscoConfig({ ...STORED_CONFIG_LEGACY, ...stored, ...withoutSource(stored.pretrainedFeatures) }, stored.imageSize === 256 && stored.cellSize === 16 ? 'paper' : 'tiny');
}

/**
 * Files written while `pretrainedFeatures` had a `source` field (`model-input`, the default, or
 * `photo`, a trial not adopted and since removed) store it: `model-input` is what every model
 * computes now, so it is dropped; `photo` is refused by name.
 */
function withoutSource(pf: DiscoConfigOverrides['pretrainedFeatures']): Pick<DiscoConfigOverrides, 'pretrainedFeatures'> {
  if (!pf || typeof pf !== 'object' || !('source' in pf)) return {};
  const { source, ...rest } = pf as Partial<PretrainedFeaturesConfig> & { source?: unknown };
  if (source !== 'model-input') throw new Error(`resolveStoredConfig: pretrainedFeatures.source '${String(source)}' is no longer supported (only the model's own input, 'model-input', was adopted)`);
  return { pretrainedFeatures: rest };
}
