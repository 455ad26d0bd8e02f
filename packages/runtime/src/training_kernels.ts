import { cast, GatherV2, getGradient, getKernel, registerGradient, registerKernel, unregisterKernel, zerosLike, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { conv2dGradConfig } from './internal/conv2d_grad.js';
import { avgPoolGradConfig, fusedBatchNormGradConfig, mirrorPadGradConfig } from './internal/gradient_fixes.js';
import { captureWasmKernel } from './internal/wasm_own.js';
import { TRAINING_KERNELS } from './internal/kernels.js';

let registered = false;

/** One kernel DISCO registers on the wasm backend, with the reason. */
export interface RegisteredKernel {
  /** tfjs kernel name, e.g. `Conv2DBackpropFilter`. */
  kernelName: string;
  /** The backend it is registered for. */
  backendName: string;
  /** Whether it replaces a (slow) wasm kernel rather than filling a gap. */
  replaces: boolean;
  /** Why it is there and how it is computed. */
  why: string;
}

/** The kernels DISCO adds or replaces for training (wasm, plus two cpu fixes). */
export function listTrainingKernels(): RegisteredKernel[] {
  return TRAINING_KERNELS.map((k) => ({ kernelName: k.config.kernelName, backendName: k.config.backendName, replaces: k.replaces, why: k.why }));
}

/**
 * Registers DISCO's training kernels (see {@link listTrainingKernels}) and corrected gradients:
 * Conv2D with dilation, AvgPool with padding, MirrorPad, GatherV2 with variable-dependent indices,
 * and zero gradients for comparisons.
 * Idempotent; {@link selectBackend} calls it. Heavy kernels stay on wasm: nothing is moved to
 * `cpu`.
 */
export function registerTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const { config } of TRAINING_KERNELS) {
    const prev = getKernel(config.kernelName, config.backendName);
    if (prev != null) {
      if (config.backendName === 'wasm') captureWasmKernel(config.kernelName, prev.kernelFunc);
      unregisterKernel(config.kernelName, config.backendName);
    }
    // Keep the replaced kernel's setup (wasm binds its C function there) for a backend
    // initialised later: DISCO's kernels may call the original.
    registerKernel(prev?.setupFunc != null && config.setupFunc == null ? { ...config, setupFunc: prev.setupFunc } : config);
  }
  registerGradient(conv2dGradConfig);
  registerGradient(avgPoolGradConfig);
  registerGradient(mirrorPadGradConfig);
  registerGradient(fusedBatchNormGradConfig);
  // tfjs' GatherV2 gradient returns the int32 indices themselves as their "gradient", which the
  // tape rejects whenever the indices depend on a variable (e.g. class ids from an argmin).
  const gather = getGradient(GatherV2);
  if (gather != null) {
    registerGradient({
      kernelName: GatherV2,
      inputsToSave: gather.inputsToSave,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => ({
        ...gather.gradFunc(dy, saved, attrs),
        indices: () => zerosLike(cast(saved[1]!, 'float32')),
      }),
    });
  }
  // Comparisons are piecewise constant: a zero gradient lets masks built from differentiable
  // tensors (`where(greater(a, b), a, b)`) sit on the tape. tfjs 4.22 throws there instead.
  for (const kernelName of ZERO_GRADIENT_KERNELS) {
    if (getGradient(kernelName) != null) continue;
    registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy: Tensor | Tensor[], saved: Tensor[]) => ({ a: () => zerosLike(saved[0]!), b: () => zerosLike(saved[1]!) }),
    });
  }
}

/** Binary comparison kernels given a zero gradient (where tfjs has none). */
export const ZERO_GRADIENT_KERNELS: readonly string[] = Object.freeze(['Greater', 'Less', 'LessEqual', 'Equal', 'NotEqual']);
