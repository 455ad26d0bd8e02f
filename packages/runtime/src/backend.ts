/**
 * Backend selection: native TensorFlow (`@tensorflow/tfjs-node-gpu` / `-node`) when installed and
 * loadable, else `wasm` (with DISCO's training kernels), else `cpu`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Registers every tfjs gradient (its Node bundle carries tfjs-core's register_all_gradients).
import '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels } from './training_kernels.js';

/** The backends DISCO knows how to pick. `tensorflow` is the native one from tfjs-node(-gpu). */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** A backend request: a name, or `auto` for the first that loads in the order tensorflow, wasm, cpu. */
export type BackendChoice = BackendName | 'auto';

/** Every valid {@link BackendChoice}, for argument validation. */
export const BACKEND_CHOICES: readonly BackendChoice[] = Object.freeze(['auto', 'tensorflow', 'wasm', 'cpu']);

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Which backend to use. Default `auto`. */
  backend?: BackendChoice;
  /**
   * Where the wasm binaries live (browser builds). Default: resolved next to the installed
   * `@tensorflow/tfjs-backend-wasm` package, which is what Node needs.
   */
  wasmPaths?: string;
  /** Called with one line describing the outcome. Default: silent. */
  log?: (line: string) => void;
}

/** What {@link selectBackend} chose. */
export interface BackendInfo {
  /** The active backend. */
  name: BackendName;
  /** The native package loaded for `tensorflow`, or null. */
  nativePackage: string | null;
  /** Why earlier candidates of an `auto` choice were skipped. */
  skipped: string[];
}

/** Names tried for the native backend, GPU first. */
export const NATIVE_PACKAGES: readonly string[] = Object.freeze(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);

async function tryNative(skipped: string[]): Promise<string | null> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // A variable specifier keeps bundlers from resolving an optional package.
      const spec = pkg;
      await import(/* @vite-ignore */ spec);
      if (tf.findBackend('tensorflow') != null) return pkg;
      skipped.push(`${pkg}: loaded but registered no 'tensorflow' backend`);
    } catch (e) {
      skipped.push(`${pkg}: ${firstLine(e)}`);
    }
  }
  return null;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0] ?? '';
}

async function activate(name: BackendName): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Picks and activates a backend, then registers DISCO's training kernels for it.
 *
 * `auto` tries native TensorFlow, then `wasm`, then `cpu`. An explicit name must load or this
 * throws `Error("backend 'X' is not available: …")`.
 *
 * @example
 * ```ts
 * const info = await selectBackend({ backend: 'auto', log: console.error });
 * // info.name === 'wasm' on a machine without tfjs-node
 * ```
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendInfo> {
  const choice = options.backend ?? 'auto';
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`backend: unknown '${String(choice)}'; valid: ${BACKEND_CHOICES.join(', ')}`);
  }
  const skipped: string[] = [];
  let nativePackage: string | null = null;
  let name: BackendName | null = null;
  const order: BackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  for (const candidate of order) {
    if (candidate === 'tensorflow') {
      nativePackage = await tryNative(skipped);
      if (nativePackage == null) continue;
    }
    if (candidate === 'wasm' && options.wasmPaths !== undefined) setWasmPaths(options.wasmPaths);
    if (await activate(candidate)) {
      name = candidate;
      break;
    }
    skipped.push(`${candidate}: failed to initialise`);
  }
  if (name == null) {
    throw new Error(`backend '${choice}' is not available: ${skipped.join('; ') || 'no candidate loaded'}`);
  }
  registerTrainingKernels();
  quietCpuBackend();
  const info: BackendInfo = { name, nativePackage, skipped };
  options.log?.(describeBackend(info));
  return info;
}

/**
 * The cpu backend prints a banner recommending tfjs-node on first use in Node; DISCO already
 * reports its backend choice, so the banner is switched off.
 */
function quietCpuBackend(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

/** One line naming the active backend, e.g. `backend: wasm (XNNPACK, SIMD, 1 thread)`. */
export function describeBackend(info: BackendInfo): string {
  switch (info.name) {
    case 'tensorflow':
      return `backend: tensorflow (${info.nativePackage ?? 'native'})`;
    case 'wasm':
      return 'backend: wasm (XNNPACK; DISCO training kernels registered)';
    case 'cpu':
      return 'backend: cpu (pure JavaScript; slow for training)';
  }
}
