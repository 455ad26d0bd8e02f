/**
 * The Node side of the frozen-network registry (`../model/frozen.ts`): registers `nsfw-inception`,
 * the InceptionV3 shipped inside `nsfwjs@4.3.0` (read offline from the installed package: its
 * `dist/models/inception_v3/model.min.js` exports the Keras topology and weight manifest, each
 * `group1-shard*of6.min.js` one base64 weight shard, uint8-quantised; tfjs dequantises from the
 * manifest's `quantization` fields), and a `file://` loader for tfjs layers models on disk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { registerFrozenNetwork } from '../model/frozen.js';
import { nsfwInceptionFiles } from './nsfw_files.js';

export { nsfwInceptionDir, nsfwInceptionFiles } from './nsfw_files.js';

function concat(parts: readonly Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out.buffer;
}

/** Reads nsfwjs' bundled InceptionV3 into tfjs model artifacts (for `tf.io.fromMemory`). */
export function readNsfwInceptionArtifacts(dir?: string): tf.io.ModelArtifacts {
  const { modelJson, shards } = nsfwInceptionFiles(dir);
  return { modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights), weightData: concat(shards.map((s) => s.bytes)) };
}

/**
 * An IOHandler reading a tfjs layers model (`model.json` plus the binary weight files listed in its
 * `weightsManifest`, relative to the JSON's folder) from disk; `loadFrozenModel('file://…/model.json')`
 * uses it once this module is imported.
 */
export function fileModelHandler(modelJson: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { modelTopology?: object; weightsManifest?: tf.io.WeightsManifestConfig; format?: string };
      if (json.modelTopology === undefined || json.weightsManifest === undefined) {
        throw new Error(`fileModelHandler: '${modelJson}' is not a tfjs model.json (needs modelTopology and weightsManifest)`);
      }
      const dir = path.dirname(modelJson);
      const specs = json.weightsManifest.flatMap((g) => g.weights);
      const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => new Uint8Array(fs.readFileSync(path.join(dir, p)))));
      return { modelTopology: json.modelTopology, weightSpecs: specs, weightData: concat(shards), format: json.format };
    },
  };
}

// `file://` URLs load from disk (tfjs registers no file handler without @tensorflow/tfjs-node).
tf.io.registerLoadRouter((url) => (typeof url === 'string' && url.startsWith('file://') ? fileModelHandler(fileURLToPath(url)) : (null as unknown as tf.io.IOHandler)));
// The frozen network of `pretrainedFeatures: { network: 'nsfw-inception' }` and of `--perceptual inception`.
registerFrozenNetwork('nsfw-inception', () => tf.io.fromMemory(readNsfwInceptionArtifacts()));
