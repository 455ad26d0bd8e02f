/**
 * Feature networks for FID/KID/IS (Node only): the InceptionV3 shipped inside `nsfwjs@4.3.0`, loaded
 * offline from the installed package, or a standard InceptionV3 in tfjs layers format from disk —
 * both through `@disco/colorize`'s one frozen-network path (`loadFrozenNetwork` / `loadFrozenModel`:
 * loadLayersModel, batch norm folded, nothing trainable) — or the FID Inception of `pytorch-fid`.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadFrozenModel, loadFrozenNetwork } from '@disco/colorize';
import { readRuleStateDict } from '@disco/runtime/node';
import { FidInception, FID_INCEPTION_CLASSES, FID_INCEPTION_FEATURES, FID_INCEPTION_SIZE, type FidInceptionOptions } from '../metrics/fid_inception.js';
import { fidInceptionInput, type Rgb8Image } from '../metrics/fid_preprocess.js';
import { loadFidInceptionStateDict } from './fid_weights.js';

/** One feature layer of a {@link FeatureNetwork}. */
export interface FeatureLayer {
  /** Short key used in score labels and JSON: `pool` (2048-d) or `mixed5` (768-d). */
  key: string;
  /** The model layer the features come from (before any added global average pool). */
  layer: string;
  /** Feature dimension. */
  dims: number;
}

/** A pretrained network turned into a feature extractor. */
export interface FeatureNetwork {
  /** Name used in score labels, e.g. `nsfw-inception`: `FID[nsfw-inception-2048]`. */
  name: string;
  /** What the scores computed with it may be compared with (printed and saved with them). */
  caveat: string;
  /** Square input size in pixels (299 for InceptionV3). */
  inputSize: number;
  /** The feature layers, in the order of {@link FeatureOutputs.features}. */
  layers: FeatureLayer[];
  /** Number of classes of the classifier head used for IS, or 0 when IS is unavailable. */
  classes: number;
  /** Why IS is unavailable (null when it is available). */
  isUnavailableReason: string | null;
  /**
   * Runs the network on images `[batch, inputSize, inputSize, 3]` with RGB in [0, 1] (the network's
   * own input scaling is applied inside). The caller owns the returned tensors.
   */
  infer(images: tf.Tensor4D): FeatureOutputs;
  /** Frees the model's weights. */
  dispose(): void;
  /**
   * Turns decoded images into the batch `infer` takes (`[batch, inputSize, inputSize, 3]`, RGB in
   * [0, 1]). Default: {@link imagesToBatch} (tfjs bilinear resize); the FID Inception network
   * resizes exactly as `pytorch-fid` instead.
   */
  prepare?(images: readonly Rgb8Image[]): tf.Tensor4D;
  /** How images are resized for the network (recorded in reports). Default: tfjs bilinear, half-pixel centres, no antialiasing. */
  preprocessing?: string;
  /** sha256 (hex) of the weights file, when the network was read from one. */
  weightsSha256?: string;
  /** Whether scores from this network are comparable with published FID/IS values (the standard FID Inception weights). */
  comparableWithPublished?: boolean;
}

/** What {@link FeatureNetwork.infer} returns. */
export interface FeatureOutputs {
  /** One `[batch, dims]` tensor per {@link FeatureNetwork.layers} entry. */
  features: tf.Tensor2D[];
  /** Class probabilities `[batch, classes]` (rows sum to 1), or null when IS is unavailable. */
  probs: tf.Tensor2D | null;
}

/** Options of {@link loadInceptionFromFile}. */
export interface InceptionFileOptions {
  /** Name of the 2048-d pooled feature layer. Default: the first of `avg_pool`, `flatten_1`, `global_average_pooling2d` present. */
  poolLayer?: string;
  /** Name of the 768-d block whose global average gives the second features, or null to skip. Default `mixed5` if present. */
  mixedLayer?: string | null;
  /** Input scaling the network was trained with: `[-1,1]` (Keras `preprocess_input`, default) or `[0,1]`. */
  inputRange?: '[-1,1]' | '[0,1]';
  /** Label of the network in score names. Default `inception-v3:<file name without .json>`. */
  name?: string;
}

const POOL_CANDIDATES = ['avg_pool', 'flatten_1', 'global_average_pooling2d'];

/** Builds the extractor from a loaded layers model. */
function wrap(
  model: tfl.LayersModel,
  poolLayer: string,
  mixedLayer: string | null,
  classifier: 'softmax' | 'logits' | null,
  scale: (x: tf.Tensor4D) => tf.Tensor4D,
  info: { name: string; caveat: string; isUnavailableReason: string | null },
  dispose: () => void,
): FeatureNetwork {
  const outputs: tfl.SymbolicTensor[] = [];
  const layers: FeatureLayer[] = [];
  const pool = model.getLayer(poolLayer).output as tfl.SymbolicTensor;
  if (pool.shape.length !== 2) throw new Error(`loadInception: layer '${poolLayer}' has shape [${pool.shape.join(',')}], expected [batch, dims]`);
  outputs.push(pool);
  layers.push({ key: 'pool', layer: poolLayer, dims: pool.shape[1]! });
  if (mixedLayer !== null) {
    const mixed = model.getLayer(mixedLayer).output as tfl.SymbolicTensor;
    if (mixed.shape.length !== 4) throw new Error(`loadInception: layer '${mixedLayer}' has shape [${mixed.shape.join(',')}], expected [batch, h, w, c]`);
    const gap = tfl.layers.globalAveragePooling2d({ name: `${mixedLayer}_global_average` }).apply(mixed) as tfl.SymbolicTensor;
    outputs.push(gap);
    layers.push({ key: mixedLayer, layer: mixedLayer, dims: mixed.shape[3]! });
  }
  let classes = 0;
  if (classifier !== null) {
    const out = model.outputs[0]!;
    outputs.push(out);
    classes = out.shape[1]!;
  }
  const extractor = tfl.model({ inputs: model.inputs, outputs });
  return {
    name: info.name,
    caveat: info.caveat,
    inputSize: model.inputs[0]!.shape[1] ?? 299,
    layers,
    classes,
    isUnavailableReason: info.isUnavailableReason,
    infer(images: tf.Tensor4D): FeatureOutputs {
      tf.util.assert(images.rank === 4 && images.shape[3] === 3, () => `FeatureNetwork.infer: images must be [batch, h, w, 3], got [${images.shape.join(',')}]`);
      const res = tf.tidy(() => {
        const out = extractor.predict(scale(images)) as tf.Tensor[];
        if (classifier === 'logits') out[layers.length] = tf.softmax(out[layers.length]!);
        return out;
      }) as tf.Tensor2D[];
      return { features: res.slice(0, layers.length), probs: classifier === null ? null : res[layers.length]! };
    },
    dispose,
  };
}

// nsfwjs' model files are read by @disco/colorize/node (which also registers them as the frozen
// network `nsfw-inception`); re-exported here for the metric loaders.
export { fileModelHandler, nsfwInceptionDir, readNsfwInceptionArtifacts } from '@disco/colorize/node';

/**
 * nsfwjs@4.3.0's InceptionV3 as a feature network: 299×299 RGB in [0, 1]; features at `flatten_1`
 * (the 8×8 average pool of `mixed10`, 2048-d) and the global average of `mixed5` (768-d). Blocks up
 * to `mixed5` keep their ImageNet initialisation; later blocks were fine-tuned on a 5-class NSFW
 * task and the weights are uint8-quantised, so scores are project-relative only. IS is unavailable
 * (its head has 5 classes, not ImageNet's 1000). The weights are the frozen-network registry's
 * (loaded once per program, shared with training and `tiny-pf`); `dispose` leaves them.
 */
export async function loadNsfwInception(): Promise<FeatureNetwork> {
  const model = await loadFrozenNetwork('nsfw-inception');
  return wrap(model, 'flatten_1', 'mixed5', null, (x) => x, {
    name: 'nsfw-inception',
    caveat:
      'nsfwjs@4.3.0 InceptionV3 (uint8-quantised; blocks after mixed5 fine-tuned on a 5-class NSFW task): project-relative scores, NOT comparable with published FID/KID values',
    isUnavailableReason: 'the nsfwjs InceptionV3 head has 5 NSFW classes, not 1000 ImageNet classes; pass --inception <model.json> with a 1000-class classifier',
  }, () => {});
}

/**
 * A standard InceptionV3 converted to tfjs layers format (see the README for the conversion), with
 * features at `poolLayer` (2048-d) and the global average of `mixedLayer`; when the model's output
 * has 1000 classes it is used for IS (softmax applied if the output layer is not already one).
 */
export async function loadInceptionFromFile(modelJson: string, options: InceptionFileOptions = {}): Promise<FeatureNetwork> {
  let model: tfl.LayersModel;
  try {
    model = await loadFrozenModel(pathToFileURL(path.resolve(modelJson)).href);
  } catch (e) {
    const message = String((e as Error).message ?? e).split('\n')[0]!;
    throw new Error(message.includes(modelJson) ? message : `loadInceptionFromFile: ${modelJson}: ${message}`);
  }
  const names = new Set(model.layers.map((l) => l.name));
  const poolLayer = options.poolLayer ?? POOL_CANDIDATES.find((n) => names.has(n));
  if (poolLayer === undefined || !names.has(poolLayer)) {
    model.dispose();
    throw new Error(`loadInceptionFromFile: pool layer '${poolLayer ?? ''}' not in the model; give poolLayer (tried ${POOL_CANDIDATES.join(', ')})`);
  }
  const mixedLayer = options.mixedLayer === undefined ? (names.has('mixed5') ? 'mixed5' : null) : options.mixedLayer;
  if (mixedLayer !== null && !names.has(mixedLayer)) {
    model.dispose();
    throw new Error(`loadInceptionFromFile: mixedLayer '${mixedLayer}' not in the model`);
  }
  const range = options.inputRange ?? '[-1,1]';
  if (range !== '[-1,1]' && range !== '[0,1]') throw new Error(`loadInceptionFromFile: inputRange must be one of [-1,1], [0,1], got '${String(range)}'`);
  const out = model.outputs[0]!;
  const outLayer = model.getLayer(out.sourceLayer.name);
  const classes = out.shape.length === 2 ? out.shape[1]! : 0;
  let classifier: 'softmax' | 'logits' | null = null;
  let reason: string | null = null;
  if (classes === 1000) {
    const activation = (outLayer.getConfig() as { activation?: string }).activation;
    classifier = activation === 'softmax' ? 'softmax' : 'logits';
  } else {
    reason = `the model's output has shape [${out.shape.join(',')}], not [batch, 1000] ImageNet classes`;
  }
  const name = options.name ?? `inception-v3:${path.basename(modelJson).replace(/\.json$/, '')}`;
  const scale = range === '[-1,1]' ? (x: tf.Tensor4D) => tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D : (x: tf.Tensor4D) => x;
  return wrap(model, poolLayer, mixedLayer, classifier, scale, {
    name,
    caveat: `user-provided InceptionV3 '${modelJson}': comparable with published FID only if these are the reference FID Inception weights and preprocessing (the Keras ImageNet InceptionV3 and bilinear resizing differ slightly)`,
    isUnavailableReason: reason,
  }, () => model.dispose());
}

/**
 * Converts decoded 8-bit RGB images to a network batch `[batch, size, size, 3]` in [0, 1]: each
 * image is resized with bilinear interpolation (half-pixel centres, no antialiasing; tfjs
 * `resizeBilinear(…, alignCorners=false, halfPixelCenters=true)`) and divided by 255.
 */
export function imagesToBatch(images: readonly { width: number; height: number; data: Uint8Array }[], size: number): tf.Tensor4D {
  tf.util.assert(images.length > 0, () => 'imagesToBatch: images must not be empty');
  return tf.tidy(() => {
    const resized = images.map((im) => {
      tf.util.assert(im.data.length === im.width * im.height * 3, () => `imagesToBatch: image data has ${im.data.length} bytes, expected ${im.width}*${im.height}*3`);
      const t = tf.tensor3d(im.data, [im.height, im.width, 3], 'int32');
      const f = tf.div(tf.cast(t, 'float32'), 255) as tf.Tensor3D;
      return im.width === size && im.height === size ? f : tf.image.resizeBilinear(f, [size, size], false, true);
    });
    return tf.stack(resized) as tf.Tensor4D;
  });
}

/** File name of the standard FID Inception weights that `pytorch-fid` downloads (a PyTorch state dict). */
export const PT_INCEPTION_FILE = 'pt_inception-2015-12-05-6726825d.pth';
/** Where `pytorch-fid` downloads {@link PT_INCEPTION_FILE} from (its `FID_WEIGHTS_URL`). */
export const PT_INCEPTION_URL = 'https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth';
/** The hash in the file's name: by torch.hub's naming convention, the first hex digits of its sha256. */
export const PT_INCEPTION_SHA256_PREFIX = '6726825d';

/**
 * The FID Inception network as a {@link FeatureNetwork} for `eval-fid`: pool3 features (2048-d,
 * layer key `pool`) and the softmax of the 1008 logits (with the fc bias) for IS; images are
 * resized exactly as `pytorch-fid` ({@link fidInceptionInput}). Named `fid-inception-<sha256
 * prefix>` after its weights, so cached features are keyed on them; when the prefix is
 * {@link PT_INCEPTION_SHA256_PREFIX} the caveat says the scores are comparable with published
 * values. Takes ownership of `net` (disposed with the network).
 *
 * @example
 * ```ts
 * const network = fidInceptionNetwork(FidInception.fromStateDict(sd), { sha256, source: 'pt_inception-2015-12-05-6726825d.pth' });
 * ```
 */
export function fidInceptionNetwork(net: FidInception, weights: { sha256: string; source: string }): FeatureNetwork {
  const standard = weights.sha256.startsWith(PT_INCEPTION_SHA256_PREFIX);
  const id = weights.sha256.slice(0, 12);
  return {
    name: `fid-inception-${id}`,
    caveat: standard
      ? `FID Inception (pytorch-fid's InceptionV3, weights ${PT_INCEPTION_FILE}, sha256 ${id}…; pool3 features, 1008-class softmax, pytorch-fid's preprocessing): comparable with published values (FID/IS of pytorch-fid; FID still depends on the sample size)`
      : `FID Inception network with the weights of '${weights.source}' (sha256 ${id}…), NOT the standard ${PT_INCEPTION_FILE} (sha256 ${PT_INCEPTION_SHA256_PREFIX}…): scores are comparable only with scores from the same weights`,
    inputSize: FID_INCEPTION_SIZE,
    layers: [{ key: 'pool', layer: 'pool3', dims: FID_INCEPTION_FEATURES }],
    classes: FID_INCEPTION_CLASSES,
    isUnavailableReason: null,
    preprocessing: "pytorch-fid: RGB/255, bilinear resize to 299x299 as torch interpolate(align_corners=False, no antialias), 2x - 1",
    weightsSha256: weights.sha256,
    comparableWithPublished: standard,
    prepare(images: readonly Rgb8Image[]): tf.Tensor4D {
      tf.util.assert(images.length > 0, () => 'fidInceptionNetwork.prepare: images must not be empty');
      const size = FID_INCEPTION_SIZE * FID_INCEPTION_SIZE * 3;
      const data = new Float32Array(images.length * size);
      images.forEach((im, i) => data.set(fidInceptionInput(im, FID_INCEPTION_SIZE, false), i * size));
      return tf.tensor4d(data, [images.length, FID_INCEPTION_SIZE, FID_INCEPTION_SIZE, 3]);
    },
    infer(images: tf.Tensor4D): FeatureOutputs {
      tf.util.assert(images.rank === 4 && images.shape[3] === 3, () => `FeatureNetwork.infer: images must be [batch, h, w, 3], got [${images.shape.join(',')}]`);
      return tf.tidy(() => {
        const x = images.shape[1] === FID_INCEPTION_SIZE && images.shape[2] === FID_INCEPTION_SIZE ? images : tf.image.resizeBilinear(images, [FID_INCEPTION_SIZE, FID_INCEPTION_SIZE], false, true);
        const { pool3, logits } = net.predict(tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D);
        return { features: [pool3], probs: tf.softmax(logits) as tf.Tensor2D };
      });
    },
    dispose(): void {
      net.dispose();
    },
  };
}

/**
 * Loads the FID Inception network for `eval-fid --inception <file>`: a PyTorch state dict file
 * (the standard {@link PT_INCEPTION_FILE}, or any file with its keys), or a folder in the format of
 * the parity fixtures (`weights.json` + `explicit.bin`: the rule weights, for tests; named by the
 * sha256 of both files).
 *
 * @example
 * ```ts
 * const network = await loadFidInception('pt_inception-2015-12-05-6726825d.pth');
 * network.name; // 'fid-inception-6726825d…'
 * ```
 */
export async function loadFidInception(file: string, options: Partial<FidInceptionOptions> = {}): Promise<FeatureNetwork> {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    const sd = await readRuleStateDict(file, { verify: true });
    const hash = createHash('sha256');
    for (const f of ['weights.json', 'explicit.bin']) hash.update(fs.readFileSync(path.join(file, f)));
    return fidInceptionNetwork(FidInception.fromStateDict(sd, options), { sha256: hash.digest('hex'), source: file });
  }
  const w = await loadFidInceptionStateDict(file);
  return fidInceptionNetwork(FidInception.fromStateDict(w.stateDict, options), { sha256: w.sha256, source: file });
}
