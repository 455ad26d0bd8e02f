/**
 * Offline access to the InceptionV3 shipped inside `nsfwjs@4.3.0` (no network): its
 * `dist/models/inception_v3/model.min.js` exports the Keras topology and weight manifest, each
 * `group1-shard*of6.min.js` one base64 weight shard (uint8-quantised; tfjs dequantises from the
 * manifest's `quantization` fields).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InceptionStemFeatures } from '../model/perceptual.js';
import type { PretrainedFeaturesConfig } from '../model/config.js';
import { KerasInceptionBlocks, registerPretrainedFeatures, type KerasLayerSpec } from '../model/pretrained.js';

/** The folder holding nsfwjs' bundled InceptionV3 (`model.min.js`, `group1-shard*of6.min.js`). */
export function nsfwInceptionDir(): string {
  const require = createRequire(import.meta.url);
  // nsfwjs' "exports" hides dist/models; its main entry is dist/cjs/index.js.
  return path.resolve(path.dirname(require.resolve('nsfwjs')), '../models/inception_v3');
}

/** Reads nsfwjs' bundled InceptionV3 into tfjs model artifacts. */
export function readNsfwInceptionArtifacts(dir: string = nsfwInceptionDir()): tf.io.ModelArtifacts {
  const require = createRequire(import.meta.url);
  const json = require(path.join(dir, 'model.min.js')) as { modelTopology: object; weightsManifest: tf.io.WeightsManifestConfig };
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const b64 = require(path.join(dir, `${p}.min.js`)) as unknown;
      if (typeof b64 !== 'string') throw new Error(`readNsfwInceptionArtifacts: ${p}.min.js did not export a base64 string`);
      shards.push(new Uint8Array(Buffer.from(b64, 'base64')));
    }
  }
  const data = new Uint8Array(shards.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const s of shards) {
    data.set(s, o);
    o += s.length;
  }
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.buffer };
}

/**
 * The perceptual feature network of stage-2 training: the ImageNet-initialised stem of nsfwjs'
 * InceptionV3 (see {@link InceptionStemFeatures}), dequantised and with batch norm folded.
 */
export function loadNsfwInceptionStem(): InceptionStemFeatures {
  const a = readNsfwInceptionArtifacts();
  const wanted = a.weightSpecs!.filter((s) => /^(conv2d_[1-5]|batch_normalization_[1-5])\//.test(s.name));
  // decodeWeights needs the whole buffer in spec order; decode all, keep the stem.
  const all = tf.io.decodeWeights(a.weightData as ArrayBuffer, a.weightSpecs!);
  const keep: Record<string, tf.Tensor> = {};
  for (const s of wanted) keep[s.name] = all[s.name]!;
  const net = new InceptionStemFeatures(keep, { name: 'nsfw-inception-v3-stem(act1,act3,act5)' });
  tf.dispose(Object.values(all));
  return net;
}

/** Dequantised weights and layers of nsfwjs' InceptionV3, read once per process (≈ 90 MB of float32). */
let cached: { layers: KerasLayerSpec[]; weights: Map<string, { data: Float32Array; shape: number[] }> } | null = null;

function nsfwInception(): NonNullable<typeof cached> {
  if (cached) return cached;
  const a = readNsfwInceptionArtifacts();
  const layers = (a.modelTopology as { model_config: { config: { layers: KerasLayerSpec[] } } }).model_config.config.layers;
  const all = tf.io.decodeWeights(a.weightData as ArrayBuffer, a.weightSpecs!);
  const weights = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [n, t] of Object.entries(all)) weights.set(n, { data: t.dataSync() as Float32Array, shape: t.shape.slice() });
  tf.dispose(Object.values(all));
  cached = { layers, weights };
  return cached;
}

/**
 * The frozen pretrained features of {@link PretrainedFeaturesConfig} `network: 'nsfw-inception'`:
 * nsfwjs' InceptionV3 (Szegedy et al. 2016) up to `layer` (`stem`, `mixed0`, `mixed1`, `mixed2`),
 * batch norm folded ({@link KerasInceptionBlocks}). Input RGB in [0, 1] as nsfwjs feeds it.
 * Synchronous (files are read with `require`); the dequantised weights are cached per process.
 */
export function loadNsfwInceptionBlocks(layer: PretrainedFeaturesConfig['layer']): KerasInceptionBlocks {
  const { layers, weights } = nsfwInception();
  // Only the weights of the layers that run become tensors (on first read), and are freed after folding.
  const made: Record<string, tf.Tensor> = {};
  const lookup = new Proxy(made, {
    get(target, name: string) {
      const w = weights.get(name);
      if (!(name in target) && w) target[name] = tf.tensor(w.data, w.shape, 'float32');
      return target[name];
    },
  });
  try {
    return new KerasInceptionBlocks(layers, lookup, layer, { name: `nsfw-inception-v3:${layer}` });
  } finally {
    tf.dispose(Object.values(made));
  }
}

// The Node entry supplies the weights of `pretrainedFeatures: { network: 'nsfw-inception' }`.
registerPretrainedFeatures('nsfw-inception', (config) => loadNsfwInceptionBlocks(config.layer));
