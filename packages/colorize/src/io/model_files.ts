/**
 * Reading and writing DISCO model folders (`disco-model.json` + `weights.bin`) and the model
 * embedded in this package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFileSystem, sha256Hex, writeFileAtomic, writeJsonAtomic, type FileSystem } from '@disco/runtime/node';
import type { ColorizationModel } from '../model/baseline.js';
import { loadPretrainedFeatures } from '../model/pretrained.js';
import { DISCO_MODEL_FORMAT, deserializeDiscoModel, serializeDiscoModel, storedModelConfig, type DiscoModelJson } from '../model/serialize.js';
import { DEFAULT_MODEL, EMBEDDED_MODELS, type EmbeddedModelName } from '../model/embedded.js';
import { readOfficialCheckpoint } from './official_checkpoint.js';
// Registers the frozen network of `pretrainedFeatures: { network: 'nsfw-inception' }` for loaded models.
import './nsfw_inception.js';

/** File names inside a model folder. */
export const MODEL_FILES = Object.freeze({ json: 'disco-model.json', weights: 'weights.bin' });

export { DEFAULT_MODEL, EMBEDDED_MODELS, type EmbeddedModelName } from '../model/embedded.js';

/**
 * The folder of a trained model shipped with this package: `tiny-pf` (the default,
 * {@link DEFAULT_MODEL}: frozen InceptionV3 features from `nsfwjs`, which the demo serves too) or `tiny`.
 *
 * @example
 * ```ts
 * const model = await loadDiscoModel(embeddedModelDir('tiny-pf'));
 * ```
 */
export function embeddedModelDir(name: EmbeddedModelName = DEFAULT_MODEL): string {
  if (!EMBEDDED_MODELS.includes(name)) throw new Error(`embeddedModelDir: unknown model '${String(name)}'; valid: ${EMBEDDED_MODELS.join(', ')}`);
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', name);
}

/**
 * A `--model` value, looked up in this order: absent, the default embedded model
 * ({@link DEFAULT_MODEL}); an embedded model's name; else a folder or a published DISCO checkpoint
 * file (the `paper` model, the best of all when the user has one), made absolute by `resolvePath`
 * (default: against the working folder).
 */
export function resolveModelArg(value: string | undefined, resolvePath: (p: string) => string = path.resolve): string {
  if (value === undefined) return embeddedModelDir();
  return (EMBEDDED_MODELS as readonly string[]).includes(value) ? embeddedModelDir(value as EmbeddedModelName) : resolvePath(value);
}

/** Writes a model folder; each file is written atomically (temp name, then rename). `files` is the file-system layer (tests inject faults). */
export async function saveDiscoModel(model: ColorizationModel, dir: string, meta: Record<string, unknown> = {}, files: FileSystem = nodeFileSystem): Promise<void> {
  const { json, weights } = await serializeDiscoModel(model, meta);
  const bytes = new Uint8Array(weights);
  writeFileAtomic(path.join(dir, MODEL_FILES.weights), bytes, { fs: files });
  const { format, ...rest } = json;
  writeJsonAtomic(path.join(dir, MODEL_FILES.json), { format, weightsSha256: sha256Hex(bytes), ...rest }, { fs: files });
}

/**
 * Checks the fields of a model JSON that {@link deserializeDiscoModel} relies on, so a damaged or
 * hand-edited file fails with one line naming the file and the field. Returns the byte count the
 * weight specs need (float32).
 */
export function checkModelJson(json: unknown, file: string): number {
  const bad = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  if (!json || typeof json !== 'object' || Array.isArray(json)) bad('not a JSON object');
  const j = json as Partial<DiscoModelJson>;
  if (typeof j.format !== 'string') bad("missing 'format'");
  if (!j.config || typeof j.config !== 'object' || Array.isArray(j.config)) bad("missing 'config' (an object)");
  if (!Array.isArray(j.weightSpecs)) bad("missing 'weightSpecs' (a list)");
  let bytes = 0;
  j.weightSpecs!.forEach((w, i) => {
    if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`weightSpecs[${i}] must be {name, shape: [integers], dtype}`);
    if (w.dtype !== undefined && w.dtype !== 'float32') bad(`weightSpecs[${i}] '${w.name}': dtype ${String(w.dtype)}; only float32 is written`);
    bytes += w.shape.reduce((a, b) => a * b, 1) * 4;
  });
  return bytes;
}

/**
 * Throws one line naming `file` if a float32 weight buffer holds NaN or ±Infinity (a diverged run
 * saved that way would fail on every image), with the count and the first weight affected.
 */
export function checkFiniteWeights(buf: ArrayBuffer, specs: ReadonlyArray<{ name: string; shape: number[] }>, file: string): void {
  const v = new Float32Array(buf, 0, Math.floor(buf.byteLength / 4));
  let bad = 0;
  let first = -1;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad === 0) return;
  let at = 0;
  let name = '?';
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (first < at + n) {
      name = s.name;
      break;
    }
    at += n;
  }
  throw new Error(`${file}: ${bad} of ${v.length} weights are not finite (NaN or Infinity), first in '${name}'; the model cannot be used`);
}

/**
 * Reads a model folder written by {@link saveDiscoModel}, or a published DISCO checkpoint file
 * (`torch.save`, e.g. `disco-beta.pth.tar`; converted into the `paper` model on the fly, see
 * `readOfficialCheckpoint`); errors name the folder or file. Loads the frozen network a
 * `pretrainedFeatures` config needs first (once per program), hence async.
 */
export async function loadDiscoModel(dir: string = embeddedModelDir()): Promise<ColorizationModel> {
  if (fs.existsSync(dir) && fs.statSync(dir).isFile()) {
    try {
      return readOfficialCheckpoint(dir, { build: true }).model!;
    } catch (e) {
      throw new Error(`--model: ${(e as Error).message}`);
    }
  }
  const jf = path.join(dir, MODEL_FILES.json);
  const wf = path.join(dir, MODEL_FILES.weights);
  if (!fs.existsSync(dir)) {
    throw new Error(`--model: '${dir}' does not exist; valid: ${EMBEDDED_MODELS.join(', ')} (embedded), a model folder with ${MODEL_FILES.json} + ${MODEL_FILES.weights} (\`disco export --run <run>\` makes one from a training run), or a published DISCO checkpoint file (.pth / .pth.tar)`);
  }
  if (!fs.existsSync(jf)) throw new Error(`--model: no ${MODEL_FILES.json} in '${dir}'`);
  if (!fs.existsSync(wf)) throw new Error(`--model: no ${MODEL_FILES.weights} in '${dir}'`);
  let json: DiscoModelJson;
  try {
    json = JSON.parse(fs.readFileSync(jf, 'utf8')) as DiscoModelJson;
  } catch (e) {
    throw new Error(`--model: ${jf}: ${(e as Error).message.split('\n')[0]}`);
  }
  const ours = (json as { format?: unknown } | null)?.format === DISCO_MODEL_FORMAT;
  const need = ours ? checkModelJson(json, `--model: ${jf}`) : 0;
  let buf: Buffer;
  try {
    buf = fs.readFileSync(wf);
  } catch (e) {
    throw new Error(`--model: ${wf}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (ours && buf.length !== need) throw new Error(`--model: ${wf}: ${buf.length} bytes, ${path.basename(jf)} needs ${need} (truncated or from another model)`);
  if (ours && typeof json.weightsSha256 === 'string' && sha256Hex(buf) !== json.weightsSha256) throw new Error(`--model: ${wf}: sha256 ${sha256Hex(buf).slice(0, 16)}… differs from the ${json.weightsSha256.slice(0, 16)}… recorded in ${path.basename(jf)} (damaged or replaced)`);
  const weights = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  if (ours) checkFiniteWeights(weights, json.weightSpecs, `--model: ${wf}`);
  if (ours) await loadPretrainedFeatures(storedModelConfig(json, `--model: ${jf}`));
  return deserializeDiscoModel(json, weights, `--model: ${jf}`);
}

/** The `meta` (model card facts) of a model folder without loading its weights. */
export function readModelMeta(dir: string = embeddedModelDir()): Record<string, unknown> {
  return (JSON.parse(fs.readFileSync(path.join(dir, MODEL_FILES.json), 'utf8')) as DiscoModelJson).meta;
}
