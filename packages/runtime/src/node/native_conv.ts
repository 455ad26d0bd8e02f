/**
 * Native convolutions for the wasm backend: `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`,
 * `Conv2DBackpropFilter`, and the batched products of `BatchMatMul`, run by onnxruntime-node's CPU
 * engine (MLAS) instead of wasm's single-threaded XNNPACK build (or its scalar loop), when the
 * optional `onnxruntime-node` package is installed.
 *
 * Every other kernel, the tensors and the autodiff tape stay on wasm: each call reads its
 * operands straight from the wasm heap, runs a one-node-plus-transposes ONNX graph (built once
 * per shape signature and cached) through onnxruntime's synchronous session binding, and writes
 * the result into a new wasm tensor. The wasm kernels remain the reference: the results agree
 * with them to float32 rounding (tested), and anything unsupported (another dtype, NCHW, tiny
 * products) or refused by onnxruntime falls through to the kernel that was registered before.
 */
import { availableParallelism } from 'node:os';
import { mulberry32 } from '@disco/random';
import {
  backend_util,
  BatchMatMul,
  broadcast_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  findBackend,
  FusedConv2D,
  getKernel,
  registerKernel,
  unregisterKernel,
  util,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from '../internal/wasm_call.js';
import { encodeOnnxModel, onnxActivation, type OnnxGraph, type OnnxNode } from './onnx.js';
import { loadOrt, type BindingSession, type OrtModules, type OrtTensor } from './ort.js';

/** Environment variable: `onnxruntime` (require it), `wasm` (never) or `auto` (default: use it when installed). */
export const NATIVE_CONV_ENV = 'DISCO_CONV';

/**
 * Environment variable: threads per native convolution, 1 … the core count (default 1). With 1,
 * onnxruntime starts no thread pool at all and a convolution's sums run in one fixed order, so
 * results are the same on the main thread, in every worker and on every machine; parallelism
 * comes from `--workers`. More threads may change results in the last bit and give each cached
 * session its own pool (the Node binding offers no process-wide one), so fewer sessions are kept.
 */
export const NATIVE_CONV_THREADS_ENV = 'DISCO_CONV_THREADS';

/** Products below this many multiply-adds stay on wasm (a session call costs tens of µs). */
export const NATIVE_CONV_MIN_MACS = 1 << 16;

/** Sessions kept per process (one per convolution shape signature); least recently used go first. */
const MAX_SESSIONS = 512;

/**
 * Sessions kept when a convolution has more than one thread: each session then owns a pool of
 * `threads − 1` threads, so this bounds the process's threads however many shapes it sees.
 */
const MAX_THREADED_SESSIONS = 8;


/**
 * Largest relative difference, `max|native − wasm| / max|wasm|`, the self-check of
 * {@link enableNativeConvolutions} accepts between onnxruntime's convolution and wasm's own
 * kernel: float32 sums of 72 products in another order differ by a few 1e-7.
 */
export const NATIVE_CONV_SELF_CHECK_TOLERANCE = 1e-5;

/** What {@link enableNativeConvolutions} did. */
export interface NativeConvInfo {
  /** Whether the five kernels now run on onnxruntime. */
  enabled: boolean;
  /** `onnxruntime-node <version>, <n> thread(s)` when enabled, else why not. */
  detail: string;
  /** Threads per convolution when enabled. */
  threads?: number;
  /**
   * The self-check's result when onnxruntime-node loaded: one convolution through the native
   * kernel against wasm's own, its relative difference and whether it was within
   * {@link NATIVE_CONV_SELF_CHECK_TOLERANCE} (if not, `enabled` is false and wasm keeps the kernels).
   */
  selfCheck?: { relativeError: number; passed: boolean };
}

/** Options of {@link enableNativeConvolutions}. */
export interface NativeConvOptions {
  /** `auto` (default): use onnxruntime-node if it loads; `onnxruntime`: fail if it does not; `wasm`: do nothing. */
  mode?: 'auto' | 'onnxruntime' | 'wasm';
  /** Threads per convolution, 1 … the core count. Default: `$DISCO_CONV_THREADS`, else 1 (results independent of thread and worker counts). */
  threads?: number;
  /** Where the one line about a failed self-check goes. Default: stderr. */
  log?: (line: string) => void;
}


/** Shape-keyed cache of onnxruntime sessions, each one small graph. */
class SessionCache {
  private readonly sessions = new Map<string, BindingSession>();
  /** Signatures onnxruntime refused (building or running), with the first error: these stay on wasm. */
  readonly refused = new Map<string, string>();
  constructor(
    private readonly ort: OrtModules,
    readonly threads: number,
  ) {}

  /**
   * Runs the graph `build()` for `key` on these inputs, writing its one output into `into`
   * (onnxruntime fills a caller's buffer in place: no allocation, no copy); false if onnxruntime
   * refuses it (the caller falls back to wasm).
   */
  run(key: string, build: () => OnnxGraph, feeds: Record<string, { data: Float32Array; shape: readonly number[] }>, output: string, into: { data: Float32Array; shape: readonly number[] }): boolean {
    if (this.refused.has(key)) return false;
    try {
      this.runOrThrow(key, build, feeds, output, into);
      return true;
    } catch (e) {
      this.sessions.get(key)?.dispose();
      this.sessions.delete(key);
      this.refused.set(key, String(e instanceof Error ? e.message : e).split('\n')[0] ?? '');
      return false;
    }
  }

  private runOrThrow(key: string, build: () => OnnxGraph, feeds: Record<string, { data: Float32Array; shape: readonly number[] }>, output: string, into: { data: Float32Array; shape: readonly number[] }): void {
    let session = this.sessions.get(key);
    if (session == null) {
      session = new this.ort.InferenceSession();
      const bytes = encodeOnnxModel(build());
      session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'extended', // 'all' adds NCHWc reorders around a lone convolution: 1.3–1.5× slower here
        // Idle pool threads must not spin: wasm runs on the same cores between two convolutions.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
      if (this.sessions.size >= (this.threads > 1 ? MAX_THREADED_SESSIONS : MAX_SESSIONS)) {
        const [oldKey, old] = this.sessions.entries().next().value as [string, BindingSession];
        old.dispose();
        this.sessions.delete(oldKey);
      }
    } else {
      this.sessions.delete(key); // re-insert: most recently used last
    }
    this.sessions.set(key, session);
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = new this.ort.Tensor('float32', f.data, f.shape);
    session.run(ortFeeds, { [output]: new this.ort.Tensor('float32', into.data, into.shape) }, {});
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Frees every session and forgets the refused signatures. */
  clear(): void {
    this.dispose();
    this.refused.clear();
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}

function heapView(backend: KernelBackend, t: TensorInfo): Float32Array {
  const b = backend as unknown as WasmHeapBackend;
  return new Float32Array(b.wasm.HEAPU8.buffer, b.dataIdMap.get(t.dataId).memoryOffset, util.sizeFromShape(t.shape));
}

interface Geometry {
  info: backend_util.Conv2DInfo;
  /** ONNX pads `[top, left, bottom, right]`. */
  pads: number[];
  /** Multiply-adds of the forward convolution (each gradient costs as many). */
  macs: number;
  /** Input rows / columns one output column spans, `(out − 1)·stride + dilation·(k − 1) + 1`. */
  extentH: number;
  extentW: number;
  /** Pads, strides and dilations as a session-cache key part. */
  signature: string;
}

function geometry(xShape: number[], filterShape: number[], attrs: NamedAttrMap): Geometry {
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as number | [number, number],
    (attrs['dilations'] as number | [number, number] | undefined) ?? 1,
    attrs['pad'] as 'same' | 'valid' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  const p = info.padInfo;
  const macs = info.batchSize * info.outHeight * info.outWidth * info.outChannels * info.inChannels * info.filterHeight * info.filterWidth;
  const pads = [p.top, p.left, p.bottom, p.right];
  return {
    info,
    pads,
    macs,
    extentH: (info.outHeight - 1) * info.strideHeight + info.dilationHeight * (info.filterHeight - 1) + 1,
    extentW: (info.outWidth - 1) * info.strideWidth + info.dilationWidth * (info.filterWidth - 1) + 1,
    signature: `${pads}|${info.strideHeight},${info.strideWidth}|${info.dilationHeight},${info.dilationWidth}`,
  };
}

/**
 * Runs the graph `build()` (its inputs are `tensors`, read from the wasm heap in place; its one
 * output `out` has shape `outShape`) and returns the result as a new wasm tensor, or the
 * previous kernel's result when onnxruntime refuses the graph.
 */
function runNative(args: Args, prev: KernelFunc, key: string, tensors: Record<string, TensorInfo>, out: string, outShape: number[], build: () => Pick<OnnxGraph, 'nodes' | 'constants'>): TensorInfo | TensorInfo[] {
  const backend = args.backend as KernelBackend;
  // Allocate the output first: growing the heap replaces its buffer, so the views come after.
  const result = (backend as unknown as WasmHeapBackend).makeOutput(outShape, 'float32');
  const feeds = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, { data: heapView(backend, t), shape: t.shape }]));
  const graph = (): OnnxGraph => ({
    inputs: Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape })),
    outputs: [{ name: out, shape: outShape }],
    ...build(),
  });
  if (cache!.run(key, graph, feeds, out, { data: heapView(backend, result), shape: outShape })) return result;
  backend.disposeData(result.dataId);
  return prev(args);
}

const NCHW = [0, 3, 1, 2];
const NHWC = [0, 2, 3, 1];
/** tfjs filter `[kh,kw,Ci,Co]` → ONNX `[Co,Ci,kh,kw]` (also ConvTranspose's `[Cin_t=Co, Cout_t=Ci, kh, kw]`). */
const OIHW = [3, 2, 0, 1];

function convAttrs(info: backend_util.Conv2DInfo, pads: number[]): Record<string, number[]> {
  return {
    kernel_shape: [info.filterHeight, info.filterWidth],
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    pads,
  };
}


function isFloatNHWC(attrs: NamedAttrMap, ...ts: Array<TensorInfo | undefined>): boolean {
  const fmt = attrs['dataFormat'] as string | undefined;
  return (fmt == null || fmt === 'NHWC') && ts.every((t) => t == null || t.dtype === 'float32');
}

let cache: SessionCache | null = null;
const replaced = new Map<string, KernelConfig | undefined>();

type Args = Parameters<KernelFunc>[0];

/** A kernel's arguments with its attributes present (tfjs always passes them to conv kernels). */
function unpack(args: Args): { inputs: Record<string, TensorInfo | undefined>; attrs: NamedAttrMap } {
  return { inputs: args.inputs as Record<string, TensorInfo | undefined>, attrs: args.attrs ?? {} };
}

function forwardConv(prev: KernelFunc, fused: boolean): KernelFunc {
  return (args: Args) => {
    const { inputs, attrs } = unpack(args);
    const { x, filter, bias, preluActivationWeights } = inputs;
    const activation = fused ? ((attrs['activation'] as string | undefined) ?? 'linear') : 'linear';
    const alpha = (attrs['leakyreluAlpha'] as number | undefined) ?? 0.2;
    const g = cache != null && isFloatNHWC(attrs, x, filter, bias) && preluActivationWeights == null ? geometry(x!.shape, filter!.shape, attrs) : null;
    const macs = g == null ? 0 : g.macs;
    const act = onnxActivation(activation, 'yt', 'y', alpha); // null (relu6, prelu): stays on wasm
    if (g == null || act == null || macs < NATIVE_CONV_MIN_MACS || (bias != null && (bias.shape.length !== 1 || bias.shape[0] !== g.info.outChannels))) return prev(args);
    const { info, pads } = g;
    const outShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
    const key = `conv|${x!.shape}|${filter!.shape}|${bias != null}|${g.signature}|${activation}|${alpha}`;
    return runNative(args, prev, key, { x: x!, w: filter!, ...(bias != null ? { b: bias } : {}) }, 'y', outShape, () => ({
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['xc'], attrs: { perm: NCHW } },
        { op: 'Transpose', inputs: ['w'], outputs: ['wc'], attrs: { perm: OIHW } },
        { op: 'Conv', inputs: bias != null ? ['xc', 'wc', 'b'] : ['xc', 'wc'], outputs: ['yc'], attrs: convAttrs(info, pads) },
        { op: 'Transpose', inputs: ['yc'], outputs: ['yt'], attrs: { perm: NHWC } },
        ...act,
      ],
    }));
  };
}

/**
 * `dx` of a convolution. With stride 1 it is a forward `Conv` of dy with the filter flipped in
 * space and its channel axes swapped, padded `(k−1)·d − p` on each side (1.1–1.7× faster than
 * `ConvTranspose`, whose col2im pass dominates on few channels); other strides use ONNX
 * `ConvTranspose` with the forward pads and the leftover rows as output padding.
 */
function inputGrad(prev: KernelFunc): KernelFunc {
  return (args: Args) => {
    const { inputs, attrs } = unpack(args);
    const { dy, filter } = inputs as Record<string, TensorInfo>;
    const inputShape = attrs['inputShape'] as number[];
    if (cache == null || !isFloatNHWC(attrs, dy, filter)) return prev(args);
    const g = geometry(inputShape, filter!.shape, attrs);
    const { info, pads } = g;
    if (g.macs < NATIVE_CONV_MIN_MACS) return prev(args);
    const key = `dx|${dy!.shape}|${filter!.shape}|${inputShape}|${g.signature}`;
    const [spanH, spanW] = [(info.filterHeight - 1) * info.dilationHeight, (info.filterWidth - 1) * info.dilationWidth];
    const flippedPads = [spanH - pads[0]!, spanW - pads[1]!, spanH - pads[2]!, spanW - pads[3]!];
    if (info.strideHeight === 1 && info.strideWidth === 1 && flippedPads.every((p) => p >= 0)) {
      return runNative(args, prev, key, { dy: dy!, w: filter! }, 'dx', inputShape, (): Pick<OnnxGraph, 'nodes' | 'constants'> => ({
        constants: [
          { name: 'starts', values: [-1, -1] },
          { name: 'ends', values: [-info.filterHeight - 1, -info.filterWidth - 1] },
          { name: 'axes', values: [0, 1] },
          { name: 'steps', values: [-1, -1] },
        ],
        nodes: [
          { op: 'Transpose', inputs: ['dy'], outputs: ['dyc'], attrs: { perm: NCHW } },
          { op: 'Slice', inputs: ['w', 'starts', 'ends', 'axes', 'steps'], outputs: ['wf'] }, // taps reversed
          { op: 'Transpose', inputs: ['wf'], outputs: ['wc'], attrs: { perm: [2, 3, 0, 1] } }, // [Ci, Co, kh, kw]
          { op: 'Conv', inputs: ['dyc', 'wc'], outputs: ['dxc'], attrs: { ...convAttrs(info, flippedPads), strides: [1, 1] } },
          { op: 'Transpose', inputs: ['dxc'], outputs: ['dx'], attrs: { perm: NHWC } },
        ],
      }));
    }
    const outPadH = info.inHeight + pads[0]! + pads[2]! - g.extentH;
    const outPadW = info.inWidth + pads[1]! + pads[3]! - g.extentW;
    const padOk = (p: number, s: number, d: number) => p === 0 || (p > 0 && (p < s || p < d));
    if (!padOk(outPadH, info.strideHeight, info.dilationHeight) || !padOk(outPadW, info.strideWidth, info.dilationWidth)) return prev(args);
    return runNative(args, prev, key, { dy: dy!, w: filter! }, 'dx', inputShape, (): Pick<OnnxGraph, 'nodes'> => ({
      nodes: [
        { op: 'Transpose', inputs: ['dy'], outputs: ['dyc'], attrs: { perm: NCHW } },
        { op: 'Transpose', inputs: ['w'], outputs: ['wc'], attrs: { perm: OIHW } },
        { op: 'ConvTranspose', inputs: ['dyc', 'wc'], outputs: ['dxc'], attrs: { ...convAttrs(info, pads), output_padding: [outPadH, outPadW] } },
        { op: 'Transpose', inputs: ['dxc'], outputs: ['dx'], attrs: { perm: NHWC } },
      ],
    }));
  };
}

/**
 * `dW[i,j,ci,co] = Σ_{n,o,q} x[n, o·s+i·d−pT, q·s+j·d−pL, ci] · dy[n,o,q,co]` as kh·kw matrix
 * products, one per filter tap: dyᵀ `[Co, N·Ho·Wo]` (transposed once) times the tap's strided
 * slice of the padded input `[N·Ho·Wo, Ci]`, giving `[Co, Ci]`; the taps are stacked and brought
 * to `[kh,kw,Ci,Co]` with one small transpose. Each entry is the same length-`N·Ho·Wo` sum as
 * in one im2col product (`[N·Ho·Wo, kh·kw·Ci]ᵀ · dy`; MLAS may block it otherwise, so the last bit
 * can differ), without building the im2col matrix or transposing it: 2–4× faster on the tiny
 * model's training shapes.
 */
function filterGrad(prev: KernelFunc): KernelFunc {
  return (args: Args) => {
    const { inputs, attrs } = unpack(args);
    const { x, dy } = inputs as Record<string, TensorInfo>;
    const filterShape = attrs['filterShape'] as number[];
    if (cache == null || !isFloatNHWC(attrs, x, dy)) return prev(args);
    const g = geometry(x!.shape, filterShape, attrs);
    const { info, pads } = g;
    if (g.macs < NATIVE_CONV_MIN_MACS) return prev(args);
    const [n, h, w, ci] = x!.shape as [number, number, number, number];
    const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info;
    const co = filterShape[3]!;
    // Pad so that every slice is in range: extra rows below / columns right beyond the conv's own.
    const padB = Math.max(0, g.extentH - h - pads[0]!);
    const padR = Math.max(0, g.extentW - w - pads[1]!);
    const key = `dw|${x!.shape}|${dy!.shape}|${filterShape}|${g.signature}`;
    return runNative(args, prev, key, { x: x!, dy: dy! }, 'dw', filterShape, () => {
      const rows = n * ho * wo;
      const nodes: OnnxNode[] = [
        { op: 'Pad', inputs: ['x', 'pads'], outputs: ['xp'] },
        { op: 'Reshape', inputs: ['dy', 'dyrows'], outputs: ['dy2'] },
        { op: 'Transpose', inputs: ['dy2'], outputs: ['dyT'], attrs: { perm: [1, 0] } }, // [Co, N·Ho·Wo]
      ];
      const constants = [
        { name: 'pads', values: [0, pads[0]!, pads[1]!, 0, 0, padB, padR, 0] },
        { name: 'axes', values: [1, 2] },
        { name: 'steps', values: [sh, sw] },
        { name: 'tapRows', values: [rows, ci] },
        { name: 'dyrows', values: [rows, co] },
        { name: 'wshape', values: [kh, kw, co, ci] },
      ];
      const taps: string[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const t = `${i}_${j}`;
          constants.push({ name: `st${t}`, values: [i * dh, j * dw] }, { name: `en${t}`, values: [i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1] });
          nodes.push(
            { op: 'Slice', inputs: ['xp', `st${t}`, `en${t}`, 'axes', 'steps'], outputs: [`s${t}`] }, // [N,Ho,Wo,Ci]
            { op: 'Reshape', inputs: [`s${t}`, 'tapRows'], outputs: [`r${t}`] },
            { op: 'MatMul', inputs: ['dyT', `r${t}`], outputs: [`g${t}`] }, // [Co, Ci]
          );
          taps.push(`g${t}`);
        }
      }
      nodes.push(
        { op: 'Concat', inputs: taps, outputs: ['g'], attrs: { axis: 0 } }, // [kh·kw·Co, Ci], (i,j) major
        { op: 'Reshape', inputs: ['g', 'wshape'], outputs: ['g4'] },
        { op: 'Transpose', inputs: ['g4'], outputs: ['dw'], attrs: { perm: [0, 1, 3, 2] } },
      );
      return { nodes, constants };
    });
  };
}

/**
 * `BatchMatMul` of two batched operands as one ONNX `MatMul` (numpy broadcasting of the batch
 * dimensions, transposes as `Transpose` nodes): MLAS runs many small per-entry products
 * (superpixel pooling's `[cells, pixels, 9]·[cells, 9, C]`, attention's per-head products and
 * their gradients) 5–7× faster than wasm's scalar loop, whose XNNPACK route only pays above ~32 k
 * multiply-adds per entry.
 */
function batchMatMul(prev: KernelFunc): KernelFunc {
  return (args: Args) => {
    const { inputs, attrs } = unpack(args);
    const { a, b } = inputs as Record<string, TensorInfo>;
    if (cache == null || a!.dtype !== 'float32' || b!.dtype !== 'float32') return prev(args);
    const transposeA = attrs['transposeA'] === true;
    const transposeB = attrs['transposeB'] === true;
    const [ra, rb] = [a!.shape.length, b!.shape.length];
    const M = a!.shape[transposeA ? ra - 1 : ra - 2]!;
    const K = a!.shape[transposeA ? ra - 2 : ra - 1]!;
    const N = b!.shape[transposeB ? rb - 2 : rb - 1]!;
    const Kb = b!.shape[transposeB ? rb - 1 : rb - 2]!;
    let outer: number[];
    try {
      outer = broadcast_util.assertAndGetBroadcastShape(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    } catch {
      return prev(args); // the previous kernel reports the shape error
    }
    // Only products batched on both sides: a shared operand (fully connected layers, 2-D products)
    // stays on wasm's XNNPACK path, whose rows do not depend on the batch size (MLAS picks another
    // kernel for one row than for several, so batch 1 and batch 2 would differ in the last bits).
    const [batchA, batchB] = [util.sizeFromShape(a!.shape.slice(0, -2)), util.sizeFromShape(b!.shape.slice(0, -2))];
    if (batchA <= 1 || batchB <= 1) return prev(args);
    if (K !== Kb || util.sizeFromShape(outer) * M * N * K < NATIVE_CONV_MIN_MACS) return prev(args);
    const swap = (r: number) => [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
    const key = `mm|${a!.shape}|${b!.shape}|${transposeA}|${transposeB}`;
    return runNative(args, prev, key, { a: a!, b: b! }, 'c', [...outer, M, N], (): Pick<OnnxGraph, 'nodes'> => ({
      nodes: [
        ...(transposeA ? [{ op: 'Transpose', inputs: ['a'], outputs: ['at'], attrs: { perm: swap(ra) } }] : []),
        ...(transposeB ? [{ op: 'Transpose', inputs: ['b'], outputs: ['bt'], attrs: { perm: swap(rb) } }] : []),
        { op: 'MatMul', inputs: [transposeA ? 'at' : 'a', transposeB ? 'bt' : 'b'], outputs: ['c'] },
      ],
    }));
  };
}

const OVERRIDES: ReadonlyArray<[string, (prev: KernelFunc) => KernelFunc]> = [
  [Conv2D, (prev) => forwardConv(prev, false)],
  [FusedConv2D, (prev) => forwardConv(prev, true)],
  [Conv2DBackpropInput, inputGrad],
  [Conv2DBackpropFilter, filterGrad],
  [BatchMatMul, batchMatMul],
];

function resolveMode(mode: NativeConvOptions['mode'], env: NodeJS.ProcessEnv): 'auto' | 'onnxruntime' | 'wasm' {
  const [value, source] = mode != null ? [mode, 'mode'] : env[NATIVE_CONV_ENV] ? [env[NATIVE_CONV_ENV]!, NATIVE_CONV_ENV] : ['auto', 'default'];
  if (value !== 'auto' && value !== 'onnxruntime' && value !== 'wasm') throw new Error(`${source}: unknown convolution engine '${value}'; valid: auto, onnxruntime, wasm`);
  return value;
}

/**
 * Routes the wasm backend's convolutions (forward, fused forward and both gradients) through
 * onnxruntime-node when it is installed; idempotent. Call after the wasm backend is registered
 * (`selectBackend`); {@link disableNativeConvolutions} restores the previous kernels. Called
 * again with another `threads`, it rebuilds its sessions with that many threads. Enabling runs
 * one self-check convolution against wasm's kernel (it reads onnxruntime-node's and the wasm
 * backend's private internals); if it fails, wasm keeps the kernels and one line goes to `log`
 * (an error with `mode: 'onnxruntime'`).
 *
 * @example
 * await selectBackend({ backend: 'wasm' });
 * const info = enableNativeConvolutions(); // { enabled: true, detail: 'onnxruntime-node 1.30.0, 2 threads' }
 */
export function enableNativeConvolutions(options: NativeConvOptions = {}, env: NodeJS.ProcessEnv = process.env): NativeConvInfo {
  const mode = resolveMode(options.mode, env);
  if (mode === 'wasm') return { enabled: false, detail: `${NATIVE_CONV_ENV}=wasm` };
  if (cache != null && (options.threads == null || options.threads === cache.threads)) return { enabled: true, detail: describe(cache), threads: cache.threads, ...(lastCheck ? { selfCheck: lastCheck } : {}) };
  // Enabled with another thread count: start over with new sessions.
  disableNativeConvolutions();
  const ort = loadOrt();
  if (typeof ort === 'string') {
    if (mode === 'onnxruntime') throw new Error(`convolutions: ${ort}`);
    return { enabled: false, detail: ort };
  }
  const threads = resolveConvThreads(options.threads, env);
  const backend = findBackend('wasm');
  if (backend == null) throw new Error("convolutions: the wasm backend is not initialised (await selectBackend({ backend: 'wasm' }) first)");
  ort.initOrt();
  for (const [name, make] of OVERRIDES) {
    const prev = getKernel(name, 'wasm');
    if (prev == null) throw new Error(`convolutions: the wasm backend has no '${name}' kernel (import @tensorflow/tfjs-backend-wasm first)`);
    replaced.set(name, prev);
    unregisterKernel(name, 'wasm');
    registerKernel({ kernelName: name, backendName: 'wasm', setupFunc: prev.setupFunc, kernelFunc: make(prev.kernelFunc) });
  }
  cache = new SessionCache(ort, threads);
  const check = selfCheck(backend, cache);
  if (!check.passed) {
    const line = `convolutions: onnxruntime-node ${ort.version} failed its self-check (${check.why}); the native engine stays off, convolutions run on wasm`;
    disableNativeConvolutions();
    if (mode === 'onnxruntime') throw new Error(line);
    (options.log ?? ((l) => process.stderr.write(`${l}\n`)))(line);
    return { enabled: false, detail: line, selfCheck: { relativeError: check.relativeError, passed: false } };
  }
  lastCheck = { relativeError: check.relativeError, passed: true };
  return { enabled: true, detail: describe(cache), threads, selfCheck: lastCheck };
}

/** The passed self-check of the active native kernels. */
let lastCheck: { relativeError: number; passed: true } | null = null;

/** Testing hook: alters the native output of the self-check (e.g. to force a failure); null removes it. */
let selfCheckFault: ((native: Float32Array) => void) | null = null;

/**
 * Testing hook of the self-check of {@link enableNativeConvolutions}: `fault` receives the
 * native convolution's output before it is compared (writing into it simulates an engine that
 * computes wrong results); `null` removes it. Not exported from `@disco/runtime/node`.
 */
export function setNativeConvSelfCheckFault(fault: ((native: Float32Array) => void) | null): void {
  selfCheckFault = fault;
}

/**
 * The self-check run when the native kernels are enabled: onnxruntime-node's private binding
 * and the wasm backend's private heap layout are both read here (pinned versions, but a consumer
 * may resolve others), so one small convolution, `[1,16,16,8]` by a `[3,3,8,8]` filter, `same`
 * padding (147 456 multiply-adds, above {@link NATIVE_CONV_MIN_MACS}), runs through the native
 * `Conv2D` kernel, heap in and heap out, and through the wasm kernel it replaced; they must agree
 * within {@link NATIVE_CONV_SELF_CHECK_TOLERANCE}. Its session is freed afterwards.
 */
function selfCheck(backend: KernelBackend, sessions: SessionCache): { passed: boolean; relativeError: number; why: string } {
  const rand = mulberry32(20221201);
  const tensor = (shape: number[]): TensorInfo => {
    const values = Float32Array.from({ length: util.sizeFromShape(shape) }, () => rand() * 2 - 1);
    return { dataId: backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
  };
  const x = tensor([1, 16, 16, 8]);
  const filter = tensor([3, 3, 8, 8]);
  const args = { inputs: { x, filter }, attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }, backend };
  const read = (t: TensorInfo | TensorInfo[]): Float32Array => {
    const info = Array.isArray(t) ? t[0]! : t;
    const values = Float32Array.from(backend.readSync(info.dataId) as Float32Array);
    backend.disposeData(info.dataId);
    return values;
  };
  try {
    const wasm = read(replaced.get(Conv2D)!.kernelFunc(args));
    const native = read(getKernel(Conv2D, 'wasm')!.kernelFunc(args));
    const refusedWith = sessions.refused.values().next().value as string | undefined;
    if (refusedWith != null) return { passed: false, relativeError: NaN, why: `onnxruntime refused a 3×3 convolution: ${refusedWith}` };
    selfCheckFault?.(native);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < wasm.length; i++) {
      diff = Math.max(diff, Math.abs(native[i]! - wasm[i]!));
      scale = Math.max(scale, Math.abs(wasm[i]!));
    }
    // NaN anywhere makes the error NaN, which fails the comparison below.
    if (native.some(Number.isNaN)) diff = NaN;
    const relativeError = diff / Math.max(scale, 1e-30);
    const passed = relativeError <= NATIVE_CONV_SELF_CHECK_TOLERANCE;
    return { passed, relativeError, why: `a 3×3 convolution [1,16,16,8] differs from wasm's by ${relativeError.toExponential(1)} relative, tolerance ${NATIVE_CONV_SELF_CHECK_TOLERANCE}` };
  } catch (e) {
    return { passed: false, relativeError: NaN, why: String(e instanceof Error ? e.message : e).split('\n')[0] ?? '' };
  } finally {
    backend.disposeData(x.dataId);
    backend.disposeData(filter.dataId);
    sessions.clear();
  }
}

/**
 * Which engine runs the convolutions on wasm in this installation, in one line for `--help` and
 * logs: onnxruntime-node when it loads, else wasm's own kernels, with how to get the fast one
 * (`onnxruntime-node` is an optional dependency: an install without it, or one whose install
 * script failed, silently drops it).
 */
export function convolutionEngineStatus(env: NodeJS.ProcessEnv = process.env): { native: boolean; line: string } {
  if (env[NATIVE_CONV_ENV] === 'wasm') return { native: false, line: `convolutions: wasm (XNNPACK; ${NATIVE_CONV_ENV}=wasm)` };
  const ort = loadOrt();
  if (typeof ort !== 'string') return { native: true, line: `convolutions: onnxruntime-node ${ort.version} (native CPU engine; ${NATIVE_CONV_THREADS_ENV} threads per convolution, default 1)` };
  return {
    native: false,
    line: `convolutions: wasm (XNNPACK, one thread; onnxruntime-node did not load: ${ort.replace(/^onnxruntime-node: /, '')}). For the native engine (paper-size inference 3.8× faster here): ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node@1.30.0`,
  };
}

/**
 * Threads per convolution: `threads`, else `$DISCO_CONV_THREADS`, else 1; refused with one line
 * unless an integer from 1 to the core count (a thousand threads abort onnxruntime natively).
 */
export function resolveConvThreads(threads: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env[NATIVE_CONV_THREADS_ENV];
  const name = threads != null ? 'threads' : NATIVE_CONV_THREADS_ENV;
  const raw = threads != null ? String(threads) : fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv.trim() : '1';
  const n = Number(raw);
  const cores = availableParallelism();
  if (!/^\d+$/.test(raw) || n < 1 || n > cores) throw new Error(`${name} must be an integer from 1 to ${cores} (the cores of this machine); got '${raw}' (1, the default, gives the same results with any --workers)`);
  return n;
}

function describe(c: SessionCache): string {
  const ort = loadOrt() as OrtModules;
  return `onnxruntime-node ${ort.version}, ${c.threads} thread${c.threads === 1 ? '' : 's'}`;
}

/** Puts back the kernels {@link enableNativeConvolutions} replaced and frees its sessions. */
export function disableNativeConvolutions(): void {
  if (cache == null) return;
  for (const [name, prev] of replaced) {
    unregisterKernel(name, 'wasm');
    if (prev != null) registerKernel(prev);
  }
  replaced.clear();
  cache.dispose();
  cache = null;
  lastCheck = null;
}

/**
 * Whether the native convolutions are active, with how many threads, how many shape signatures
 * have a session, and the signatures onnxruntime refused (they run on wasm), with its error.
 */
export function nativeConvolutionState(): { enabled: boolean; threads: number | null; sessions: number; refused: Record<string, string> } {
  return { enabled: cache != null, threads: cache?.threads ?? null, sessions: cache?.size ?? 0, refused: Object.fromEntries(cache?.refused ?? []) };
}
