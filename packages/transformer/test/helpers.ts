import * as tf from '@tensorflow/tfjs-core';
import { randomTensor } from '@disco/runtime/testing';
import type { TransformerModule } from '../src/index.js';
import type { Flat } from './reference.js';

/** Sets every weight of `m` to uniform random values in [-0.5, 0.5) (biases and norms included). */
export function randomizeWeights(m: TransformerModule, seed: number): void {
  const named = m.getWeights();
  const values: Record<string, tf.Tensor> = {};
  Object.entries(named).forEach(([name, v], i) => (values[name] = randomTensor(v.shape, seed + i, -0.5, 0.5)));
  m.setWeights(values);
  tf.dispose(Object.values(values));
}

/** Copies of every weight's values. */
export function flatWeights(m: TransformerModule): Flat {
  const out: Flat = {};
  for (const [name, v] of Object.entries(m.getWeights())) out[name] = v.dataSync().slice();
  return out;
}
