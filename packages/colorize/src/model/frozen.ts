/**
 * The one path to a frozen pretrained network (an ImageNet InceptionV3, Szegedy et al., "Rethinking
 * the Inception Architecture for Computer Vision", CVPR 2016): a tfjs layers model loaded with
 * `loadLayersModel` (batch norm folded into the convolution before it), cut at named layers with
 * `tf.model({ inputs, outputs })`, its weights never trained. One registry names the networks
 * (`nsfw-inception`: the InceptionV3 shipped with nsfwjs) and where their files are: `@disco/colorize/node`
 * registers the installed package's files, a page registers the URL it serves them at.
 * The perceptual loss of training (`activation_1/3/5`), the frozen features of the color modeler
 * (`pretrainedFeatures`, e.g. `mixed5`) and the experiments' FID/KID network use this path.
 * Browser-safe: nothing here reads files.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** A frozen network cut at named layers: no trainable weights, so no gradient reaches them. */
export interface FrozenNetwork {
  /** Human-readable name, e.g. `nsfw-inception:mixed5`. */
  readonly name: string;
  /** The layers whose outputs {@link extract} returns, in that order. */
  readonly layers: readonly string[];
  /** Channels of each output. */
  readonly channels: readonly number[];
  /** Weight of each output in a perceptual loss (`perceptualLoss`); 1 each unless given. */
  readonly layerWeights: readonly number[];
  /**
   * The named layers' outputs for RGB images in [0, 1] (as nsfwjs feeds its model): `rgb`
   * `[B,H,W,3]` → one `[B,H',W',C_i]` per layer (H' ≈ H/8 at `mixed0`…`mixed2`). Differentiable
   * with respect to `rgb`; the caller owns the results.
   */
  extract(rgb: tf.Tensor4D): tf.Tensor4D[];
  /** Number of (frozen) weights the cut runs, batch norm folded: each convolution's kernel plus one bias per output channel. */
  countParams(): number;
  /** Nothing to free: the weights belong to the registry or to the loaded model ({@link unloadFrozenNetwork}). */
  dispose(): void;
}

/** Where a registered network's files are: a URL (`https://…/model.json`, `file://…` in Node) or an IOHandler. */
export type FrozenNetworkSource = string | tf.io.IOHandler;

/** A Keras layer as saved in a model.json topology (Keras 2). */
interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[][][];
}

/**
 * The batch norms that directly follow a bias-free convolution whose only consumer they are, by
 * BN name → convolution name: the pairs {@link loadFrozenModel} folds.
 */
function foldablePairs(layers: readonly KerasLayer[]): Map<string, string> {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const uses = new Map<string, number>();
  const inputsOf = (l: KerasLayer): string[] => l.inbound_nodes.flatMap((node) => node.map((n) => String(n[0])));
  for (const l of layers) for (const i of inputsOf(l)) uses.set(i, (uses.get(i) ?? 0) + 1);
  const pairs = new Map<string, string>();
  for (const bn of layers) {
    const inputs = inputsOf(bn);
    const conv = byName.get(inputs[0] ?? '');
    if (bn.class_name !== 'BatchNormalization' || bn.config.center === false || inputs.length !== 1 || !conv || conv.class_name !== 'Conv2D' || conv.config.use_bias || uses.get(conv.name) !== 1) continue;
    pairs.set(bn.name, conv.name);
  }
  return pairs;
}

/**
 * Loads a tfjs layers model (a Keras model converted by tensorflowjs) as a frozen network: every
 * weight non-trainable, and each batch norm that follows a bias-free convolution folded into it —
 * `BN(conv(x, k)) = conv(x, k·s) + (β − μ·s)`, `s = γ/√(σ² + ε)` — computed with the tfjs ops the
 * hand-written InceptionV3 used, so the shipped `tiny-pf` keeps its outputs bit for bit. The batch
 * norm then adds the bias only (μ = 0, σ² = 1, ε = 0, γ = 1: exact in float32). `source`: a URL
 * (`loadLayersModel`'s http handler in a browser; `file://` in Node once `@disco/colorize/node` is
 * imported) or an IOHandler.
 *
 * @example
 * ```ts
 * const model = await loadFrozenModel('https://example.org/inception_v3/model.json');
 * const net = cutFrozenModel(model, ['mixed5']);
 * const [f] = net.extract(tf.zeros([1, 192, 192, 3])); // [1,10,10,768]
 * ```
 */
export async function loadFrozenModel(source: FrozenNetworkSource): Promise<tfl.LayersModel> {
  const handler = typeof source === 'string' ? null : source;
  let pairs = new Map<string, string>();
  const epsilon = new Map<string, number>();
  // Read the topology on its way in: the folded batch norms get ε = 0 (their σ² is set to 1 below).
  const folding: tf.io.IOHandler = {
    load: async () => {
      const a = handler ? await handler.load!() : await firstHandler(source as string).load!();
      const topology = structuredClone(a.modelTopology) as { model_config?: { config: { layers: KerasLayer[] } }; config?: { layers: KerasLayer[] } };
      const layers = (topology.model_config ?? topology).config?.layers ?? [];
      pairs = foldablePairs(layers);
      // A gamma of ones where the batch norm had none: tfjs' batch-norm gradient needs a scale tensor.
      const specs = [...(a.weightSpecs ?? [])];
      const ones: Float32Array[] = [];
      for (const l of layers) {
        if (!pairs.has(l.name)) continue;
        epsilon.set(l.name, Number(l.config.epsilon ?? 1e-3));
        if (!l.config.scale) {
          const shape = specs.find((w) => w.name === `${l.name}/moving_mean`)!.shape;
          specs.push({ name: `${l.name}/gamma`, shape, dtype: 'float32' });
          ones.push(new Float32Array(shape[0]!).fill(1));
        }
        l.config = { ...l.config, epsilon: 0, scale: true };
      }
      const weightData = concatBuffers([...(Array.isArray(a.weightData) ? a.weightData : [a.weightData!]), ...ones.map((o) => o.buffer as ArrayBuffer)]);
      return { ...a, modelTopology: topology, weightSpecs: specs, weightData };
    },
  };
  const model = await tfl.loadLayersModel(folding);
  model.trainable = false;
  for (const [bnName, convName] of pairs) {
    const bn = model.getLayer(bnName);
    const conv = model.getLayer(convName);
    // Weights by role: `gamma` (the model's, or the ones added above: × 1 is exact), `beta`, `moving_mean`, `moving_variance`.
    const role = (w: tfl.LayerVariable) => w.originalName.split('/').pop() as 'gamma' | 'beta' | 'moving_mean' | 'moving_variance';
    const w = Object.fromEntries(bn.weights.map((v) => [role(v), v.read()])) as Partial<Record<ReturnType<typeof role>, tf.Tensor>>;
    const folded = tf.tidy(() => {
      let s = tf.rsqrt(tf.add(w.moving_variance!, epsilon.get(bnName)!));
      if (w.gamma) s = tf.mul(s, w.gamma);
      return { kernel: tf.mul(conv.getWeights()[0]!, s), gamma: tf.onesLike(s), beta: tf.sub(w.beta!, tf.mul(w.moving_mean!, s)), moving_mean: tf.zerosLike(s), moving_variance: tf.onesLike(s) };
    });
    conv.setWeights([folded.kernel]);
    bn.setWeights(bn.weights.map((v) => folded[role(v)]));
    tf.dispose(Object.values(folded));
  }
  return model;
}

function concatBuffers(parts: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out.buffer;
}

function firstHandler(url: string): tf.io.IOHandler {
  const handlers = tf.io.getLoadHandlers(url);
  if (handlers.length === 0) throw new Error(`loadFrozenModel: no loader for '${url}' (in Node, import '@disco/colorize/node' for file:// URLs)`);
  return handlers[0]!;
}

/**
 * Cuts a loaded model at named layers: a {@link FrozenNetwork} whose `extract` returns their
 * outputs (`tf.model({ inputs, outputs: layers.map(getLayer(n).output) })`, sharing the weights).
 *
 * @param options `name` (default `<model name>:<layers>`), `layerWeights` for a perceptual loss
 *   (default 1 each), `minSize` the smallest height and width `extract` accepts (default 75, what
 *   InceptionV3's valid-padding stem needs for one `mixed` block).
 * @example
 * ```ts
 * const stem = cutFrozenModel(model, ['activation_1', 'activation_3', 'activation_5'], { minSize: 32 });
 * stem.extract(tf.zeros([2, 96, 96, 3])).map((t) => t.shape); // [2,47,47,32], [2,45,45,64], [2,20,20,192]
 * ```
 */
export function cutFrozenModel(model: tfl.LayersModel, layers: readonly string[], options: { name?: string; layerWeights?: readonly number[]; minSize?: number } = {}): FrozenNetwork {
  const names = new Set(model.layers.map((l) => l.name));
  for (const n of layers) if (!names.has(n)) throw new Error(`cutFrozenModel: no layer '${n}' in ${model.name}`);
  const outputs = layers.map((n) => model.getLayer(n).output as tfl.SymbolicTensor);
  const cut = tfl.model({ inputs: model.inputs, outputs });
  const channels = outputs.map((o) => o.shape[o.shape.length - 1]!);
  const layerWeights = options.layerWeights ?? layers.map(() => 1);
  if (layerWeights.length !== layers.length) throw new Error(`cutFrozenModel: ${layerWeights.length} layerWeights for ${layers.length} layers`);
  const minSize = options.minSize ?? 75;
  const name = options.name ?? `${model.name}:${layers.join(',')}`;
  // Folded count: the convolutions (kernel + one bias per output channel) the cut runs.
  const run = new Set<string>();
  const visit = (t: tfl.SymbolicTensor): void => {
    const l = t.sourceLayer as tfl.layers.Layer;
    if (run.has(l.name)) return;
    run.add(l.name);
    for (const node of l.inboundNodes) for (const i of node.inputTensors) visit(i);
  };
  outputs.forEach(visit);
  const params = model.layers
    .filter((l) => run.has(l.name) && l.getClassName() === 'Conv2D')
    .reduce((n, l) => n + l.countParams() + (l.getConfig() as { filters: number; use_bias?: boolean; useBias?: boolean }).filters, 0);
  return {
    name,
    layers: Object.freeze([...layers]),
    channels: Object.freeze(channels),
    layerWeights: Object.freeze([...layerWeights]),
    extract(rgb: tf.Tensor4D): tf.Tensor4D[] {
      tf.util.assert(rgb.rank === 4 && rgb.shape[3] === 3, () => `${name}: extract: rgb must be [batch, height, width, 3], got [${rgb.shape}]`);
      tf.util.assert(rgb.shape[1] >= minSize && rgb.shape[2] >= minSize, () => `${name}: extract: images must be at least ${minSize}×${minSize}, got ${rgb.shape[1]}×${rgb.shape[2]}`);
      const out = cut.apply(rgb, { training: false }) as tf.Tensor4D | tf.Tensor4D[];
      return Array.isArray(out) ? out : [out];
    },
    countParams: () => params,
    dispose: () => {},
  };
}

const SOURCES = new Map<string, () => FrozenNetworkSource>();
const LOADED = new Map<string, Promise<tfl.LayersModel>>();
const READY = new Map<string, tfl.LayersModel>();

/**
 * Registers where the files of a frozen network are (a later registration replaces an earlier one
 * and forgets its loaded weights). `@disco/colorize/node` registers `nsfw-inception` (the files of
 * the installed nsfwjs); a page registers the URL it serves them at.
 *
 * @example
 * ```ts
 * registerFrozenNetwork('nsfw-inception', () => new URL('nsfw-inception/model.json', document.baseURI).href);
 * await loadFrozenNetwork('nsfw-inception');
 * ```
 */
export function registerFrozenNetwork(name: string, source: () => FrozenNetworkSource): void {
  unloadFrozenNetwork(name);
  SOURCES.set(name, source);
}

/** Loads a registered network once per program ({@link loadFrozenModel}); later calls return the same model. */
export function loadFrozenNetwork(name: string): Promise<tfl.LayersModel> {
  let p = LOADED.get(name);
  if (!p) {
    const source = SOURCES.get(name);
    if (!source) return Promise.reject(new Error(notRegistered(name)));
    p = loadFrozenModel(source()).then((m) => {
      READY.set(name, m);
      return m;
    });
    LOADED.set(name, p);
    p.catch(() => LOADED.delete(name));
  }
  return p;
}

/** Frees the weights of a loaded network (networks cut from it stop working). */
export function unloadFrozenNetwork(name: string): void {
  READY.get(name)?.dispose();
  READY.delete(name);
  LOADED.delete(name);
}

function notRegistered(name: string): string {
  return `frozen network '${name}' is not registered (import '@disco/colorize/node' in Node, or call registerFrozenNetwork('${name}', source) in a browser)`;
}

/**
 * A registered, loaded network cut at `layers` ({@link cutFrozenModel}); synchronous, so model
 * constructors can call it. Throws one line when the network is not registered or not yet loaded
 * (`await loadFrozenNetwork(name)` first; `loadDiscoModel` does).
 */
export function frozenNetwork(name: string, layers: readonly string[], options: { layerWeights?: readonly number[]; minSize?: number } = {}): FrozenNetwork {
  const model = READY.get(name);
  if (!model) throw new Error(SOURCES.has(name) ? `frozen network '${name}' is not loaded: await loadFrozenNetwork('${name}') first` : notRegistered(name));
  return cutFrozenModel(model, layers, { ...options, name: `${name}:${layers.join(',')}` });
}
