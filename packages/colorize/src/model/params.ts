/**
 * The parameter table shared by the DISCO model and the per-pixel baselines: one ordered list of
 * named variables from which every view of the weights (named weights for files and checkpoints,
 * the trainable variables, the parameter counts) is read.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Encoder, Linear } from '@disco/transformer';

/** The blocks of a model's parameter table, in table order (the first part of every weight name). */
export type ParamBlock = 'spixnet' | 'backbone' | 'modeler' | 'modelerHead' | 'hintEmbedding' | 'generator' | 'generatorHead' | 'refine' | 'head' | 'pretrainedProjection';

/** One row of the parameter table. */
export interface ParamEntry {
  /** Canonical dotted name `<block>.<path>`. */
  name: string;
  /** The variable itself. */
  variable: tf.Variable;
  /** Whether an optimiser may train it (false for batch-norm moving statistics). */
  learnable: boolean;
  /** The block it belongs to. */
  block: ParamBlock;
}

/** Parameter counts per block (a baseline has no modeler, generator or refinement: 0). */
export interface ParamCounts {
  /** SPixNet (frozen in stage 2). */
  spixnet: number;
  /** Backbone CNN. */
  backbone: number;
  /** Color modeler encoder and its 313-way head. */
  modeler: number;
  /** Hint embedding, color generator encoder and its head. */
  generator: number;
  /** Refinement hourglass (0 when ablated). */
  refinement: number;
  /** The per-pixel head of a baseline (`arch` `regression` or `classification`); absent for DISCO. */
  head?: number;
  /** The trainable 1×1 projection fusing frozen pretrained features into the tokens; absent without `pretrainedFeatures`. */
  fusion?: number;
  /** Sum of the above (trainable blocks and SPixNet; not {@link pretrainedFrozen}). */
  total: number;
  /**
   * Weights of the frozen pretrained network (`pretrainedFeatures`; batch norm folded), never
   * trained nor saved with the model and not part of `total`; absent without `pretrainedFeatures`.
   */
  pretrainedFrozen?: number;
}

/**
 * The one naming scheme of model weights: dotted paths, as PyTorch state dicts
 * (`backbone.stage1_conv1.kernel`, `modeler.layers.0.selfAttn.query.kernel`). Model files and
 * checkpoints written before used `/` inside the Keras-built blocks (`backbone/stage1_conv1/kernel`);
 * this maps those names to the scheme (idempotent).
 *
 * @example
 * ```ts
 * canonicalWeightName('spixnet/enc0a_conv/kernel'); // 'spixnet.enc0a_conv.kernel'
 * ```
 */
export function canonicalWeightName(name: string): string {
  return name.replaceAll('/', '.');
}

/** The rows of a tfjs-layers block (none for null), in the model's weight order. */
export function layerParams(block: ParamBlock, m: tfl.LayersModel | null): ParamEntry[] {
  // LayerVariable.read() is the variable itself; originalName has no per-process suffix.
  return m ? m.weights.map((w) => ({ name: `${block}.${canonicalWeightName(w.originalName)}`, variable: w.read() as tf.Variable, learnable: w.trainable, block })) : [];
}

/** The rows of a transformer-side block (none for null), every one learnable. */
export function moduleParams(block: ParamBlock, m: Encoder | Linear | null): ParamEntry[] {
  return m ? Object.entries(m.getWeights()).map(([n, v]) => ({ name: `${block}.${n}`, variable: v, learnable: true, block })) : [];
}

/**
 * A model whose weights are one parameter table ({@link ParamEntry} rows in a fixed order):
 * {@link namedWeights}, {@link setNamedWeights} and {@link trainableVariables} are read from it.
 */
export abstract class ParameterTableModel {
  /** @param modelName the class name that error messages start with. */
  protected constructor(private readonly modelName: string) {}

  /** The table, in its fixed order. */
  protected abstract parameters(): ParamEntry[];

  /** Learnable parameter count of `blocks`. */
  protected learnableCount(...blocks: ParamBlock[]): number {
    return this.parameters()
      .filter((p) => p.learnable && blocks.includes(p.block))
      .reduce((a, p) => a + p.variable.size, 0);
  }

  /** The variables stage 2 trains: every learnable weight except SPixNet's (the frozen stage 1). */
  trainableVariables(): tf.Variable[] {
    return this.parameters()
      .filter((p) => p.learnable && p.block !== 'spixnet')
      .map((p) => p.variable);
  }

  /**
   * Every weight (trainable or not, batch-norm statistics included) by its unique dotted name
   * `<block>.<path>` (`spixnet.…`, `backbone.…`, …). The tensors are the variables themselves.
   *
   * @example
   * ```ts
   * const bn = Object.keys(model.namedWeights()).filter((n) => n.endsWith('moving_mean'));
   * ```
   */
  namedWeights(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.parameters().map((p) => [p.name, p.variable]));
  }

  /**
   * Assigns weights saved by {@link namedWeights}; every name must match in name and shape. Names
   * are read through {@link canonicalWeightName}, so files and checkpoints written with the
   * earlier `block/layer/weight` names load unchanged.
   *
   * @param weights Tensors by name; the model copies what it keeps (the caller still owns them).
   * @param options `only`: assign just the names it accepts (the others must still exist).
   */
  setNamedWeights(weights: Record<string, tf.Tensor>, options: { only?: (name: string) => boolean } = {}): void {
    const fn = `${this.modelName}.setNamedWeights`;
    const given = new Map<string, tf.Tensor>();
    for (const [raw, t] of Object.entries(weights)) {
      const name = canonicalWeightName(raw);
      if (given.has(name)) throw new Error(`${fn}: weight '${raw}' is given twice (as '${name}')`);
      given.set(name, t);
    }
    const params = this.parameters();
    const wanted = params.filter((p) => (options.only ? options.only(p.name) : true));
    for (const p of wanted) {
      const src = given.get(p.name);
      if (!src) throw new Error(`${fn}: missing weight '${p.name}'`);
      if (!tf.util.arraysEqual(src.shape, p.variable.shape)) throw new Error(`${fn}: weight '${p.name}' has shape [${src.shape}], expected [${p.variable.shape}]`);
    }
    const known = new Set(params.map((p) => p.name));
    const extra = [...given.keys()].filter((n) => !known.has(n));
    if (extra.length > 0) throw new Error(`${fn}: unknown weight '${extra[0]}' (${extra.length} unknown)`);
    for (const p of wanted) {
      // assign() takes a reference to the data: disposing the caller's tensor later keeps it.
      const src = given.get(p.name)!;
      if (src.dtype === 'float32') p.variable.assign(src);
      else {
        const cast = tf.cast(src, 'float32');
        p.variable.assign(cast);
        cast.dispose();
      }
    }
  }
}
