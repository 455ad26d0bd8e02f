/**
 * A frozen perceptual feature network built from the stem of an ImageNet InceptionV3 (the one
 * shipped with nsfwjs@4.3.0, whose early blocks keep their ImageNet weights): five convolutions
 * with batch normalisation folded into the kernels, features after conv1, conv3 and conv5
 * (`activation_1`, `activation_3`, `activation_5`). Pure tfjs ops, so gradients reach the input
 * on every backend, and no variables.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureNetwork } from './losses.js';

/** The stem plan: layer index, stride, padding. */
const STEM: ReadonlyArray<{ i: number; stride: number; pad: 'valid' | 'same' }> = [
  { i: 1, stride: 2, pad: 'valid' },
  { i: 2, stride: 1, pad: 'valid' },
  { i: 3, stride: 1, pad: 'same' },
  { i: 4, stride: 1, pad: 'valid' },
  { i: 5, stride: 1, pad: 'valid' },
];

/** Default weights of the three feature maps (shallow to deep, growing as the paper's VGG weights). */
export const INCEPTION_STEM_LAYER_WEIGHTS: readonly number[] = Object.freeze([0.25, 0.5, 1]);

/**
 * Builds the feature network from InceptionV3 weights named as Keras saves them
 * (`conv2d_k/kernel`, `batch_normalization_k/{beta,moving_mean,moving_variance}`, k = 1..5;
 * BN without scale, ε = 1e-3). Input RGB in [0, 1], any size ≥ 32².
 */
export class InceptionStemFeatures implements FeatureNetwork {
  /** See {@link FeatureNetwork.name}. */
  readonly name: string;
  /** See {@link FeatureNetwork.layerWeights}. */
  readonly layerWeights: readonly number[];
  private readonly kernels: tf.Tensor4D[] = [];
  private readonly biases: tf.Tensor1D[] = [];

  constructor(weights: Record<string, tf.Tensor>, options: { name?: string; layerWeights?: readonly number[]; epsilon?: number } = {}) {
    this.name = options.name ?? 'inception-v3-stem(act1,act3,act5)';
    this.layerWeights = options.layerWeights ?? INCEPTION_STEM_LAYER_WEIGHTS;
    const eps = options.epsilon ?? 1e-3;
    for (const { i } of STEM) {
      const need = (n: string): tf.Tensor => {
        const t = weights[n];
        if (!t) throw new Error(`InceptionStemFeatures: missing weight '${n}'`);
        return t;
      };
      const k = need(`conv2d_${i}/kernel`) as tf.Tensor4D;
      const beta = need(`batch_normalization_${i}/beta`);
      const mean = need(`batch_normalization_${i}/moving_mean`);
      const variance = need(`batch_normalization_${i}/moving_variance`);
      // BN(conv(x)) = conv(x)·s + (β − μ·s), s = 1/√(σ² + ε): fold s into the kernel's output axis.
      const [kk, bb] = tf.tidy(() => {
        const s = tf.rsqrt(tf.add(variance, eps));
        return [tf.mul(k, s) as tf.Tensor4D, tf.sub(beta, tf.mul(mean, s)) as tf.Tensor1D];
      });
      this.kernels.push(tf.keep(kk));
      this.biases.push(tf.keep(bb));
    }
  }

  /** Feature maps after conv1, conv3, conv5 (ReLU). `rgb` `[B,H,W,3]` in [0, 1]. */
  extract(rgb: tf.Tensor4D): tf.Tensor[] {
    tf.util.assert(rgb.rank === 4 && rgb.shape[3] === 3, () => `InceptionStemFeatures.extract: rgb must be [batch, height, width, 3], got [${rgb.shape}]`);
    tf.util.assert(rgb.shape[1] >= 32 && rgb.shape[2] >= 32, () => `InceptionStemFeatures.extract: images must be at least 32×32, got ${rgb.shape[1]}×${rgb.shape[2]}`);
    return tf.tidy(() => {
      const conv = (x: tf.Tensor4D, n: number) => tf.relu(tf.add(tf.conv2d(x, this.kernels[n]!, STEM[n]!.stride, STEM[n]!.pad), this.biases[n]!)) as tf.Tensor4D;
      const a1 = conv(rgb, 0);
      const a3 = conv(conv(a1, 1), 2);
      const p = tf.maxPool(a3, 3, 2, 'valid');
      const a5 = conv(conv(p, 3), 4);
      return [a1, a3, a5];
    });
  }

  /** Frees the folded weights. */
  dispose(): void {
    tf.dispose([...this.kernels, ...this.biases]);
  }
}
