/**
 * The process-wide hook through which a model's frozen CNNs run at inference on another engine
 * than tfjs (in Node: one onnxruntime graph per network, `enableNativeNetworks` of
 * `@disco/runtime/node`). Browser-safe: the hook is only a slot; nothing is registered unless a
 * Node command (or the caller) sets an engine, and tfjs stays the reference path.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** Something that can run a whole tfjs-layers model in inference mode. */
export interface NetworkEngine {
  /** One line for logs, e.g. `whole networks on onnxruntime-node 1.30.0, 1 thread`. */
  readonly detail: string;
  /**
   * `net` applied to `x` in inference mode (batch norm with its moving statistics, no dropout),
   * as a new tensor the caller owns; or null when this engine cannot run it (the caller then
   * runs `net.apply(x)` on tfjs). Never disposes `x`.
   */
  run(net: tfl.LayersModel, x: tf.Tensor): tf.Tensor | null;
}

let current: NetworkEngine | null = null;

/** Registers the engine that {@link runNetwork} uses (null: tfjs only, the default). */
export function setNetworkEngine(engine: NetworkEngine | null): void {
  current = engine;
}

/** The registered engine, or null. */
export function networkEngine(): NetworkEngine | null {
  return current;
}

/**
 * `net.apply(x)` in inference mode, on the registered {@link NetworkEngine} when there is one
 * and it accepts the network, else on tfjs. The caller owns the result.
 *
 * @example
 * const ab = runNetwork(model.refinement, x); // [B,H,W,2]
 */
export function runNetwork(net: tfl.LayersModel, x: tf.Tensor): tf.Tensor {
  return current?.run(net, x) ?? (net.apply(x, { training: false }) as tf.Tensor);
}
