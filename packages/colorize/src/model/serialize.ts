/**
 * DISCO model files: `disco-model.json` (format tag, config, weight specs) + one weights buffer.
 * Browser-safe: this module only converts to and from bytes; `@disco/colorize/node` reads and
 * writes the files.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveStoredConfig, type DiscoConfig } from './config.js';
import { createColorizationModel, type ColorizationModel } from './baseline.js';

/** Format tag written into every model file. */
export const DISCO_MODEL_FORMAT = 'disco-model-v1';

/** The JSON half of a saved model. */
export interface DiscoModelJson {
  /** Always {@link DISCO_MODEL_FORMAT}. */
  format: string;
  /** The model configuration. */
  config: DiscoConfig;
  /** tfjs weight specs, in buffer order. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Free-form provenance (training run, data, metrics): the model card's facts. */
  meta: Record<string, unknown>;
  /** sha256 (hex) of `weights.bin`, checked when a model folder is loaded in Node (absent in older files). */
  weightsSha256?: string;
}

/** Serialises every weight of a model, DISCO or a baseline (batch-norm statistics included). */
export async function serializeDiscoModel(model: ColorizationModel, meta: Record<string, unknown> = {}): Promise<{ json: DiscoModelJson; weights: ArrayBuffer }> {
  const { data, specs } = await tf.io.encodeWeights(model.namedWeights());
  return { json: { format: DISCO_MODEL_FORMAT, config: model.config as DiscoConfig, weightSpecs: specs, meta }, weights: data };
}

/**
 * The resolved config of a model file's JSON (flat configs of earlier versions migrated); a config
 * that does not validate is a one-line error naming `where`.
 */
export function storedModelConfig(json: Pick<DiscoModelJson, 'config'>, where = 'model'): DiscoConfig {
  try {
    return resolveStoredConfig(json.config);
  } catch (e) {
    throw new Error(`${where}: config: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Rebuilds a model from {@link serializeDiscoModel}'s output (a `DiscoModel`, or a `BaselineModel`
 * when `extensions.arch` names a baseline). Throws a one-line error on a wrong
 * format tag, a config that does not validate, or weights that do not match the config.
 */
export function deserializeDiscoModel(json: DiscoModelJson, weights: ArrayBuffer, where = 'model'): ColorizationModel {
  if (!json || json.format !== DISCO_MODEL_FORMAT) throw new Error(`${where}: not a DISCO model (format '${String(json?.format)}', expected '${DISCO_MODEL_FORMAT}')`);
  const config = storedModelConfig(json, where);
  const expected = json.weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weights.byteLength !== expected) throw new Error(`${where}: weights hold ${weights.byteLength} bytes, the specs need ${expected}`);
  const model = createColorizationModel(config);
  const named = tf.io.decodeWeights(weights, json.weightSpecs);
  try {
    model.setNamedWeights(named);
  } catch (e) {
    model.dispose();
    throw new Error(`${where}: ${(e as Error).message}`);
  } finally {
    tf.dispose(Object.values(named));
  }
  return model;
}
