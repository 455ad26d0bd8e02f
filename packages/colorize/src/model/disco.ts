/**
 * The assembled DISCO model (Xia et al. 2022, §3): SPixNet (frozen) → backbone → SP-pool → color modeler
 * → anchor locator → color generator → SP-diffuse → refinement. Ablations swap whole blocks here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { model as tflModel } from '@tensorflow/tfjs-layers';
import { anchorHints, applyUserAnchors, broadcastHints, groundTruthAnchorColors, locateAnchors, sampleAnchorColors, type AnchorHints, type LocatedAnchors, type UserAnchor, type ColorVariant } from '@disco/anchors';
import { diffuse, hardAssociation, pool, SpixNet, superpixelSizes } from '@disco/superpixel';
import { Encoder, Linear, sinePositionEncoding2D } from '@disco/transformer';
import { AbQuantizer, NUM_AB_BINS } from '@disco/color';
import { AB_SCALE } from '@disco/color';
import { runNetwork } from '@disco/runtime';
import { extensionsOf, type DiscoConfig, type DiscoExtensions } from './config.js';
import { buildBackbone, buildRefinement } from './networks.js';
import { layerParams, moduleParams, ParameterTableModel, type ParamBlock, type ParamCounts, type ParamEntry } from './params.js';
import type { FrozenNetwork } from './frozen.js';
import { createPretrainedFeatures, pretrainedInput, resizeToGrid } from './pretrained.js';

/** Floor ε of the copy path's log-prior `log(ε + hint)` (see {@link DiscoExtensions.hintBroadcast}). */
export const COPY_PRIOR_FLOOR = 1e-3;

/** How the anchor colors are chosen in {@link DiscoModel.forward}. */
export type AnchorColorSource =
  /** The ground-truth color bin of each anchor token (training; needs `ab`). */
  | { kind: 'groundTruth' }
  /** Sampled from the modeler's distribution: variant 0, 1 or 2 (Xia et al. 2022, §3). */
  | { kind: 'sampled'; variant: ColorVariant }
  /**
   * The bin nearest to the modeler's annealed-mean color at each anchor (temperature
   * `temperature`, default `extensions.decodeTemperature`): a hedged single result instead of the
   * most probable bin. Lower temperatures approach the most probable bin.
   */
  | { kind: 'expected'; temperature?: number };

/** Options of {@link DiscoModel.forward}. */
export interface DiscoForwardOptions {
  /** Training mode: dropout and batch-norm statistics. Default false. */
  training?: boolean;
  /** Anchor colors. Default ground truth when `ab` is given, else sampled variant 0. */
  colors?: AnchorColorSource;
  /**
   * Which features the locator clusters: `colors` (ground-truth superpixel colors, as in training)
   * or `modeler` (the color modeler's output features, as at inference). Default `colors` when
   * `ab` is given, else `modeler`.
   */
  locateOn?: 'colors' | 'modeler';
  /** Number of anchors; default the config's K. */
  anchors?: number;
  /** Seed of the k-means initialisation / random placement. Default 0. */
  seed?: number;
  /**
   * With `anchorRules: 'published'`: the initial k-means centre tokens of each image, `[B][K]`,
   * instead of drawing them (e.g. the draws recorded from the published code, for parity).
   */
  kmeansInit?: readonly (readonly number[])[];
  /** User anchors per image, ab in Lab units (replace or merge with located ones; see `@disco/anchors`). */
  userAnchors?: readonly (readonly UserAnchor[])[];
  /** With `userAnchors`: `replace` the located anchors (default) or `merge` with them. */
  userMode?: 'replace' | 'merge';
  /** Withhold every hint from the generator (mask and colors zero), e.g. to measure what the hints add. Default false. */
  dropHints?: boolean;
  /**
   * Post-hoc class rebalancing of the predicted anchor colors (an extension beyond the paper):
   * the modeler's logits gain `α · log w(c)`, with `w` Zhang et al.'s rebalancing weights (λ 0.5),
   * before the most probable bin, the annealed mean or a sample is taken. A model trained without
   * rebalancing (`--no-rebalance`) is calibrated; α then trades accuracy (0) for the rarer,
   * saturated colors that training-time rebalancing favours (≈ 1) — at inference time, as a logit
   * adjustment for a long-tailed label prior. A model trained *with* rebalancing learnt
   * p(c) ∝ w(c)·p_true(c) (the minimiser of the weighted cross-entropy), so α ∈ [−1, 0) moves it
   * back towards calibrated, α = −1 undoing the weights entirely. α ≥ −1; default 0 (off).
   * Ground-truth colors ignore it.
   */
  anchorRebalance?: number;
  /**
   * Inference only: {@link DiscoModel.encode}'s result for this `L`, so steps 1–4 are not computed
   * again (another anchor-color variant, or other user anchors, of the same image). Not disposed.
   */
  encoded?: DiscoEncoding;
}

/** What {@link DiscoModel.encode} computes: everything before the anchors. The caller owns (and disposes) every tensor. */
export interface DiscoEncoding {
  /** Association `[B,H,W,9]`. */
  association: tf.Tensor4D;
  /** Superpixel tokens `[B,h·w,d]`. */
  tokens: tf.Tensor3D;
  /** The color modeler's features `[B,h·w,d]`. */
  features: tf.Tensor3D;
  /** The color modeler's logits `[B,h,w,313]`. */
  logits: tf.Tensor4D;
}

/** Everything {@link DiscoModel.forward} computes. The caller owns (and disposes) every tensor. */
export interface DiscoOutputs {
  /** Soft (or hard) association `[B,H,W,9]`. */
  association: tf.Tensor4D;
  /** Superpixel colors pooled from the input ab, `[B,h,w,2]` (ab/110), or null without `ab`. */
  superpixelColors: tf.Tensor4D | null;
  /** Nearest-bin class of each superpixel color `[B,h,w]` int32, or null without `ab`. */
  targetClasses: tf.Tensor3D | null;
  /** Color modeler logits `[B,h,w,313]`. */
  modelerLogits: tf.Tensor4D;
  /** Color generator logits `[B,h,w,313]`. */
  generatorLogits: tf.Tensor4D;
  /** Anchor token indices `[B,K]` (row-major in the h×w grid). */
  anchorIndices: tf.Tensor2D;
  /** Hint mask `[B,h,w,1]` (ones at anchors; zeros without the anchor branch). */
  anchorMask: tf.Tensor4D;
  /** Anchor color classes `[B,h,w,313]` one-hot at anchors. */
  anchorColors: tf.Tensor4D;
  /** Predicted ab `[B,H,W,2]`, normalised (ab/110, in (−1, 1)). */
  ab: tf.Tensor4D;
}

/**
 * Offsets added to `config.seed` for each transformer-side block's initialisation, so that blocks
 * of the same shape start from different weights while one seed fixes them all. Changing a value
 * changes every model trained from scratch; it does not affect loading.
 */
export const BLOCK_SEED_OFFSET = Object.freeze({ modeler: 101, modelerHead: 102, hintEmbedding: 103, generator: 104, generatorHead: 105, pretrainedProjection: 106 });

/** Offset of the generator's dropout stream from the modeler's (both restarted per step by {@link DiscoModel.reseedDropout}). */
export const GENERATOR_DROPOUT_SEED_OFFSET = 7;

/**
 * The frozen pretrained network of `extensions.pretrainedFeatures` (grey RGB `[B,H',W',3]` →
 * `[B,H'/8,W'/8,C]`) and the trainable projection fusing its features with d model features
 * (`concat(x, features)` `[…, d + C]` → `[…, d]`, with bias), or nulls without it. DISCO fuses
 * into its tokens, a baseline into its per-pixel features.
 */
export function createPretrainedFusion(config: DiscoConfig): { pretrained: FrozenNetwork | null; projection: Linear | null } {
  const features = extensionsOf(config).pretrainedFeatures;
  if (!features) return { pretrained: null, projection: null };
  const d = config.backbone.outChannels;
  const pretrained = createPretrainedFeatures(features);
  return { pretrained, projection: new Linear({ inputDim: d + pretrained.channels[0]!, outputDim: d, bias: true, seed: config.seed + BLOCK_SEED_OFFSET.pretrainedProjection }) };
}

/** Throws unless `spixnet` pads stride-2 convolutions as `config` says (`fn` names the caller). */
export function checkSpixnetPadding(spixnet: SpixNet, config: DiscoConfig, fn: string): void {
  const padding = extensionsOf(config).padding;
  if (spixnet.config.padding !== padding) {
    throw new Error(`${fn}: the SPixNet pads stride-2 convolutions '${spixnet.config.padding}', the model config '${padding}' (a SPixNet trained with one padding computes something else with the other)`);
  }
}

/**
 * The DISCO colorization model.
 *
 * @example
 * ```ts
 * const model = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
 * const out = model.forward(L, ab, { training: true }); // L [B,64,64,1], ab [B,64,64,2] normalised
 * ```
 */
export class DiscoModel extends ParameterTableModel {
  /** The resolved configuration. */
  readonly config: Readonly<DiscoConfig>;
  /** Every extension field of {@link config} ({@link extensionsOf}: the paper's value where it sets none). */
  readonly extensions: Readonly<DiscoExtensions>;
  /** Frozen superpixel network. */
  readonly spixnet: SpixNet;
  /** Pixel feature CNN. */
  readonly backbone: tfl.LayersModel;
  /** Color modeler encoder. */
  readonly modeler: Encoder;
  /** Modeler head: features → 313 logits (no bias). */
  readonly modelerHead: Linear;
  /** Generator input embedding: `[tokens, mask·hint, mask (, nearest anchor's hint)]` → d (no bias). */
  readonly hintEmbedding: Linear;
  /** Color generator encoder. */
  readonly generator: Encoder;
  /** Generator head: features → 313 logits (no bias). */
  readonly generatorHead: Linear;
  /** Refinement CNN, or null when ablated. */
  readonly refinement: tfl.LayersModel | null;
  /**
   * The frozen pretrained network (`extensions.pretrainedFeatures`; grey RGB `[B,H',W',3]` →
   * `[B,H'/8,W'/8,C]`), or null. Not trained, not in {@link namedWeights}; cut from the frozen-network
   * registry (`loadPretrainedFeatures` loads it) whenever the model is built.
   */
  readonly pretrained: FrozenNetwork | null;
  /** Trainable fusion of the pretrained features: `concat(tokens, features)` `[…, d + C]` → `[…, d]` (with bias), or null. */
  readonly pretrainedProjection: Linear | null;
  /** The 313-bin quantizer (bins, prior, rebalancing weights). */
  readonly quantizer: AbQuantizer;
  private readonly positionCache = new Map<string, tf.Tensor>();
  private refinePreact: tfl.LayersModel | null = null;

  private constructor(config: DiscoConfig, spixnet: SpixNet) {
    super('DiscoModel');
    checkSpixnetPadding(spixnet, config, 'DiscoModel');
    this.config = config;
    const ext = (this.extensions = extensionsOf(config));
    const d = config.backbone.outChannels;
    const t = config.transformer;
    this.spixnet = spixnet;
    this.backbone = buildBackbone(config.backbone, config.seed, 'backbone', ext.padding);
    this.quantizer = new AbQuantizer();
    const enc = { dModel: d, heads: t.heads, dff: t.dff, dropout: t.dropout, layers: t.layers, positionMode: 'dense' as const };
    this.modeler = new Encoder({ ...enc, seed: config.seed + BLOCK_SEED_OFFSET.modeler });
    this.modelerHead = new Linear({ inputDim: d, outputDim: NUM_AB_BINS, bias: false, seed: config.seed + BLOCK_SEED_OFFSET.modelerHead });
    this.hintEmbedding = new Linear({ inputDim: d + NUM_AB_BINS + 1 + (ext.hintBroadcast ? NUM_AB_BINS : 0), outputDim: d, bias: false, seed: config.seed + BLOCK_SEED_OFFSET.hintEmbedding });
    this.generator = new Encoder({ ...enc, seed: config.seed + BLOCK_SEED_OFFSET.generator });
    this.generatorHead = new Linear({ inputDim: d, outputDim: NUM_AB_BINS, bias: false, seed: config.seed + BLOCK_SEED_OFFSET.generatorHead });
    this.refinement = config.ablation.refinement ? buildRefinement(config.refinement, 1 + d + (ext.residualRefinement ? 2 : 0), config.seed, 'refine', ext.padding) : null;
    const fusion = createPretrainedFusion(config);
    this.pretrained = fusion.pretrained;
    this.pretrainedProjection = fusion.projection;
  }

  /**
   * Builds a model with fresh weights (SPixNet too: load trained SPixNet weights before training).
   * `extensions.arch` must be `disco` (a baseline is a `BaselineModel`; `createColorizationModel` picks).
   */
  static create(config: DiscoConfig, spixnet?: SpixNet): DiscoModel {
    if (extensionsOf(config).arch !== 'disco') throw new Error(`DiscoModel.create: extensions.arch '${extensionsOf(config).arch}' is a per-pixel baseline; build it with BaselineModel.create (or createColorizationModel)`);
    return new DiscoModel(config, spixnet ?? SpixNet.create({ seed: config.seed, padding: extensionsOf(config).padding }, config.spixnetPreset));
  }

  /** Image sides must be multiples of this: lcm(8 (backbone), S, SPixNet's stride). */
  sizeMultiple(): number {
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    return [8, this.config.cellSize, this.spixnet.stride].reduce((a, b) => (a * b) / gcd(a, b));
  }

  /** Token grid size for an image of `height × width`. */
  grid(height: number, width: number): [number, number] {
    return [height / this.config.cellSize, width / this.config.cellSize];
  }

  /** The 2-D sine position encoding of an `h × w` token grid, `[1, h·w, d]` (cached: the model owns it, do not dispose). */
  position(h: number, w: number): tf.Tensor {
    const key = `${h}x${w}`;
    let p = this.positionCache.get(key);
    if (!p) {
      p = tf.tidy(() => tf.reshape(sinePositionEncoding2D(h, w, { channels: this.config.backbone.outChannels }), [1, h * w, this.config.backbone.outChannels]));
      tf.keep(p);
      this.positionCache.set(key, p);
    }
    return p;
  }

  /**
   * Runs the model.
   *
   * @param L `[B,H,W,1]` normalised lightness ((L−50)/50); H, W multiples of S and of 8.
   * @param ab `[B,H,W,2]` normalised ground-truth ab (ab/110), or null at inference.
   */
  forward(L: tf.Tensor4D, ab: tf.Tensor4D | null, options: DiscoForwardOptions = {}): DiscoOutputs {
    const fn = 'DiscoModel.forward';
    const [B, H, W, c] = L.shape;
    const S = this.config.cellSize;
    tf.util.assert(c === 1, () => `${fn}: L must be [batch, height, width, 1], got [${L.shape}]`);
    const m = this.sizeMultiple();
    tf.util.assert(H % m === 0 && W % m === 0, () => `${fn}: height and width (${H}×${W}) must be multiples of ${m} (cell size ${S}, backbone 8, SPixNet ${this.spixnet.stride})`);
    if (ab) tf.util.assert(tf.util.arraysEqual(ab.shape, [B, H, W, 2]), () => `${fn}: ab must be [${B}, ${H}, ${W}, 2], got [${ab.shape}]`);
    const training = options.training ?? false;
    const colors: AnchorColorSource = options.colors ?? (ab ? { kind: 'groundTruth' } : { kind: 'sampled', variant: 0 });
    const locateOn = options.locateOn ?? (ab ? 'colors' : 'modeler');
    tf.util.assert(options.anchorRebalance === undefined || (Number.isFinite(options.anchorRebalance) && options.anchorRebalance >= -1), () => `${fn}: anchorRebalance must be a number ≥ −1, got ${String(options.anchorRebalance)}`);
    tf.util.assert(colors.kind !== 'groundTruth' || ab !== null, () => `${fn}: ground-truth anchor colors need ab`);
    tf.util.assert(locateOn !== 'colors' || ab !== null, () => `${fn}: locating anchors on colors needs ab`);
    const K = options.anchors ?? this.config.anchors;
    const [h, w] = this.grid(H, W);
    const d = this.config.backbone.outChannels;
    const abl = this.config.ablation;

    // 1–4. Superpixels, pixel features, SP-pool, color modeler (or the caller's encoding of this L).
    const given = options.encoded;
    if (given) tf.util.assert(!training && tf.util.arraysEqual(given.association.shape, [B, H, W, 9]), () => `${fn}: encoded must come from encode() of this L at inference, got association [${given.association.shape}]`);
    const front = given ?? this.encode(L, { training });
    const association = given ? tf.clone(given.association) : front.association;
    const { tokens, modeled } = { tokens: front.tokens, modeled: { features: front.features, logits: given ? tf.clone(given.logits) : front.logits } };
    // Superpixel colors pooled on their own, so targets never depend on a variable.
    const targets = ab
      ? tf.tidy(() => {
          const spColors = pool(ab, association, S).pooled as tf.Tensor4D; // [B,h,w,2]
          const target = tf.reshape(this.quantizer.encode(tf.mul(spColors, AB_SCALE)), [B, h, w]) as tf.Tensor3D;
          return { spColors, target };
        })
      : null;

    // 5. Anchor locator and anchor colors: no gradients flow here.
    const hints = tf.tidy((): tf.TensorContainer => {
      const sizes = superpixelSizes(association, S) as tf.Tensor4D; // [B,h,w,1]
      const feats = locateOn === 'colors' ? targets!.spColors : (tf.reshape(modeled.features, [B, h, w, d]) as tf.Tensor4D);
      const located = this.locate(feats, sizes, { k: K, seed: options.seed ?? 0, ...(options.kmeansInit ? { kmeansInit: options.kmeansInit } : {}) });
      const alpha = options.anchorRebalance ?? 0;
      const flatLogits = () => {
        const flat = tf.reshape(modeled.logits, [B, h * w, NUM_AB_BINS]) as tf.Tensor3D;
        return alpha === 0 ? flat : (tf.add(flat, tf.mul(tf.log(this.quantizer.weights), alpha)) as tf.Tensor3D);
      };
      const classes =
        colors.kind === 'groundTruth'
          ? groundTruthAnchorColors(tf.reshape(targets!.target, [B, h * w]), located.indices)
          : colors.kind === 'expected'
            ? groundTruthAnchorColors(tf.reshape(this.quantizer.encode(this.quantizer.decodeAnnealedMean(flatLogits(), colors.temperature ?? this.extensions.decodeTemperature)), [B, h * w]), located.indices)
            : this.sampleColors(flatLogits(), located.indices, colors.variant);
      let hh = anchorHints(located.indices, classes, h, w, NUM_AB_BINS);
      if (options.userAnchors) {
        hh = applyUserAnchors(hh, options.userAnchors, this.quantizer.bins, { mode: options.userMode ?? 'replace', cellSize: S });
      }
      if (!abl.anchorBranch || options.dropHints) hh = { mask: tf.zerosLike(hh.mask), colors: tf.zerosLike(hh.colors) };
      const off = !abl.anchorBranch || options.dropHints;
      // Broadcast on the modeler's features in training and inference alike (the anchors
      // themselves are located on the true colors in training, as in the paper).
      // A detached copy: tfjs has no stop-gradient, and no gradient may flow through the argmin.
      // Read back only when broadcasting (a GPU→CPU stall in the browser otherwise).
      const broadcast = this.extensions.hintBroadcast
        ? ((off ? tf.zeros([B, h, w, NUM_AB_BINS]) : broadcastHints(tf.tensor4d(modeled.features.dataSync() as Float32Array, [B, h, w, d]), hh.mask, hh.colors)) as tf.Tensor4D)
        : null;
      return { mask: hh.mask, colors: hh.colors, indices: located.indices, ...(broadcast ? { broadcast } : {}) };
    }) as unknown as AnchorHints & { indices: tf.Tensor2D; broadcast?: tf.Tensor4D };

    // 6. Color generator.
    const generated = this.generate(tokens, hints.mask, hints.colors, { training, ...(hints.broadcast ? { broadcast: hints.broadcast } : {}) });
    // 7. SP-diffuse and refinement (or the decoded generator colors diffused, without refinement).
    const out = this.decode(L, association, generated, { training });
    tf.dispose([...(given ? [] : [tokens, modeled.features]), generated.features, ...(hints.broadcast ? [hints.broadcast] : [])]);
    return {
      association,
      superpixelColors: targets?.spColors ?? null,
      targetClasses: targets?.target ?? null,
      modelerLogits: modeled.logits,
      generatorLogits: generated.logits,
      anchorIndices: hints.indices,
      anchorMask: hints.mask,
      anchorColors: hints.colors,
      ab: out,
    };
  }

  /**
   * Steps 1–4 of {@link forward} at once: association `[B,H,W,9]`, tokens `[B,h·w,d]`, the color
   * modeler's features `[B,h·w,d]` and logits `[B,h,w,313]`. Everything before the anchors; the
   * same for every anchor-color variant and every edit of the anchors, so inference passes it back
   * as `forward(L, null, { encoded })` instead of recomputing it. The caller disposes it
   * ({@link DiscoEncoding}).
   *
   * @param L `[B,H,W,1]` normalised lightness.
   *
   * @example
   * ```ts
   * const enc = model.encode(L);
   * const outs = [0, 1, 2].map((v) => model.forward(L, null, { colors: { kind: 'sampled', variant: v as 0 | 1 | 2 }, encoded: enc }));
   * tf.dispose(Object.values(enc));
   * ```
   */
  encode(L: tf.Tensor4D, options: { training?: boolean } = {}): DiscoEncoding {
    const [B, H, W] = L.shape;
    const [h, w] = this.grid(H, W);
    const d = this.config.backbone.outChannels;
    const association = this.superpixels(L, { training: options.training ?? false });
    const tokens4 = this.tokens(L, association, options); // [B,h,w,d]
    const tokens = tf.reshape(tokens4, [B, h * w, d]) as tf.Tensor3D; // [B,T,d]
    tokens4.dispose();
    const { features, logits } = this.modelColors(tokens, h, w, { training: options.training ?? false });
    return { association, tokens, features, logits };
  }

  /**
   * Step 1 of {@link forward}: the association of every pixel with its 9 neighbouring cells,
   * `[B,H,W,9]` (SPixNet's softmax, or its one-hot maximum with `ablation.superpixels: 'hard'`).
   * SPixNet is frozen: its variables never enter a gradient.
   *
   * @param L `[B,H,W,1]` normalised lightness.
   * @param options `training`: part of a training step (tfjs always; SPixNet stays in inference mode either way).
   */
  superpixels(L: tf.Tensor4D, options: { training?: boolean } = {}): tf.Tensor4D {
    return tf.tidy(() => {
      const stride = this.spixnet.stride;
      tf.util.assert(L.rank === 4 && L.shape[3] === 1 && L.shape[1] % stride === 0 && L.shape[2] % stride === 0, () => `DiscoModel.superpixels: L must be [batch, height, width, 1] with height and width multiples of ${stride}; got [${L.shape}]`);
      // Inference: the registered engine (in Node, one onnxruntime graph) or tfjs, the reference.
      const soft = (options.training ? this.spixnet.predict(L, false) : runNetwork(this.spixnet.model, L)) as tf.Tensor4D; // [B,H,W,9]
      return this.config.ablation.superpixels === 'hard' ? hardAssociation(soft) : soft;
    });
  }

  /**
   * Steps 2–3 of {@link forward}: backbone features pooled into superpixel tokens `[B,h,w,d]`
   * (with `pretrainedFeatures`, the frozen features fused in).
   *
   * @param L `[B,H,W,1]` normalised lightness.
   * @param association `[B,H,W,9]` from {@link DiscoModel.superpixels}.
   */
  tokens(L: tf.Tensor4D, association: tf.Tensor4D, options: { training?: boolean } = {}): tf.Tensor4D {
    return tf.tidy(() => {
      const feats = (options.training ? this.backbone.apply(L, { training: true }) : runNetwork(this.backbone, L)) as tf.Tensor4D; // [B,H,W,d]
      const tokens = pool(feats, association, this.config.cellSize).pooled as tf.Tensor4D; // [B,h,w,d]
      return this.pretrained ? this.fusePretrained(L, tokens) : tokens;
    });
  }

  /**
   * Step 4 of {@link forward}, the color modeler: tokens `[B,h·w,d]` → its features `[B,h·w,d]`
   * (after the last layer norm; what the anchor locator clusters at inference) and the logits over
   * the 313 ab bins `[B,h,w,313]`.
   */
  modelColors(tokens: tf.Tensor3D, h: number, w: number, options: { training?: boolean } = {}): { features: tf.Tensor3D; logits: tf.Tensor4D } {
    const [B] = tokens.shape;
    return tf.tidy(() => {
      const features = this.modeler.apply(tokens, { pos: this.position(h, w), training: options.training ?? false }); // [B,T,d]
      const logits = tf.reshape(this.modelerHead.apply(features), [B, h, w, NUM_AB_BINS]) as tf.Tensor4D;
      return { features, logits };
    });
  }

  /**
   * Step 5 of {@link forward}, the anchor locator, by the config's `ablation.anchors` and
   * `anchorRules`: K anchor tokens `[B,K]` and the hint mask `[B,h,w,1]`.
   *
   * @param features Token features `[B,h,w,C]` to cluster (the modeler's at inference, the true superpixel colors in training).
   * @param sizes Superpixel sizes `[B,h,w,1]`.
   * @param options `k` (default the config's K), `seed`, and with the published rules `kmeansInit`: the initial centre tokens per image.
   */
  locate(features: tf.Tensor4D, sizes: tf.Tensor4D, options: { k?: number; seed?: number; kmeansInit?: readonly (readonly number[])[] } = {}): LocatedAnchors {
    const rules = this.extensions.anchorRules;
    return locateAnchors(features, sizes, {
      k: options.k ?? this.config.anchors,
      seed: options.seed ?? 0,
      placement: this.config.ablation.placement,
      rules,
      ...(rules === 'published' ? { init: 'random' as const, initIndices: options.kmeansInit ?? null } : {}),
    });
  }

  /**
   * The anchor colors of variant T from the modeler's logits `[B,h·w,313]` at the tokens
   * `indices` `[B,K]`, by the config's `anchorRules` (T = 2: the published sum of distances, or
   * the max–min): bins `[B,K]`.
   */
  sampleColors(logits: tf.Tensor3D, indices: tf.Tensor2D, variant: ColorVariant): tf.Tensor2D {
    return sampleAnchorColors(logits, this.quantizer.bins, indices, { variant, diverse: this.extensions.anchorRules === 'published' ? 'sum' : 'min' });
  }

  /**
   * Step 6a of {@link forward}: the generator's input, the hint embedding of
   * `[tokens, mask·colors, mask (, broadcast)]` `[B,h·w,d]` (colors soft-encoded with
   * `hintEncoding: 'soft'`).
   *
   * @param tokens `[B,h·w,d]` from {@link DiscoModel.tokens}.
   * @param mask Hint mask `[B,h,w,1]`.
   * @param colors One-hot hint bins `[B,h,w,313]`.
   * @param broadcast With hint broadcast: the nearest anchor's one-hot bin `[B,h,w,313]`.
   */
  embedHints(tokens: tf.Tensor3D, mask: tf.Tensor4D, colors: tf.Tensor4D, broadcast?: tf.Tensor4D): tf.Tensor3D {
    const [B, T] = tokens.shape;
    return tf.tidy(() => {
      const m = tf.reshape(mask, [B, T, 1]);
      const parts = [tokens, tf.mul(m, this.encodeHint(colors, T)), m];
      if (broadcast) parts.push(this.encodeHint(broadcast, T));
      return this.hintEmbedding.apply(tf.concat(parts, 2)) as tf.Tensor3D; // [B,T,d]
    });
  }

  /** A hint `[B,h,w,313]` as the generator reads it `[B,T,313]`: one-hot, or the Gaussian soft encoding of the bin's centre (zero where there is no hint). */
  private encodeHint(oneHot: tf.Tensor4D, T: number): tf.Tensor {
    const B = oneHot.shape[0];
    const flat = tf.reshape(oneHot, [B, T, NUM_AB_BINS]);
    if (this.extensions.hintEncoding === 'onehot') return flat;
    const present = tf.sum(flat, 2, true); // 1 at hinted tokens, 0 elsewhere
    return tf.mul(this.quantizer.softEncode(tf.reshape(tf.matMul(tf.reshape(flat, [-1, NUM_AB_BINS]), this.quantizer.bins), [B, T, 2])), present);
  }

  /**
   * Step 6 of {@link forward}, the color generator: {@link embedHints} → transformer → features
   * `[B,h·w,d]` and logits `[B,h,w,313]` (with hint broadcast, plus the copy path's log-prior).
   *
   * @param tokens `[B,h·w,d]` from {@link DiscoModel.tokens}.
   * @param mask Hint mask `[B,h,w,1]`.
   * @param colors One-hot hint bins `[B,h,w,313]`.
   */
  generate(tokens: tf.Tensor3D, mask: tf.Tensor4D, colors: tf.Tensor4D, options: { training?: boolean; broadcast?: tf.Tensor4D } = {}): { features: tf.Tensor3D; logits: tf.Tensor4D } {
    const [B, T] = tokens.shape;
    const [, h, w] = mask.shape;
    return tf.tidy(() => {
      const x = this.embedHints(tokens, mask, colors, options.broadcast); // [B,T,d]
      const features = this.generator.apply(x, { pos: this.position(h, w), training: options.training ?? false }); // [B,T,d]
      let logits = tf.reshape(this.generatorHead.apply(features), [B, h, w, NUM_AB_BINS]) as tf.Tensor4D;
      if (options.broadcast) {
        // Copy path: the nearest anchor's (soft) color as a log-prior on the logits. Without hints
        // the prior is the same constant for every bin, which softmax ignores.
        logits = tf.add(logits, tf.reshape(tf.log(tf.add(this.encodeHint(options.broadcast, T), COPY_PRIOR_FLOOR)), [B, h, w, NUM_AB_BINS])) as tf.Tensor4D;
      }
      return { features, logits };
    });
  }

  /**
   * Step 7 of {@link forward}: the generator's features diffused back to pixels and refined into
   * ab `[B,H,W,2]` (ab/110, tanh), optionally as a residual on the diffused decoded colors; without
   * refinement (ablation), the decoded generator colors diffused.
   *
   * @param L `[B,H,W,1]` normalised lightness.
   * @param association `[B,H,W,9]`.
   * @param generated {@link DiscoModel.generate}'s features `[B,h·w,d]` and logits `[B,h,w,313]`.
   * @param options `preactivation`: return the refinement's output before its tanh (refinement only).
   */
  decode(L: tf.Tensor4D, association: tf.Tensor4D, generated: { features: tf.Tensor3D; logits: tf.Tensor4D }, options: { training?: boolean; preactivation?: boolean } = {}): tf.Tensor4D {
    const S = this.config.cellSize;
    const [B, h, w] = generated.logits.shape;
    const d = this.config.backbone.outChannels;
    const training = options.training ?? false;
    tf.util.assert(!options.preactivation || this.refinement !== null, () => 'DiscoModel.decode: preactivation needs the refinement network');
    return tf.tidy(() => {
      // Decoded generator colors per superpixel, ab/110 `[B,h,w,2]` (annealed mean).
      const decoded = () => tf.div(this.quantizer.decodeAnnealedMean(generated.logits, this.extensions.decodeTemperature), AB_SCALE) as tf.Tensor4D;
      if (!this.refinement) return diffuse(decoded(), association, S) as tf.Tensor4D;
      const full = diffuse(tf.reshape(generated.features, [B, h, w, d]) as tf.Tensor4D, association, S);
      const net = options.preactivation ? this.refinementPreactivation() : this.refinement;
      const apply = (x: tf.Tensor4D): tf.Tensor4D => (training ? net.apply(x, { training }) : runNetwork(net, x)) as tf.Tensor4D;
      if (this.extensions.residualRefinement) {
        const base = diffuse(decoded(), association, S) as tf.Tensor4D;
        const r = apply(tf.concat([L, full, base], 3));
        return options.preactivation ? r : (tf.add(base, r) as tf.Tensor4D);
      }
      return apply(tf.concat([L, full], 3));
    });
  }

  /** The refinement network up to its last convolution (before the tanh), sharing its layers; built once. */
  private refinementPreactivation(): tfl.LayersModel {
    if (!this.refinePreact) {
      const r = this.refinement!;
      this.refinePreact = tflModel({ inputs: r.inputs, outputs: r.getLayer('refine_out').output as tfl.SymbolicTensor, name: 'refine_preact' });
    }
    return this.refinePreact;
  }


  /**
   * Fuses the frozen pretrained features into DISCO's tokens (`extensions.pretrainedFeatures`; a
   * baseline fuses them per pixel, see `BaselineModel`): grey `L` `[B,H,W,1]` → grey RGB resized to
   * `inputSize` → frozen network `[B,H',W',C]` → resized to the token grid `[B,h,w,C]` →
   * `projection(concat(tokens, features))` `[B,h,w,d]`. Only the
   * projection is trainable; the frozen branch's weights are not trainable, so they never change.
   */
  private fusePretrained(L: tf.Tensor4D, tokens: tf.Tensor4D): tf.Tensor4D {
    const [B, h, w, d] = tokens.shape;
    const net = this.pretrained!;
    const feats = tf.tidy(() => resizeToGrid(net.extract(pretrainedInput(L, this.extensions.pretrainedFeatures!.inputSize))[0]!, h, w)); // [B,h,w,C]
    const x = tf.concat([tokens, feats], 3); // [B,h,w,d+C]
    feats.dispose();
    return tf.reshape(this.pretrainedProjection!.apply(x), [B, h, w, d]) as tf.Tensor4D;
  }

  /**
   * The model's one parameter table, in a fixed order (SPixNet, backbone, modeler, modeler head,
   * hint embedding, generator, generator head, refinement, pretrained-feature projection). Every
   * other view of the weights — {@link DiscoModel.namedWeights}, {@link DiscoModel.setNamedWeights},
   * {@link DiscoModel.trainableVariables}, {@link DiscoModel.countParams} — is read from it.
   */
  protected parameters(): ParamEntry[] {
    return [
      ...layerParams('spixnet', this.spixnet.model),
      ...layerParams('backbone', this.backbone),
      ...moduleParams('modeler', this.modeler),
      ...moduleParams('modelerHead', this.modelerHead),
      ...moduleParams('hintEmbedding', this.hintEmbedding),
      ...moduleParams('generator', this.generator),
      ...moduleParams('generatorHead', this.generatorHead),
      ...layerParams('refine', this.refinement),
      ...moduleParams('pretrainedProjection', this.pretrainedProjection),
    ];
  }

  /**
   * Learnable parameter counts per block (SPixNet counted, though frozen in stage 2; batch-norm
   * moving statistics are not parameters and are not counted). The `paper` preset gives the
   * released model's 43,063,739.
   */
  countParams(): ParamCounts {
    const n = (...blocks: ParamBlock[]) => this.learnableCount(...blocks);
    const c: ParamCounts = {
      spixnet: n('spixnet'),
      backbone: n('backbone'),
      modeler: n('modeler', 'modelerHead'),
      generator: n('hintEmbedding', 'generator', 'generatorHead'),
      refinement: n('refine'),
      ...(this.pretrainedProjection ? { fusion: n('pretrainedProjection') } : {}),
      total: 0,
    };
    c.total = c.spixnet + c.backbone + c.modeler + c.generator + c.refinement + (c.fusion ?? 0);
    if (this.pretrained) c.pretrainedFrozen = this.pretrained.countParams();
    return c;
  }

  /**
   * Restarts the dropout streams of both encoders from `seed`, so a training step's masks depend
   * only on (seed, step): resuming from a checkpoint then reproduces an uninterrupted run.
   */
  reseedDropout(seed: number): void {
    this.modeler.reseedDropout(seed);
    this.generator.reseedDropout(seed + GENERATOR_DROPOUT_SEED_OFFSET);
  }

  /** Frees every variable and cached tensor. */
  dispose(): void {
    this.spixnet.dispose();
    this.backbone.dispose();
    this.refinement?.dispose();
    for (const m of [this.modeler, this.modelerHead, this.hintEmbedding, this.generator, this.generatorHead, this.pretrainedProjection]) m?.dispose();
    this.pretrained?.dispose();
    this.quantizer.dispose();
    for (const p of this.positionCache.values()) p.dispose();
    this.positionCache.clear();
  }
}
