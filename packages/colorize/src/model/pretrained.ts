/**
 * Frozen pretrained features for the color modeler (an extension beyond Xia et al. 2022, see
 * {@link PretrainedFeaturesConfig}): the first blocks of an ImageNet-trained InceptionV3
 * (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016), taken
 * from the one frozen-network registry (`./frozen.ts`): `nsfw-inception` cut at the config's layer.
 * Browser-safe: nothing here reads files.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizedLabToRgb } from '@disco/color';
import { extensionsOf, PRETRAINED_LAYERS, type DiscoConfig, type PretrainedFeaturesConfig } from './config.js';
import { frozenNetwork, loadFrozenNetwork, type FrozenNetwork } from './frozen.js';

/** The Keras layer a {@link PretrainedFeaturesConfig.layer} names: `stem` is the stem's last pooling, `max_pooling2d_2`. */
export function pretrainedLayerName(layer: PretrainedFeaturesConfig['layer']): string {
  return layer === 'stem' ? 'max_pooling2d_2' : layer;
}

/**
 * The frozen network of `config` (synchronous: `DiscoModel.create` is synchronous): the registered
 * network cut at the config's layer; `extract(rgb)` returns one `[B,H',W',C]` map (H' ≈ H/8).
 * Throws one line when the network is not registered or not loaded ({@link loadPretrainedFeatures}).
 */
export function createPretrainedFeatures(config: PretrainedFeaturesConfig): FrozenNetwork {
  return frozenNetwork(config.network, [pretrainedLayerName(config.layer)]);
}

/**
 * Loads the frozen network a model config needs, if any (once per program): await it before
 * `DiscoModel.create` / `deserializeDiscoModel` of a config with `pretrainedFeatures`.
 * `loadDiscoModel` and `loadPretrained` do this themselves.
 *
 * @example
 * ```ts
 * await loadPretrainedFeatures(resolveStoredConfig(json.config)); // fetches nsfw-inception in a page that registered it
 * const model = deserializeDiscoModel(json, weights);
 * ```
 */
export async function loadPretrainedFeatures(config: Pick<DiscoConfig, 'extensions'>): Promise<void> {
  const features = extensionsOf(config).pretrainedFeatures;
  if (features) await loadFrozenNetwork(features.network);
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
