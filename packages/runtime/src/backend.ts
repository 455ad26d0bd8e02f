/**
 * Backend selection. In Node: native TensorFlow (`@tensorflow/tfjs-node-gpu` / `-node`) when
 * installed and loadable, else `wasm` (with DISCO's training kernels), else `cpu`. In a browser:
 * `webgpu`, `webgl`, `wasm` (binaries from `wasmPaths`), then `cpu`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Registers every tfjs gradient (its Node bundle carries tfjs-core's register_all_gradients).
import '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels } from './training_kernels.js';

/**
 * The backends DISCO knows how to pick. `tensorflow` is the native one from tfjs-node(-gpu) (Node
 * only); `webgpu` and `webgl` exist only in browsers, registered by importing
 * `@tensorflow/tfjs-backend-webgpu` / `@tensorflow/tfjs-backend-webgl`.
 */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/**
 * A backend request: a name, or `auto` for the first that loads — in Node in the order
 * tensorflow, wasm, cpu; in a browser webgpu, webgl, wasm, cpu.
 */
export type BackendChoice = BackendName | 'auto';

/** Where {@link selectBackend} runs: it decides the valid choices and the `auto` order. */
export type BackendPlatform = 'node' | 'browser';

/** Every valid {@link BackendChoice} in Node, for argument validation. */
export const BACKEND_CHOICES: readonly BackendChoice[] = Object.freeze(['auto', 'tensorflow', 'wasm', 'cpu']);

/** Every valid {@link BackendChoice} in a browser, for argument validation. */
export const BROWSER_BACKEND_CHOICES: readonly BackendChoice[] = Object.freeze(['auto', 'webgpu', 'webgl', 'wasm', 'cpu']);

/** File names of the three wasm binaries of `@tensorflow/tfjs-backend-wasm` (plain, SIMD, threaded SIMD). */
export type WasmBinaryName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

/**
 * Locations of the wasm binaries: a folder prefix (ending in `/`), or a URL for each of the three
 * binaries, as `setWasmPaths` of `@tensorflow/tfjs-backend-wasm` takes them (a bundler that
 * renames assets gives the map). The threaded build is fetched only on cross-origin-isolated pages.
 */
export type WasmPaths = string | Readonly<Record<WasmBinaryName, string>>;

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Which backend to use. Default `auto`. */
  backend?: BackendChoice;
  /**
   * Where the wasm binaries live. In Node the default (resolved next to the installed
   * `@tensorflow/tfjs-backend-wasm` package) is right; in a browser `wasm` is tried only when
   * this is given, since a bundled page serves the binaries from its own asset URLs.
   */
  wasmPaths?: WasmPaths;
  /** Node or browser. Default: detected ({@link detectPlatform}). */
  platform?: BackendPlatform;
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
  /** Where the selection ran. Absent means `node`. */
  platform?: BackendPlatform;
  /**
   * Node, wasm only: the engine running the convolutions when it is not wasm's own (set by
   * `setupBackendForCli` of `@disco/runtime/node`), e.g. `onnxruntime-node 1.30.0, 2 threads`.
   */
  convolutions?: string;
  /**
   * Node, wasm only: the engine running whole CNNs at inference (set by `setupBackendForCli`),
   * e.g. `whole networks on onnxruntime-node 1.30.0, 1 thread`.
   */
  networks?: string;
}

/**
 * `browser` when a DOM window and document exist and this is not Node (or Deno/Bun posing as
 * one), else `node`.
 */
export function detectPlatform(): BackendPlatform {
  const g = globalThis as { window?: unknown; document?: unknown; process?: { versions?: { node?: string } } };
  const isNode = typeof g.process?.versions?.node === 'string';
  return !isNode && typeof g.window === 'object' && typeof g.document === 'object' ? 'browser' : 'node';
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
 * `auto` tries, in Node, native TensorFlow, then `wasm`, then `cpu`; in a browser `webgpu` (where
 * `navigator.gpu` has an adapter and the webgpu package is imported), `webgl` (where its package
 * is imported), `wasm` (when `wasmPaths` is given), then `cpu` — skipping a GPU backend that only
 * a software rasteriser serves (SwiftShader, llvmpipe), which is slower than wasm. Each skipped candidate is listed in
 * {@link BackendInfo.skipped} with its reason; in a browser the log line also says what it fell
 * back from. An explicit name must load or this throws `Error("backend 'X' is not available: …")`.
 *
 * @example
 * ```ts
 * const info = await selectBackend({ backend: 'auto', log: console.error });
 * // info.name === 'wasm' on a machine without tfjs-node
 * // in a page: import '@tensorflow/tfjs-backend-webgl' first, and pass wasmPaths for the fallback
 * ```
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendInfo> {
  const choice = options.backend ?? 'auto';
  const platform = options.platform ?? detectPlatform();
  const valid = platform === 'browser' ? BROWSER_BACKEND_CHOICES : BACKEND_CHOICES;
  if (!valid.includes(choice)) {
    throw new Error(`backend: unknown '${String(choice)}'; valid: ${valid.join(', ')}`);
  }
  const skipped: string[] = [];
  let nativePackage: string | null = null;
  let name: BackendName | null = null;
  const autoOrder: BackendName[] = platform === 'browser' ? ['webgpu', 'webgl', 'wasm', 'cpu'] : ['tensorflow', 'wasm', 'cpu'];
  const order: BackendName[] = choice === 'auto' ? autoOrder : [choice];
  for (const candidate of order) {
    if (candidate === 'tensorflow') {
      nativePackage = await tryNative(skipped);
      if (nativePackage == null) continue;
    }
    if (platform === 'browser') {
      const missing = await browserPrerequisite(candidate, options, choice === 'auto');
      if (missing != null) {
        skipped.push(`${candidate}: ${missing}`);
        continue;
      }
    }
    if (candidate === 'wasm' && options.wasmPaths !== undefined) setWasmPaths(typeof options.wasmPaths === 'string' ? options.wasmPaths : { ...options.wasmPaths });
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
  const info: BackendInfo = platform === 'browser' ? { name, nativePackage, skipped, platform } : { name, nativePackage, skipped };
  options.log?.(describeBackend(info));
  return info;
}

/** Renderer names of software rasterisers: GPU backends on them run slower than wasm. */
const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software|basic render driver/i;

/**
 * Why a browser backend cannot (or, for `auto`, should not) be tried, or null when it can. With
 * `auto`, a GPU backend served by a software rasteriser (SwiftShader, llvmpipe: a machine without
 * a usable GPU) is skipped, since wasm runs the same model several times faster there; an explicit
 * choice still uses it.
 */
async function browserPrerequisite(name: BackendName, options: SelectBackendOptions, auto: boolean): Promise<string | null> {
  const registered = (() => {
    try {
      return tf.findBackendFactory(name) != null;
    } catch {
      return false;
    }
  })();
  switch (name) {
    case 'webgpu': {
      const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean; description?: string } } | null> } } }).navigator?.gpu;
      if (typeof gpu !== 'object' || gpu == null) return 'navigator.gpu is not available (no WebGPU in this browser or context)';
      if (!registered) return 'not registered (import @tensorflow/tfjs-backend-webgpu)';
      const adapter = await gpu.requestAdapter().catch(() => null);
      if (adapter == null) return 'no WebGPU adapter';
      if (auto && adapter.info?.isFallbackAdapter) return 'software fallback adapter only (wasm is faster on a CPU)';
      return null;
    }
    case 'webgl': {
      if (!registered) return 'not registered (import @tensorflow/tfjs-backend-webgl)';
      const renderer = auto ? webglRenderer() : null;
      if (renderer != null && SOFTWARE_RENDERERS.test(renderer)) return `software renderer only (${renderer}; wasm is faster on a CPU)`;
      return null;
    }
    case 'wasm':
      return options.wasmPaths === undefined ? 'no wasmPaths given (a page must say where its .wasm binaries are served)' : null;
    default:
      return null;
  }
}

/** The unmasked WebGL renderer string of this browser, or null where it cannot be read. */
function webglRenderer(): string | null {
  try {
    const doc = (globalThis as { document?: { createElement(tag: 'canvas'): HTMLCanvasElement } }).document;
    const gl = doc?.createElement('canvas').getContext('webgl2') ?? doc?.createElement('canvas').getContext('webgl');
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer;
  } catch {
    return null;
  }
}

/**
 * The cpu backend prints a banner recommending tfjs-node on first use in Node; DISCO already
 * reports its backend choice, so the banner is switched off.
 */
function quietCpuBackend(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

/**
 * One line naming the active backend, e.g. `backend: wasm (XNNPACK, SIMD, 1 thread)`. In a
 * browser, a fallback is named with the reasons: `backend: webgl (WebGL; fell back from webgpu:
 * navigator.gpu is not available …)`.
 */
export function describeBackend(info: BackendInfo): string {
  const line = (() => {
    switch (info.name) {
      case 'tensorflow':
        return `backend: tensorflow (${info.nativePackage ?? 'native'})`;
      case 'webgpu':
        return 'backend: webgpu (WebGPU compute shaders)';
      case 'webgl':
        return 'backend: webgl (WebGL shaders)';
      case 'wasm': {
        const nets = info.networks != null ? `; ${info.networks}` : '';
        return info.convolutions != null
          ? `backend: wasm (DISCO training kernels registered; convolutions on ${info.convolutions}${nets})`
          : `backend: wasm (XNNPACK; DISCO training kernels registered${nets})`;
      }
      case 'cpu':
        return 'backend: cpu (pure JavaScript; slow for training)';
    }
  })();
  if (info.platform !== 'browser' || info.skipped.length === 0) return line;
  return `${line.slice(0, -1)}; fell back from ${info.skipped.join('; ')})`;
}
