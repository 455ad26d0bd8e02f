/**
 * The base of every trainable block in this package: a small class that owns named
 * `tf.Variable`s and child blocks, in the style of minGPT's modules.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Named tensors keyed by dotted paths such as `layers.0.selfAttn.query.kernel`. */
export type NamedWeights = Record<string, tf.Tensor>;

/**
 * A block that owns `tf.Variable`s (directly or through child blocks).
 *
 * Weights are addressed by dotted names (child name, then variable name), which is what
 * {@link TransformerModule.getWeights}, {@link TransformerModule.setWeights} and
 * {@link encodeWeights} / {@link decodeWeights} use for saving and loading.
 */
export abstract class TransformerModule {
  private readonly ownVariables = new Map<string, tf.Variable>();
  private readonly childModules = new Map<string, TransformerModule>();
  private disposed = false;

  /** The resolved options this block was built with; `new Cls(block.getConfig())` rebuilds it. */
  abstract getConfig(): object;

  /** Registers a variable owned by this block (call from constructors). */
  protected addVariable(name: string, value: tf.Tensor): tf.Variable {
    if (this.ownVariables.has(name) || this.childModules.has(name)) throw new Error(`${this.constructor.name}: duplicate weight name '${name}'`);
    const v = tf.variable(value, true);
    value.dispose();
    this.ownVariables.set(name, v);
    return v;
  }

  /** Registers a child block (call from constructors). */
  protected addChild<M extends TransformerModule>(name: string, child: M): M {
    if (this.ownVariables.has(name) || this.childModules.has(name)) throw new Error(`${this.constructor.name}: duplicate child name '${name}'`);
    this.childModules.set(name, child);
    return child;
  }

  /** Throws if {@link TransformerModule.dispose} was called. */
  protected assertLive(fn: string): void {
    if (this.disposed) throw new Error(`${fn}: the block was disposed`);
  }

  /** Every variable of this block and its children, keyed by dotted name, in creation order. */
  getWeights(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [name, v] of this.ownVariables) out[name] = v;
    for (const [prefix, child] of this.childModules) {
      for (const [name, v] of Object.entries(child.getWeights())) out[`${prefix}.${name}`] = v;
    }
    return out;
  }

  /** The trainable variables, for `optimizer.minimize(f, false, block.trainableVariables())`. */
  trainableVariables(): tf.Variable[] {
    return Object.values(this.getWeights());
  }

  /** Number of scalar parameters. */
  countParams(): number {
    return this.trainableVariables().reduce((n, v) => n + v.size, 0);
  }

  /**
   * Assigns every weight from `weights` (same names and shapes as {@link TransformerModule.getWeights};
   * missing or extra names throw). The caller keeps ownership of `weights`.
   */
  setWeights(weights: NamedWeights): void {
    const fn = `${this.constructor.name}.setWeights`;
    this.assertLive(fn);
    const mine = this.getWeights();
    const missing = Object.keys(mine).filter((k) => !(k in weights));
    const extra = Object.keys(weights).filter((k) => !(k in mine));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(`${fn}: weights: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
    }
    for (const [name, v] of Object.entries(mine)) {
      const w = weights[name]!;
      if (!tf.util.arraysEqual(w.shape, v.shape)) throw new Error(`${fn}: weights: '${name}' has shape [${w.shape}], expected [${v.shape}]`);
    }
    for (const [name, v] of Object.entries(mine)) {
      const w = weights[name]!;
      v.assign(w.dtype === 'float32' ? w : tf.tidy(() => tf.cast(w, 'float32')));
    }
  }

  /** Frees every variable of this block and its children. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.ownVariables.values()) v.dispose();
    for (const c of this.childModules.values()) c.dispose();
  }

  /** Whether {@link TransformerModule.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }
}

/** Weights serialised as tfjs' weights format: a manifest plus one binary buffer. */
export interface EncodedWeights {
  /** tfjs weight specs (name, shape, dtype) in buffer order. */
  specs: tf.io.WeightsManifestEntry[];
  /** The concatenated float32 data. */
  data: ArrayBuffer;
}

/**
 * Serialises a block's weights with `tf.io.encodeWeights` (the same binary layout as a tfjs
 * `weights.bin`). Store `specs` as JSON and `data` as bytes.
 *
 * @example
 * ```ts
 * const saved = await encodeWeights(encoder);
 * const copy = new Encoder(encoder.getConfig());
 * decodeWeights(copy, saved);
 * ```
 */
export async function encodeWeights(module: TransformerModule): Promise<EncodedWeights> {
  const { data, specs } = await tf.io.encodeWeights(module.getWeights());
  return { specs, data };
}

/** Loads weights written by {@link encodeWeights} into `module` (names and shapes must match). */
export function decodeWeights(module: TransformerModule, encoded: EncodedWeights): void {
  const named = tf.io.decodeWeights(encoded.data, encoded.specs);
  try {
    module.setWeights(named);
  } finally {
    tf.dispose(Object.values(named));
  }
}
