/**
 * The frozen networks of the perceptual loss (stage-2 training, `disco train --perceptual <name>`):
 * the paper uses VGG19 features; here `inception` is the stem of the ImageNet InceptionV3 shipped
 * with nsfwjs (its early blocks keep their ImageNet weights), features after conv1, conv3 and conv5
 * (`activation_1`, `activation_3`, `activation_5`), cut from the one frozen-network registry
 * (`./frozen.ts`). Gradients reach the input on every backend; no weight is trainable.
 */
import { frozenNetwork, loadFrozenNetwork, type FrozenNetwork } from './frozen.js';

/** A perceptual network: a registered frozen network cut at layers, each weighted in the loss. */
export interface PerceptualNetworkSpec {
  /** The registered frozen network (`registerFrozenNetwork`). */
  readonly network: string;
  /** The layers whose outputs are compared. */
  readonly layers: readonly string[];
  /** Weight of each layer's term (shallow to deep, growing as the paper's VGG weights). */
  readonly layerWeights: readonly number[];
  /** Smallest image side the cut accepts. */
  readonly minSize: number;
}

/** The perceptual networks by `--perceptual` name. */
export const PERCEPTUAL_NETWORKS: Readonly<Record<string, PerceptualNetworkSpec>> = Object.freeze({
  inception: Object.freeze({ network: 'nsfw-inception', layers: ['activation_1', 'activation_3', 'activation_5'], layerWeights: [0.25, 0.5, 1], minSize: 32 }),
});

/**
 * Loads the perceptual network `name` of {@link PERCEPTUAL_NETWORKS} (its frozen network once per
 * program). `extract(rgb)`: `[B,H,W,3]` in [0, 1], H, W ≥ 32 → `[B,⌊(H−3)/2⌋+1,…,32]`, the same
 * minus 2 with 64 channels, and `[…,192]` after the stem's first pooling.
 *
 * @example
 * ```ts
 * const net = await loadPerceptualNetwork('inception');
 * const loss = perceptualLoss(net, predRgb, targetRgb);
 * ```
 */
export async function loadPerceptualNetwork(name: string): Promise<FrozenNetwork> {
  const spec = PERCEPTUAL_NETWORKS[name];
  if (!spec) throw new Error(`--perceptual: unknown network '${name}'; valid: none, ${Object.keys(PERCEPTUAL_NETWORKS).join(', ')}`);
  await loadFrozenNetwork(spec.network);
  return frozenNetwork(spec.network, spec.layers, { layerWeights: spec.layerWeights, minSize: spec.minSize });
}
