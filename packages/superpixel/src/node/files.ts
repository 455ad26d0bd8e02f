/**
 * SPixNet files and photo batches in Node (Xia et al. 2022, §3.1): the one SPixNet loader and
 * saver for model folders (`model.json` + `weights.bin`), the stage-1 photo batches, and image
 * reading and writing for the `spixnet` commands.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { nodeFileSystem, writeFileAtomic, type FileSystem } from '@disco/runtime/node';
import { rgbToNormalizedLab } from '@disco/color';
import { decodeImage, listImages, writePng8 } from '@disco/images';
import { mulberry32, permutation } from '@disco/random';
import { SpixNet } from '../spixnet.js';
import type { Stage1Batch } from '../train.js';

/** The image files of a folder and its subfolders, sorted by path (the one image lister of `@disco/images`). */
export function listFolderImages(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--data: '${dir}' is not a folder`);
  try {
    return listImages(dir);
  } catch (e) {
    throw new Error(`--data: ${(e as Error).message}`);
  }
}

/** Reads an image as sRGB in [0, 1], alpha dropped, resized (cover crop) to `size`²: `[1, size, size, 3]`. */
export async function readRgb(file: string, size: number): Promise<tf.Tensor4D> {
  const { data, width, height } = await decodeImage(file, { alpha: 'drop', cover: size });
  return tf.tensor4d(data, [1, height, width, 3]);
}

/** Writes `[1, H, W, 3]` sRGB in [0, 1] as a PNG. */
export async function writePng(file: string, rgb: tf.Tensor4D): Promise<void> {
  const [, H, W] = rgb.shape;
  const bytes = Uint8Array.from(await rgb.data(), (x) => Math.round(Math.min(1, Math.max(0, x)) * 255));
  await writePng8(file, bytes, W, H);
}

/** Deterministic permutation of `n` items for `(seed, epoch)` (mulberry32 + Fisher–Yates). */
function epochPermutation(n: number, seed: number, epoch: number): number[] {
  return permutation(n, mulberry32((seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0));
}

/**
 * Batches for steps `[startStep, steps)`: image `pos = step*batch + i` of the run is
 * `perm(epoch = pos div n)[pos mod n]`, so a resumed run sees exactly the batches it would have seen.
 * Ends early once `stop()` returns true.
 */
export async function* imageBatches(files: string[], size: number, batch: number, seed: number, startStep: number, steps: number, stop: () => boolean = () => false): AsyncGenerator<Stage1Batch> {
  const perms = new Map<number, number[]>();
  for (let step = startStep; step < steps && !stop(); step++) {
    const rgbs: tf.Tensor4D[] = [];
    for (let i = 0; i < batch; i++) {
      const pos = step * batch + i;
      const epoch = Math.floor(pos / files.length);
      if (!perms.has(epoch)) perms.set(epoch, epochPermutation(files.length, seed, epoch));
      rgbs.push(await readRgb(files[perms.get(epoch)![pos % files.length]!]!, size));
    }
    const rgb = tf.concat(rgbs, 0) as tf.Tensor4D;
    tf.dispose(rgbs);
    const lab = rgbToNormalizedLab(rgb);
    rgb.dispose();
    yield lab;
  }
}

/** A SPixNet as the two files of a tfjs model folder: `model.json` and `weights.bin`. */
export async function netFiles(net: SpixNet): Promise<{ 'model.json': Uint8Array; 'weights.bin': Uint8Array }> {
  let files: { 'model.json': Uint8Array; 'weights.bin': Uint8Array } | null = null;
  await net.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      files = { 'model.json': Buffer.from(`${JSON.stringify(modelJson, null, 2)}\n`), 'weights.bin': new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!)) };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return files!;
}

/**
 * Writes a SPixNet as `model.json` + `weights.bin` into `dir` (each file atomically), the folder
 * {@link loadSpixNet} reads.
 *
 * @example
 * ```ts
 * await saveSpixNet(SpixNet.create({}, 'tiny'), 'out/spixnet');
 * ```
 */
export async function saveSpixNet(net: SpixNet, dir: string, files: FileSystem = nodeFileSystem): Promise<void> {
  const f = await netFiles(net);
  writeFileAtomic(path.join(dir, 'weights.bin'), f['weights.bin'], { fs: files });
  writeFileAtomic(path.join(dir, 'model.json'), f['model.json'], { fs: files });
}

/** Builds a SPixNet from the bytes of `model.json` and its weights; errors are one line naming `where`. */
export async function netFromFiles(json: Uint8Array, weights: Uint8Array, where: { json: string; weights: string }): Promise<SpixNet> {
  let model: tf.io.ModelJSON;
  try {
    model = JSON.parse(Buffer.from(json).toString('utf8')) as tf.io.ModelJSON;
  } catch (e) {
    throw new Error(`${where.json}: not valid JSON: ${String((e as Error).message).split('\n')[0]}`);
  }
  const manifest = Array.isArray(model?.weightsManifest) ? model.weightsManifest[0] : undefined;
  if (!manifest || !Array.isArray(manifest.weights) || !Array.isArray(manifest.paths) || !model.modelTopology) throw new Error(`${where.json}: not a tfjs layers model (needs modelTopology and weightsManifest)`);
  const need = manifest.weights.reduce((n, w) => n + (Array.isArray(w.shape) ? w.shape.reduce((a, b) => a * b, 1) : 0) * 4, 0);
  if (weights.byteLength !== need) throw new Error(`${where.weights}: ${weights.byteLength} bytes, ${path.basename(where.json)} needs ${need} (truncated or from another model)`);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const v = new Float32Array(weightData);
  if (!v.every(Number.isFinite)) throw new Error(`${where.weights}: weights are not finite (NaN or Infinity)`);
  try {
    return await SpixNet.load(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: manifest.weights, weightData, userDefinedMetadata: model.userDefinedMetadata, format: model.format, generatedBy: model.generatedBy }));
  } catch (e) {
    throw new Error(`${where.json}: ${String((e as Error).message).split('\n')[0]}`);
  }
}

/**
 * Loads a SPixNet from a folder written by the `train` command or {@link saveSpixNet}
 * (`model.json` + `weights.bin`): the one SPixNet loader. The sizes of the weights are checked
 * against `model.json` and every weight must be finite. Errors are one line starting with `flag`
 * (the option that named the folder) and naming the file.
 *
 * @example
 * ```ts
 * import { loadSpixNet } from '@disco/superpixel/node';
 * const net = await loadSpixNet('runs/spixnet-tiny/model');
 * const association = net.predict(L); // [B, H, W, 9]
 * ```
 */
export async function loadSpixNet(dir: string, flag = '--model'): Promise<SpixNet> {
  if (!fs.existsSync(dir)) throw new Error(`${flag}: '${dir}' does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${flag}: '${dir}' is not a folder`);
  const file = path.join(dir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`${flag}: no model.json in '${dir}'`);
  const read = (f: string): Buffer => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new Error(`${flag}: ${f}: ${String((e as Error).message).split('\n')[0]}`);
    }
  };
  const json = read(file);
  let wname = 'weights.bin';
  try {
    wname = (JSON.parse(json.toString('utf8')) as tf.io.ModelJSON).weightsManifest[0]!.paths[0]!;
  } catch {
    // reported by netFromFiles
  }
  const wf = path.join(dir, path.basename(wname));
  const weights = fs.existsSync(wf) ? read(wf) : new Uint8Array(0);
  try {
    return await netFromFiles(json, weights, { json: file, weights: wf });
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
}

