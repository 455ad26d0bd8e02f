import * as tf from '@tensorflow/tfjs-core';

/**
 * A copy of `x` with no history: a fresh tensor made from its values, so no gradient flows through
 * it (and autodiff never walks back into the integer ops that produced it). Reads `x` back.
 */
export function asConstant<T extends tf.Tensor>(x: T): T {
  return tf.tensor(x.dataSync(), x.shape, x.dtype) as T;
}
