/**
 * wasm's own kernels that DISCO replaces, recorded when they are replaced
 * (`registerTrainingKernels`), for the cases the replacements hand back to them.
 */
import type { KernelFunc } from '@tensorflow/tfjs-core';

const own = new Map<string, KernelFunc>();

/** Records wasm's own kernel `kernelName` (the first one seen: DISCO's never replaces it). */
export function captureWasmKernel(kernelName: string, kernelFunc: KernelFunc): void {
  if (!own.has(kernelName)) own.set(kernelName, kernelFunc);
}

/** wasm's own kernel `kernelName` once captured, else null. */
export function wasmOwnKernel(kernelName: string): KernelFunc | null {
  return own.get(kernelName) ?? null;
}

/** wasm's own kernel `kernelName`; throws (one line) when it was not captured. */
export function requireWasmOwnKernel(kernelName: string): KernelFunc {
  const k = own.get(kernelName);
  if (k == null) throw new Error(`${kernelName} on wasm (DISCO): wasm's own kernel was not captured (registerTrainingKernels first)`);
  return k;
}
