/**
 * The two per-pixel baselines (`extensions.arch` `regression` and `classification`): DISCO's backbone
 * (`buildBackbone`) with a small per-pixel head, no superpixels, anchors or transformers. They
 * answer "what do the superpixel tokens and anchors add" on the same backbone, data and training
 * loop; `createColorizationModel` builds the class a config names.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SpixNet } from '@disco/superpixel';
import type { Linear } from '@disco/transformer';
import { AB_SCALE, AbQuantizer, NUM_AB_BINS } from '@disco/color';
import { extensionsOf, type DiscoArch, type DiscoConfig, type DiscoExtensions } from './config.js';
import { checkSpixnetPadding, createPretrainedFusion, DiscoModel } from './disco.js';
import { buildBackbone, buildPixelHead } from './networks.js';
import { layerParams, moduleParams, ParameterTableModel, type ParamCounts, type ParamEntry } from './params.js';
import type { FrozenNetwork } from './frozen.js';
import { pretrainedInput, resizeToGrid } from './pretrained.js';

/** A per-pixel baseline's architecture. */
export type BaselineArch = Exclude<DiscoArch, 'disco'>;

/** What {@link BaselineModel.forward} computes. The caller owns (and disposes) every tensor. */
export interface BaselineOutputs {
  /** The architecture that produced these outputs. */
  arch: BaselineArch;
  /**
   * Predicted ab `[B,H,W,2]`, normalised (ab/110, in (−1, 1)): the head's tanh output
   * (`regression`), or the annealed mean of the per-pixel distribution at
   * `extensions.decodeTemperature` divided by 110 (`classification`).
   */
  ab: tf.Tensor4D;
  /** Per-pixel logits over the 313 ab bins `[B,H,W,313]` (`classification`), or null (`regression`). */
  logits: tf.Tensor4D | null;
}

/**
 * A per-pixel colorization baseline: backbone `[B,H,W,1]` → `[B,H,W,d]` → head. `regression`: ab
 * `[B,H,W,2]` (tanh, ab/110), trained with an L1 on ab; `classification`: 313 logits per pixel,
 * trained with the class-rebalanced cross-entropy of Zhang et al. (ECCV 2016) and decoded by their
 * annealed mean. A frozen SPixNet of `config.spixnetPreset` is carried, unused, so that model files,
 * checkpoints and `--spixnet` loading are the same as DISCO's.
 *
 * @example
 * ```ts
 * const model = BaselineModel.create(resolveDiscoConfig({ extensions: { arch: 'classification' } }, 'tiny'));
 * const { ab, logits } = model.forward(L); // L [B,H,W,1] → ab [B,H,W,2], logits [B,H,W,313]
 * ```
 */
export class BaselineModel extends ParameterTableModel {
  /** The resolved configuration (`arch` `regression` or `classification`). */
  readonly config: Readonly<DiscoConfig>;
  /** The config's extensions with the paper's values filled in (`arch` is the baseline's). */
  readonly extensions: Readonly<DiscoExtensions>;
  /** The frozen superpixel network, carried unused (see the class comment). */
  readonly spixnet: SpixNet;
  /** Pixel feature CNN, DISCO's backbone. */
  readonly backbone: tfl.LayersModel;
  /** The per-pixel head (`regression`: `[B,H,W,d]` → ab `[B,H,W,2]`; `classification`: → logits `[B,H,W,313]`). */
  readonly head: tfl.LayersModel;
  /** The frozen pretrained network (`extensions.pretrainedFeatures`), or null; as in {@link DiscoModel.pretrained}. */
  readonly pretrained: FrozenNetwork | null;
  /** Trainable fusion of the pretrained features into the per-pixel features, or null. */
  readonly pretrainedProjection: Linear | null;
  /** The 313-bin quantizer (bins, prior, rebalancing weights). */
  readonly quantizer: AbQuantizer;

  private constructor(config: DiscoConfig, spixnet: SpixNet) {
    super('BaselineModel');
    checkSpixnetPadding(spixnet, config, 'BaselineModel');
    this.config = config;
    const ext = (this.extensions = extensionsOf(config));
    const d = config.backbone.outChannels;
    this.spixnet = spixnet;
    this.backbone = buildBackbone(config.backbone, config.seed, 'backbone', ext.padding);
    this.quantizer = new AbQuantizer();
    this.head = ext.arch === 'regression' ? buildPixelHead(d, 2, 'tanh', config.seed) : buildPixelHead(d, NUM_AB_BINS, 'linear', config.seed);
    const fusion = createPretrainedFusion(config);
    this.pretrained = fusion.pretrained;
    this.pretrainedProjection = fusion.projection;
  }

  /** Builds a baseline with fresh weights; `extensions.arch` must be `regression` or `classification`. */
  static create(config: DiscoConfig, spixnet?: SpixNet): BaselineModel {
    if (extensionsOf(config).arch === 'disco') throw new Error("BaselineModel.create: extensions.arch is 'disco'; build it with DiscoModel.create (or createColorizationModel)");
    return new BaselineModel(config, spixnet ?? SpixNet.create({ seed: config.seed, padding: extensionsOf(config).padding }, config.spixnetPreset));
  }

  /** Image sides must be multiples of this: 8 (the backbone's three stride-2 stages). */
  sizeMultiple(): number {
    return 8;
  }

  /**
   * Backbone → (pretrained fusion) → per-pixel head; no superpixels or anchors.
   *
   * @param L `[B,H,W,1]` normalised lightness ((L−50)/50); H, W multiples of 8.
   * @param options `training`: batch-norm statistics (the baselines have no dropout). Default false.
   */
  forward(L: tf.Tensor4D, options: { training?: boolean } = {}): BaselineOutputs {
    const fn = 'BaselineModel.forward';
    const arch = this.extensions.arch as BaselineArch;
    const [, H, W, c] = L.shape;
    tf.util.assert(L.rank === 4 && c === 1, () => `${fn}: L must be [batch, height, width, 1], got [${L.shape}]`);
    tf.util.assert(H % 8 === 0 && W % 8 === 0, () => `${fn}: height and width (${H}×${W}) must be multiples of 8 (backbone)`);
    const training = options.training ?? false;
    const [ab, logits] = tf.tidy(() => {
      let feats = this.backbone.apply(L, { training }) as tf.Tensor4D; // [B,H,W,d]
      if (this.pretrained) feats = this.fusePretrainedPerPixel(L, feats);
      const y = this.head.apply(feats, { training }) as tf.Tensor4D;
      if (arch === 'regression') return [y]; // [B,H,W,2], tanh: ab/110
      const decoded = tf.div(this.quantizer.decodeAnnealedMean(y, this.extensions.decodeTemperature), AB_SCALE) as tf.Tensor4D; // [B,H,W,2]
      return [decoded, y]; // logits [B,H,W,313]
    }) as [tf.Tensor4D, tf.Tensor4D?];
    return { arch, ab, logits: logits ?? null };
  }

  /**
   * DISCO's fusion of the frozen pretrained features (`DiscoModel`'s tokens) applied to the
   * per-pixel features `[B,H,W,d]`, computed in the order that never materialises C channels at
   * H×W: the projection is linear and resizing is linear per channel, so
   * `P·concat(x, resize(f)) + b = Pₓ·x + resize(P_f·f) + b` (the same function up to float
   * rounding), with `P_f·f` taken at the frozen network's resolution (d channels resized, not C).
   */
  private fusePretrainedPerPixel(L: tf.Tensor4D, feats: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [B, H, W, d] = feats.shape;
      const proj = this.pretrainedProjection!;
      const [f] = this.pretrained!.extract(pretrainedInput(L, this.extensions.pretrainedFeatures!.inputSize)) as [tf.Tensor4D]; // [B,h',w',C]
      const [, h, w, C] = f.shape;
      const Px = tf.slice(proj.kernel, [0, 0], [d, d]) as tf.Tensor2D;
      const Pf = tf.slice(proj.kernel, [d, 0], [C, d]) as tf.Tensor2D;
      const low = tf.reshape(tf.matMul(tf.reshape(f, [B * h * w, C]), Pf), [B, h, w, d]) as tf.Tensor4D;
      const x = tf.reshape(tf.matMul(tf.reshape(feats, [B * H * W, d]), Px), [B, H, W, d]);
      return tf.add(tf.add(x, resizeToGrid(low, H, W)), proj.bias!) as tf.Tensor4D;
    });
  }

  /** The parameter table: SPixNet, backbone, head, pretrained-feature projection (weight names `spixnet.…`, `backbone.…`, `head.…`). */
  protected parameters(): ParamEntry[] {
    return [...layerParams('spixnet', this.spixnet.model), ...layerParams('backbone', this.backbone), ...layerParams('head', this.head), ...moduleParams('pretrainedProjection', this.pretrainedProjection)];
  }

  /** Learnable parameter counts per block, as {@link DiscoModel.countParams} (modeler, generator and refinement 0). */
  countParams(): ParamCounts {
    const n = this.learnableCount.bind(this);
    const head = n('head');
    const c: ParamCounts = {
      spixnet: n('spixnet'),
      backbone: n('backbone'),
      modeler: 0,
      generator: 0,
      refinement: 0,
      head,
      ...(this.pretrainedProjection ? { fusion: n('pretrainedProjection') } : {}),
      total: 0,
    };
    c.total = c.spixnet + c.backbone + head + (c.fusion ?? 0);
    if (this.pretrained) c.pretrainedFrozen = this.pretrained.countParams();
    return c;
  }

  /** The baselines have no dropout: nothing to reseed (kept so that both models train through one step). */
  reseedDropout(_seed: number): void {}

  /** Frees every variable. */
  dispose(): void {
    this.spixnet.dispose();
    this.backbone.dispose();
    this.head.dispose();
    this.pretrainedProjection?.dispose();
    this.pretrained?.dispose();
    this.quantizer.dispose();
  }
}

/** Either model a {@link DiscoConfig} builds: DISCO or a per-pixel baseline. */
export type ColorizationModel = DiscoModel | BaselineModel;

/** Whether `model` is a per-pixel baseline (narrows the type). */
export function isBaselineModel(model: ColorizationModel): model is BaselineModel {
  return model.extensions.arch !== 'disco';
}

/**
 * Builds the model `extensions.arch` names with fresh weights: a {@link DiscoModel} for `disco`, a
 * {@link BaselineModel} for `regression` and `classification`. The one place that maps a stored
 * config (model file, checkpoint) to its class.
 */
export function createColorizationModel(config: DiscoConfig, spixnet?: SpixNet): ColorizationModel {
  return extensionsOf(config).arch === 'disco' ? DiscoModel.create(config, spixnet) : BaselineModel.create(config, spixnet);
}

/**
 * `model` as a {@link DiscoModel}, for callers that need its anchors or generator; a baseline is
 * a one-line error starting with `where` and naming its arch.
 */
export function asDiscoModel(model: ColorizationModel, where: string): DiscoModel {
  if (isBaselineModel(model)) throw new Error(`${where}: this is the '${model.extensions.arch}' baseline; a DISCO model is needed (anchors, color generator)`);
  return model;
}
