/**
 * Thin helpers to run a backend's kernels (wasm by default) from inside other kernels.
 *
 * Kernels receive plain `TensorInfo`s and must free every intermediate they create; these helpers
 * keep that bookkeeping in one place. Nothing here falls back to another backend.
 */
import { getKernel, type NamedAttrMap, type TensorInfo, type KernelBackend } from '@tensorflow/tfjs-core';

/**
 * The wasm backend's private internals read by kernels that work on its heap in place (pinned
 * `@tensorflow/tfjs-backend-wasm` 4.22.0): the heap, each tensor's offset in it, and allocation.
 * Re-read `wasm.HEAPU8` after every allocation: growing the heap replaces its buffer.
 */
export interface WasmHeapBackend extends KernelBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): TensorInfo;
}

/** Runs the wasm kernel `name` synchronously and returns its single output. */
export function callKernel(
  backend: KernelBackend,
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
  backendName = 'wasm',
): TensorInfo {
  const kernel = getKernel(name, backendName);
  if (kernel == null) throw new Error(`${backendName} kernel '${name}' is not registered`);
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`wasm kernel '${name}' returned several outputs`);
  return out as TensorInfo;
}

/** A scope that frees the intermediate tensors it has tracked, except the one returned. */
export class Scratch {
  private readonly owned: TensorInfo[] = [];
  constructor(
    private readonly backend: KernelBackend,
    private readonly backendName = 'wasm',
  ) {}

  /** The backend this scratch space allocates on. */
  get backendRef(): KernelBackend {
    return this.backend;
  }

  /** Tracks a tensor made outside {@link run} for disposal. */
  track(t: TensorInfo): TensorInfo {
    this.owned.push(t);
    return t;
  }

  /** Runs a kernel and tracks its output for disposal. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const out = callKernel(this.backend, name, inputs, attrs, this.backendName);
    this.owned.push(out);
    return out;
  }

  /** `Reshape` that shares data (tracked like any other output). */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Zero padding; `paddings[d] = [before, after]`, all non-negative. */
  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /**
   * Pads (positive) or crops (negative) each spatial side of an NHWC tensor.
   * `top, bottom, left, right` may be any integers.
   */
  padOrCrop(x: TensorInfo, top: number, bottom: number, left: number, right: number): TensorInfo {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const ct = Math.max(0, -top);
    const cb = Math.max(0, -bottom);
    const cl = Math.max(0, -left);
    const cr = Math.max(0, -right);
    const cropped = this.slice(x, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
    return this.pad(cropped, [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ]);
  }

  /**
   * Zero insertion: `[N,H,W,C]` → `[N,H·sh,W·sw,C]` with `x` at rows `y·sh`, columns `x·sw`.
   * Done one axis at a time with rank-4 reshapes and pads (wasm's rank-5 pads are ~100× slower).
   */
  zeroInsert(x: TensorInfo, sh: number, sw: number): TensorInfo {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    let y = x;
    if (sh > 1) {
      const r = this.reshape(y, [n, h, 1, w * c]);
      const p = this.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0]]);
      y = this.reshape(p, [n, h * sh, w, c]);
    }
    if (sw > 1) {
      const r = this.reshape(y, [n * h * sh, w, 1, c]);
      const p = this.pad(r, [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
      y = this.reshape(p, [n, h * sh, w * sw, c]);
    }
    return y;
  }

  /**
   * Runs `f` with a fresh scratch space and returns its output: every other tensor `f` made is
   * freed, and all of them when `f` throws (the one lifecycle of DISCO's wasm kernels).
   */
  static use(backend: KernelBackend, f: (s: Scratch) => TensorInfo, backendName = 'wasm'): TensorInfo {
    const s = new Scratch(backend, backendName);
    let out: TensorInfo;
    try {
      out = f(s);
    } catch (e) {
      s.dispose();
      throw e;
    }
    s.dispose(out);
    return out;
  }

  /** Frees every tracked tensor except `keep`. */
  dispose(keep?: TensorInfo): void {
    for (const t of this.owned) {
      if (t === keep) continue; // a Reshape of `t` shares its data and holds its own reference
      this.backend.disposeData(t.dataId);
    }
    this.owned.length = 0;
  }
}
