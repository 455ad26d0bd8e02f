/**
 * The files of the InceptionV3 shipped inside `nsfwjs@4.3.0`, as a tfjs layers model's files
 * (`model.json` + binary shards). Node built-ins only, so the demo's Vite config can import it to
 * serve them (`packages/demo/nsfw-inception.ts`).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';

/** The folder holding nsfwjs' bundled InceptionV3 (`model.min.js`, `group1-shard*of6.min.js`). */
export function nsfwInceptionDir(): string {
  const require = createRequire(import.meta.url);
  // nsfwjs' "exports" hides dist/models; its main entry is dist/cjs/index.js.
  return path.resolve(path.dirname(require.resolve('nsfwjs')), '../models/inception_v3');
}

/**
 * nsfwjs' bundled InceptionV3 as the files of a tfjs layers model: `model.json` (topology and
 * weight manifest) and the binary weight shards named in it, each `group1-shard<k>of6.bin`. The
 * demo serves these; {@link readNsfwInceptionArtifacts} joins them.
 *
 * @example
 * ```ts
 * const { modelJson, shards } = nsfwInceptionFiles();
 * shards.map((s) => s.name); // ['group1-shard1of6.bin', …, 'group1-shard6of6.bin']
 * ```
 */
export function nsfwInceptionFiles(dir: string = nsfwInceptionDir()): { modelJson: { modelTopology: object; weightsManifest: tf.io.WeightsManifestConfig }; shards: Array<{ name: string; bytes: Uint8Array }> } {
  const require = createRequire(import.meta.url);
  const json = require(path.join(dir, 'model.min.js')) as { modelTopology: object; weightsManifest: tf.io.WeightsManifestConfig };
  const shards: Array<{ name: string; bytes: Uint8Array }> = [];
  const weightsManifest = json.weightsManifest.map((group) => ({
    ...group,
    paths: group.paths.map((p) => {
      const b64 = require(path.join(dir, `${p}.min.js`)) as unknown;
      if (typeof b64 !== 'string') throw new Error(`nsfwInceptionFiles: ${p}.min.js did not export a base64 string`);
      shards.push({ name: `${p}.bin`, bytes: new Uint8Array(Buffer.from(b64, 'base64')) });
      return `${p}.bin`;
    }),
  }));
  return { modelJson: { modelTopology: json.modelTopology, weightsManifest }, shards };
}
