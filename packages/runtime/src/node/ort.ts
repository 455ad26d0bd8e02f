/**
 * onnxruntime-node's synchronous session binding, the one way both native engines (the
 * per-convolution kernels of `native_conv.ts` and the whole networks of `native_graph.ts`) load it.
 * tfjs kernels and model steps must return synchronously; the package's public API is
 * asynchronous, so this reaches its private binding: `package.json` pins the tested version
 * (onnxruntime-node 1.30.0), and enabling the per-convolution kernels runs a one-convolution
 * self-check against wasm's own kernel (`native_conv.ts`).
 */
import { createRequire } from 'node:module';

/** A tensor of the binding. */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type?: string;
}

/** The binding's tensor constructor (float32 only here). */
export type OrtTensorCtor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;

/** One inference session of the binding. */
export interface BindingSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  /** `fetches`: null per output to allocate, or a tensor whose buffer the output is written into. */
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null | OrtTensor>, options: Record<string, unknown>): Record<string, OrtTensor>;
  dispose(): void;
}

/** What {@link loadOrt} gives when onnxruntime-node is usable. */
export interface OrtModules {
  Tensor: OrtTensorCtor;
  InferenceSession: new () => BindingSession;
  initOrt: () => void;
  version: string;
}

/** onnxruntime-node's synchronous session binding, or why it cannot be used (one line). */
export function loadOrt(): OrtModules | string {
  const require = createRequire(import.meta.url);
  try {
    const main = require('onnxruntime-node') as { Tensor?: OrtTensorCtor };
    // The package's own synchronous session wrapper (its async API wraps exactly this call in setImmediate).
    const { binding, initOrt } = require('onnxruntime-node/dist/binding.js') as { binding?: { InferenceSession?: new () => BindingSession }; initOrt?: () => void };
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    if (typeof main.Tensor !== 'function' || typeof binding?.InferenceSession !== 'function' || typeof initOrt !== 'function') {
      return `onnxruntime-node ${version}: no synchronous session binding (tested with 1.30.0)`;
    }
    return { Tensor: main.Tensor, InferenceSession: binding.InferenceSession, initOrt, version };
  } catch (e) {
    return `onnxruntime-node: ${String(e instanceof Error ? e.message : e).split('\n')[0]}`;
  }
}
