/**
 * Reading and writing DISCO model folders (`disco-model.json` + `weights.bin`) and the model
 * embedded in this package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic, writeJsonAtomic } from '@disco/runtime/node';
import type { DiscoModel } from '../model/disco.js';
import { deserializeDiscoModel, serializeDiscoModel, type DiscoModelJson } from '../model/serialize.js';

/** File names inside a model folder. */
export const MODEL_FILES = Object.freeze({ json: 'disco-model.json', weights: 'weights.bin' });

/** The folder of the trained `tiny` model shipped with this package. */
export function embeddedModelDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'tiny');
}

/** Writes a model folder; each file is written atomically (temp name, then rename). */
export async function saveDiscoModel(model: DiscoModel, dir: string, meta: Record<string, unknown> = {}): Promise<void> {
  const { json, weights } = await serializeDiscoModel(model, meta);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, MODEL_FILES.weights), new Uint8Array(weights));
  writeJsonAtomic(path.join(dir, MODEL_FILES.json), json);
}

/** Reads a model folder written by {@link saveDiscoModel}; errors name the folder. */
export function loadDiscoModel(dir: string = embeddedModelDir()): DiscoModel {
  const jf = path.join(dir, MODEL_FILES.json);
  const wf = path.join(dir, MODEL_FILES.weights);
  if (!fs.existsSync(jf)) throw new Error(`--model: no ${MODEL_FILES.json} in '${dir}'`);
  if (!fs.existsSync(wf)) throw new Error(`--model: no ${MODEL_FILES.weights} in '${dir}'`);
  let json: DiscoModelJson;
  try {
    json = JSON.parse(fs.readFileSync(jf, 'utf8')) as DiscoModelJson;
  } catch (e) {
    throw new Error(`--model: ${jf}: ${(e as Error).message.split('\n')[0]}`);
  }
  const buf = fs.readFileSync(wf);
  return deserializeDiscoModel(json, buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), `--model: ${dir}`);
}

/** The `meta` (model card facts) of a model folder without loading its weights. */
export function readModelMeta(dir: string = embeddedModelDir()): Record<string, unknown> {
  return (JSON.parse(fs.readFileSync(path.join(dir, MODEL_FILES.json), 'utf8')) as DiscoModelJson).meta;
}
