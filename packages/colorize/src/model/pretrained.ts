/**
 * Frozen pretrained features for the color modeler (an extension beyond Xia et al. 2022, see
 * {@link PretrainedFeaturesConfig}): the first blocks of an ImageNet-trained InceptionV3
 * (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016) run with
 * plain tfjs ops on folded batch norm, and a registry through which the Node entry supplies the
 * weights. Browser-safe: nothing here reads files.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizedLabToRgb } from '@disco/color';
import { PRETRAINED_LAYERS, type PretrainedFeaturesConfig } from './config.js';

/** A frozen feature network: no variables, so no gradient ever reaches its weights. */
export interface PretrainedFeatureNetwork {
  /** Human-readable name, e.g. `nsfw-inception-v3:mixed2`. */
  readonly name: string;
  /** Channels C of {@link extract}'s output. */
  readonly channels: number;
  /**
   * Features of RGB images in [0, 1]: `rgb` `[B,H,W,3]` → `[B,H',W',C]` (H' ≈ H/8 for InceptionV3).
   * The caller owns the result.
   */
  extract(rgb: tf.Tensor4D): tf.Tensor4D;
  /** Number of (frozen) weights. */
  countParams(): number;
  /** Frees the weights. */
  dispose(): void;
}

/** Builds the frozen network a config names (synchronously: {@link DiscoModel.create} is synchronous). */
export type PretrainedFeatureFactory = (config: PretrainedFeaturesConfig) => PretrainedFeatureNetwork;

const FACTORIES = new Map<string, PretrainedFeatureFactory>();

/**
 * Registers the factory of a frozen network (by {@link PretrainedFeaturesConfig.network}); a later
 * registration replaces an earlier one. `@disco/colorize/node` registers `nsfw-inception` when
 * imported; in a browser, register a factory built from weights fetched by the page.
 */
export function registerPretrainedFeatures(network: string, factory: PretrainedFeatureFactory): void {
  FACTORIES.set(network, factory);
}

/** Builds the network of `config` through its registered factory; a one-line error when none is registered. */
export function createPretrainedFeatures(config: PretrainedFeaturesConfig): PretrainedFeatureNetwork {
  const factory = FACTORIES.get(config.network);
  if (!factory) {
    throw new Error(`pretrainedFeatures: no '${config.network}' network is registered (import '@disco/colorize/node' in Node, or call registerPretrainedFeatures('${config.network}', factory))`);
  }
  const net = factory(config);
  if (!(Number.isInteger(net.channels) && net.channels > 0)) throw new Error(`pretrainedFeatures: the '${config.network}' factory returned a network with ${net.channels} channels`);
  return net;
}

/** One layer of a Keras functional topology (`model_config.config.layers[i]`), as saved by Keras 2. */
export interface KerasLayerSpec {
  /** `Conv2D`, `BatchNormalization`, `Activation`, `MaxPooling2D`, `AveragePooling2D`, `Concatenate` or `InputLayer`. */
  class_name: string;
  /** Unique layer name. */
  name: string;
  /** The layer's config (`filters`, `strides`, `padding`, `pool_size`, `use_bias`, `scale`, `epsilon`, `activation`, …). */
  config: Record<string, unknown>;
  /** `[[[inboundName, nodeIndex, tensorIndex, kwargs], …]]`. */
  inbound_nodes: unknown[][][];
}

type Op = (inputs: tf.Tensor4D[]) => tf.Tensor4D;

/**
 * The layers of a Keras InceptionV3 up to one named layer, as tfjs ops: convolutions (no bias)
 * followed by batch normalisation are folded into one convolution with a bias; ReLU, max and
 * average pooling and concatenation as in the topology. Weights named as Keras saves them
 * (`conv2d_k/kernel`, `batch_normalization_k/{gamma?,beta,moving_mean,moving_variance}`).
 *
 * `extract(rgb)`: `[B,H,W,3]` in [0, 1] (as nsfwjs feeds its model) → the named layer's output
 * `[B,H',W',C]` with H' ≈ H/8 (valid-padding stem: 35 at H = 299, 7 at H = 75).
 */
export class KerasInceptionBlocks implements PretrainedFeatureNetwork {
  /** See {@link PretrainedFeatureNetwork.name}. */
  readonly name: string;
  /** See {@link PretrainedFeatureNetwork.channels}. */
  readonly channels: number;
  private readonly order: Array<{ name: string; inputs: string[]; op: Op | null }> = [];
  private readonly owned: tf.Tensor[] = [];
  private readonly output: string;

  /**
   * @param layers the topology's layers (any order Keras saved; only the ancestors of `output` are kept).
   * @param weights the weights by Keras name; the object's tensors are read, not kept (the caller disposes them).
   * @param output the last layer to run, e.g. `mixed2`, or `stem` for `max_pooling2d_2`.
   */
  constructor(layers: readonly KerasLayerSpec[], weights: Record<string, tf.Tensor>, output: string, options: { name?: string } = {}) {
    const target = output === 'stem' ? 'max_pooling2d_2' : output;
    const byName = new Map(layers.map((l) => [l.name, l]));
    if (!byName.has(target)) throw new Error(`KerasInceptionBlocks: no layer '${target}' in the topology`);
    const inputsOf = (l: KerasLayerSpec): string[] => (l.inbound_nodes[0] ?? []).map((n) => String(n[0]));
    // Ancestors of the target in topological order (depth-first post-order).
    const seen = new Set<string>();
    const visit = (n: string): void => {
      if (seen.has(n)) return;
      seen.add(n);
      const l = byName.get(n);
      if (!l) throw new Error(`KerasInceptionBlocks: layer '${n}' is missing from the topology`);
      for (const i of inputsOf(l)) visit(i);
      this.order.push({ name: n, inputs: inputsOf(l), op: null });
    };
    visit(target);
    const need = (n: string): tf.Tensor => {
      const t = weights[n];
      if (!t) throw new Error(`KerasInceptionBlocks: missing weight '${n}'`);
      return t;
    };
    // The batch norm that directly follows each convolution (folded into it).
    const bnAfter = new Map<string, KerasLayerSpec>();
    for (const { name } of this.order) {
      const l = byName.get(name)!;
      if (l.class_name === 'BatchNormalization') bnAfter.set(inputsOf(l)[0]!, l);
    }
    let channels = 3;
    const width = new Map<string, number>();
    for (const step of this.order) {
      const l = byName.get(step.name)!;
      const c = l.config;
      const inWidth = step.inputs.map((i) => width.get(i) ?? 3);
      channels = inWidth[0] ?? 3;
      switch (l.class_name) {
        case 'InputLayer':
          step.op = null;
          channels = 3;
          break;
        case 'Conv2D': {
          const kernel = need(`${l.name}/kernel`) as tf.Tensor4D;
          const bn = bnAfter.get(l.name);
          if (c.use_bias || !bn) throw new Error(`KerasInceptionBlocks: conv '${l.name}' must have no bias and be followed by batch norm`);
          const eps = Number(bn.config.epsilon ?? 1e-3);
          const [k, b] = tf.tidy(() => {
            // BN(conv(x)) = conv(x)·s + (β − μ·s), s = γ/√(σ² + ε): fold s into the kernel's output axis.
            let s = tf.rsqrt(tf.add(need(`${bn.name}/moving_variance`), eps));
            if (bn.config.scale) s = tf.mul(s, need(`${bn.name}/gamma`));
            const beta = bn.config.center === false ? tf.zerosLike(s) : need(`${bn.name}/beta`);
            return [tf.mul(kernel, s) as tf.Tensor4D, tf.sub(beta, tf.mul(need(`${bn.name}/moving_mean`), s)) as tf.Tensor1D];
          });
          this.owned.push(tf.keep(k), tf.keep(b));
          const strides = c.strides as [number, number];
          const pad = c.padding as 'same' | 'valid';
          step.op = ([x]) => tf.add(tf.conv2d(x!, k, strides, pad), b) as tf.Tensor4D;
          channels = kernel.shape[3];
          break;
        }
        case 'BatchNormalization':
          step.op = ([x]) => x!; // folded into the convolution before it
          break;
        case 'Activation':
          if (c.activation !== 'relu') throw new Error(`KerasInceptionBlocks: activation '${String(c.activation)}' of '${l.name}' is not supported`);
          step.op = ([x]) => tf.relu(x!) as tf.Tensor4D;
          break;
        case 'MaxPooling2D':
        case 'AveragePooling2D': {
          const size = c.pool_size as [number, number];
          const strides = c.strides as [number, number];
          const pad = c.padding as 'same' | 'valid';
          // Keras (TensorFlow) average pooling with 'same' padding excludes the padding, as tfjs does.
          step.op = l.class_name === 'MaxPooling2D' ? ([x]) => tf.maxPool(x!, size, strides, pad) : ([x]) => tf.avgPool(x!, size, strides, pad);
          break;
        }
        case 'Concatenate':
          step.op = (xs) => tf.concat(xs, 3);
          channels = inWidth.reduce((a, b) => a + b, 0);
          break;
        default:
          throw new Error(`KerasInceptionBlocks: layer class '${l.class_name}' of '${l.name}' is not supported`);
      }
      width.set(step.name, channels);
    }
    this.output = target;
    this.channels = width.get(target)!;
    this.name = options.name ?? `inception-v3:${output}`;
  }

  /** See {@link PretrainedFeatureNetwork.extract}. Needs H, W ≥ 75. */
  extract(rgb: tf.Tensor4D): tf.Tensor4D {
    tf.util.assert(rgb.rank === 4 && rgb.shape[3] === 3, () => `KerasInceptionBlocks.extract: rgb must be [batch, height, width, 3], got [${rgb.shape}]`);
    tf.util.assert(rgb.shape[1] >= 75 && rgb.shape[2] >= 75, () => `KerasInceptionBlocks.extract: images must be at least 75×75, got ${rgb.shape[1]}×${rgb.shape[2]}`);
    return tf.tidy(() => {
      const values = new Map<string, tf.Tensor4D>();
      for (const step of this.order) {
        values.set(step.name, step.op ? step.op(step.inputs.map((i) => values.get(i)!)) : rgb);
      }
      return values.get(this.output)!;
    });
  }

  /** See {@link PretrainedFeatureNetwork.countParams} (folded: kernel plus one bias per output channel). */
  countParams(): number {
    return this.owned.reduce((n, t) => n + t.size, 0);
  }

  /** Frees the folded weights. */
  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }
}

/** The channel count of a config's layer (without building the network). */
export function pretrainedChannels(config: PretrainedFeaturesConfig): number {
  return PRETRAINED_LAYERS[config.layer];
}

/**
 * The frozen network's input: grey `L` `[B,H,W,1]` ((L−50)/50) → the sRGB grey of that lightness
 * replicated to 3 channels (in [0, 1]), resized (bilinear) so that its longer side is `inputSize`,
 * aspect kept, each side at least 75. Returns `[B,H·r,W·r,3]`.
 */
export function pretrainedInput(L: tf.Tensor4D, inputSize: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, H, W] = L.shape;
    const r = inputSize / Math.max(H, W);
    const h = Math.max(75, Math.round(H * r));
    const w = Math.max(75, Math.round(W * r));
    const rgb = tf.clipByValue(normalizedLabToRgb(L, tf.zeros([L.shape[0], H, W, 2]) as tf.Tensor4D), 0, 1);
    const grey = tf.slice(rgb, [0, 0, 0, 0], [-1, -1, -1, 1]) as tf.Tensor4D; // a = b = 0: R = G = B
    const resized = tf.image.resizeBilinear(grey, [h, w], false, true);
    return tf.tile(resized, [1, 1, 1, 3]) as tf.Tensor4D;
  });
}

/**
 * Resizes features `[B,h',w',C]` to the token grid `[B,h,w,C]`: 2×2 average pooling while the map
 * is at least twice the target (no aliasing from a bilinear shrink), then bilinear (half-pixel centres).
 */
export function resizeToGrid(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => {
    let y = x;
    while (y.shape[1] >= 2 * h && y.shape[2] >= 2 * w) y = tf.avgPool(y, 2, 2, 'valid');
    return y.shape[1] === h && y.shape[2] === w ? y : tf.image.resizeBilinear(y, [h, w], false, true);
  });
}
