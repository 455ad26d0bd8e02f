/**
 * The one-line paths for users (Node): {@link loadPretrained} loads a trained DISCO model by name
 * (or from a model folder), and {@link colorize} turns one image — a file or an RGB tensor — into
 * its colorization with a single call. The pieces underneath (`DiscoModel`, `colorizeL`, the Lab
 * conversions of `@disco/color`, the reader of `@disco/images`) stay importable one by one.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { ColorVariant } from '@disco/anchors';
import { normalizedLabToRgb, rgbToNormalizedLab } from '@disco/color';
import { readImage } from '@disco/images';
import { readPth, stateDictOf } from '@disco/pth';
import type { BackendChoice } from '@disco/runtime';
import { ensureBackend } from '@disco/runtime/node';
import { DEFAULT_MODEL, EMBEDDED_MODELS, embeddedModelDir, loadDiscoModel, type EmbeddedModelName } from './io/model_files.js';
import { officialModel } from './model/official.js';
import type { ColorizationModel } from './model/baseline.js';
import { colorizeL, type ColorizeOptions } from './model/infer.js';

/**
 * The pretrained models shipped inside this package, by name: `tiny-pf` (the default,
 * {@link DEFAULT_MODEL}: 64² input, 8 anchors, frozen InceptionV3 features;
 * `models/tiny-pf/MODEL_CARD.md`) and `tiny` (the same without them; `models/tiny/MODEL_CARD.md`).
 */
export const PRETRAINED_MODELS: Readonly<Record<EmbeddedModelName, () => string>> = Object.freeze(
  Object.fromEntries(EMBEDDED_MODELS.map((name) => [name, () => embeddedModelDir(name)])) as Record<EmbeddedModelName, () => string>,
);

/** Name of a model in {@link PRETRAINED_MODELS}. */
export type PretrainedName = keyof typeof PRETRAINED_MODELS;

/** Options of {@link loadPretrained}. */
export interface LoadPretrainedOptions {
  /**
   * The tfjs backend. Default: the one the program already set, else the first that loads of
   * native TensorFlow (when `@tensorflow/tfjs-node` is installed), wasm and cpu — chosen silently,
   * so a plain `node` script needs no backend code. Naming one switches to it (an error when it
   * cannot load).
   */
  backend?: BackendChoice;
}

/**
 * Loads a trained DISCO model: a name from {@link PRETRAINED_MODELS} (default {@link DEFAULT_MODEL},
 * `'tiny-pf'`, the embedded model that leads by class-rebalanced AuC), the path of a model folder
 * (`disco-model.json` + `weights.bin`, as `disco train` and `saveDiscoModel` write them), or a
 * published DISCO checkpoint — its path or its bytes (the authors' `torch.save` file, converted
 * into the `paper` model: the best colors available, used only when named); a folder holding a
 * per-pixel baseline gives a `BaselineModel`. Each
 * call returns a new model; the caller disposes it. Sets up a backend first when none is active
 * ({@link LoadPretrainedOptions.backend}).
 *
 * @example
 * ```ts
 * import { loadPretrained, colorize } from '@disco/colorize/node';
 *
 * const model = await loadPretrained(); // tiny-pf
 * const rgb = await colorize('photo.jpg', { model }); // [H,W,3] float32 in [0,1]
 * model.dispose();
 * ```
 */
export async function loadPretrained(nameOrDir: PretrainedName | string | Uint8Array = DEFAULT_MODEL, options: LoadPretrainedOptions = {}): Promise<ColorizationModel> {
  if (nameOrDir instanceof Uint8Array) {
    await ensureBackend({ backend: options.backend });
    return officialModel(stateDictOf(readPth(nameOrDir, { source: 'loadPretrained' }), 'loadPretrained'), 'loadPretrained');
  }
  const named = Object.prototype.hasOwnProperty.call(PRETRAINED_MODELS, nameOrDir) ? PRETRAINED_MODELS[nameOrDir as PretrainedName] : null;
  if (!named && !fs.existsSync(nameOrDir)) {
    throw new Error(`loadPretrained: unknown model '${nameOrDir}'; valid: ${Object.keys(PRETRAINED_MODELS).join(', ')}, the path of a model folder, or a published DISCO checkpoint (.pth / .pth.tar)`);
  }
  await ensureBackend({ backend: options.backend });
  try {
    return await loadDiscoModel(named ? named() : nameOrDir);
  } catch (e) {
    throw new Error(`loadPretrained: ${(e as Error).message.replace(/^--model: /, '')}`);
  }
}

/** Options of {@link colorize}: which model, which result, and the options of `colorizeL`. */
export interface ColorizeImageOptions extends Partial<Omit<ColorizeOptions, 'variants' | 'oracle'>> {
  /**
   * The model: a loaded `DiscoModel` or `BaselineModel` (not disposed), or a name or folder for
   * {@link loadPretrained} (loaded on first use and kept for later calls). Default {@link DEFAULT_MODEL}.
   */
  model?: ColorizationModel | PretrainedName | string;
  /**
   * Which anchor-color variant (Xia et al. 2022, §3: the anchors' colors sampled from the color
   * modeler's distributions): 0 the most probable colors, 1 and 2 two sampled alternatives.
   * Default 0.
   */
  variant?: ColorVariant;
  /** The tfjs backend, as {@link LoadPretrainedOptions.backend}. */
  backend?: BackendChoice;
}

const loaded = new Map<string, Promise<ColorizationModel>>();

function modelFor(spec: ColorizeImageOptions['model'], backend: BackendChoice | undefined): Promise<ColorizationModel> {
  if (spec !== undefined && typeof spec !== 'string') return Promise.resolve(spec);
  const key = spec ?? DEFAULT_MODEL;
  let m = loaded.get(key);
  if (!m) {
    m = loadPretrained(key, { backend });
    loaded.set(key, m);
    m.catch(() => loaded.delete(key));
  }
  return m;
}

/**
 * Colorizes one image in one call: reads it (a file name, any format `@disco/images` reads, alpha
 * composited on white) or takes an RGB tensor, keeps its lightness, and returns the colorized RGB
 * at the input's full resolution. The model runs at its own size (`mode: 'resize'`, ab brought
 * onto the original L by a guided filter with L as guide, `chromaUpsampling: 'guided'`; `'bilinear'`
 * for the raw network output) unless `mode: 'pad'`. A color input is treated as its lightness only.
 *
 * @param image A file name, or RGB `[height, width, 3]` (or grey `[height, width, 1]`) float32 in
 *   [0, 1] (not disposed).
 * @returns `[height, width, 3]` float32 RGB in [0, 1]; the caller owns it.
 *
 * @example
 * ```ts
 * import { colorize } from '@disco/colorize/node';
 * import { writeImage } from '@disco/images';
 *
 * const rgb = await colorize('grey.jpg');                    // the default embedded model, tiny-pf
 * await writeImage('color.png', rgb);
 * const other = await colorize('grey.jpg', { variant: 1 });  // a second, sampled colorization
 * tf.dispose([rgb, other]);
 * ```
 */
export async function colorize(image: string | tf.Tensor3D, options: ColorizeImageOptions = {}): Promise<tf.Tensor3D> {
  const { model: spec, variant = 0, backend, ...rest } = options;
  if (typeof image !== 'string') {
    tf.util.assert(image instanceof tf.Tensor && image.rank === 3 && (image.shape[2] === 3 || image.shape[2] === 1), () => `colorize: image must be a file name or a [height, width, 3 | 1] tensor; got ${image instanceof tf.Tensor ? `[${image.shape}]` : typeof image}`);
  }
  if (variant !== 0 && variant !== 1 && variant !== 2) throw new Error(`colorize: variant must be 0, 1 or 2; got ${String(variant)}`);
  await ensureBackend({ backend });
  if (typeof image !== 'string' && tf.tidy(() => tf.all(tf.isFinite(image)).dataSync()[0]) !== 1) throw new Error('colorize: the image contains NaN or Infinity; give RGB values in [0, 1]');
  const model = await modelFor(spec, backend);
  const rgb = typeof image === 'string' ? await readImage(image) : image;
  const L = tf.tidy(() => {
    const x = tf.expandDims(rgb.shape[2] === 1 ? tf.tile(rgb, [1, 1, 3]) : rgb, 0) as tf.Tensor4D; // [1,H,W,3]
    return rgbToNormalizedLab(x).L; // [1,H,W,1]
  });
  try {
    const [result] = colorizeL(model, L, { ...rest, variants: [variant] });
    const out = tf.tidy(() => tf.squeeze(normalizedLabToRgb(L, result!.ab), [0]) as tf.Tensor3D); // [H,W,3]
    result!.ab.dispose();
    return out;
  } finally {
    L.dispose();
    if (rgb !== image) rgb.dispose();
  }
}
