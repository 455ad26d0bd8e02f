/**
 * Kernel configs registered on the wasm backend so that training works there.
 */
import {
  backend_util,
  BatchMatMul,
  Concat,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  Identity,
  UnsortedSegmentSum,
  MaxPoolGrad,
  ResizeBilinearGrad,
  ResizeNearestNeighborGrad,
  util,
  type MaxPoolGradAttrs,
  type MaxPoolGradInputs,
  type ResizeBilinearAttrs,
  type ResizeBilinearGradInputs,
  type ResizeNearestNeighborAttrs,
  type ResizeNearestNeighborGradInputs,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type KernelBackend,
  type TensorInfo,
  type UnsortedSegmentSumAttrs,
  type UnsortedSegmentSumInputs,
} from '@tensorflow/tfjs-core';
import { batchMatMulWasm } from './batch_matmul.js';
import { conv2dFilterGradWasm, conv2dInputGradWasm, geometryFromInfo } from './conv2d_backprop.js';
import { Scratch, type WasmHeapBackend } from './wasm_call.js';
import { requireWasmOwnKernel } from './wasm_own.js';
import { maxPoolGradWasm, resizeGrad } from './pool_resize_grads.js';

interface KernelArgs<I, A> {
  inputs: I;
  attrs: A;
  backend: KernelBackend;
}

function assertNHWC(dataFormat: string, kernel: string): void {
  util.assert(dataFormat === 'NHWC', () => `${kernel} on wasm (DISCO): only dataFormat 'NHWC' is supported, got '${dataFormat}'`);
}

/** Optional dilations: tfjs never passes them, the DISCO dilated-conv gradient does. */
type WithDilations<A> = A & { dilations?: number | [number, number] };

function conv2dBackpropFilter({ inputs, attrs, backend }: KernelArgs<Conv2DBackpropFilterInputs, WithDilations<Conv2DBackpropFilterAttrs>>): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  assertNHWC(dataFormat, 'Conv2DBackpropFilter');
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    attrs.dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return conv2dFilterGradWasm(backend, x, dy, geometryFromInfo(info));
}

function conv2dBackpropInput({ inputs, attrs, backend }: KernelArgs<Conv2DBackpropInputInputs, WithDilations<Conv2DBackpropInputAttrs>>): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  assertNHWC(dataFormat, 'Conv2DBackpropInput');
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    attrs.dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return conv2dInputGradWasm(backend, dy, filter, geometryFromInfo(info));
}

/**
 * `out[k, ...] = Σ_{i : ids[i] = k} x[i, ...]` as a one-hot matrix product on wasm:
 * `oneHot(ids)ᵀ [numSegments, n] · x [n, rest]`. Negative ids are dropped (as in TensorFlow).
 */
function unsortedSegmentSum({ inputs, attrs, backend }: KernelArgs<UnsortedSegmentSumInputs, UnsortedSegmentSumAttrs>): TensorInfo {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs;
  util.assert(x.dtype === 'float32', () => `UnsortedSegmentSum on wasm (DISCO): x must be float32, got ${x.dtype}`);
  const idRank = segmentIds.shape.length;
  util.assert(
    util.arraysEqual(x.shape.slice(0, idRank), segmentIds.shape),
    () => `UnsortedSegmentSum on wasm (DISCO): segmentIds shape ${segmentIds.shape} must prefix x shape ${x.shape}`,
  );
  const n = util.sizeFromShape(segmentIds.shape);
  const rest = x.shape.slice(idRank);
  const m = util.sizeFromShape(rest);
  return Scratch.use(backend, (s) => {
    const ids = s.reshape(segmentIds, [n]);
    const ids32 = segmentIds.dtype === 'int32' ? ids : s.run('Cast', { x: ids }, { dtype: 'int32' });
    // wasm's OneHot writes int32 whatever dtype is asked for: make int32, then cast.
    const ohInt = s.run('OneHot', { indices: ids32 }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' }); // [n, K]
    const oh = s.run('Cast', { x: ohInt }, { dtype: 'float32' });
    const a = s.reshape(oh, [1, n, numSegments]);
    const b = s.reshape(x, [1, n, m]);
    const prod = s.run('BatchMatMul', { a, b }, { transposeA: true, transposeB: false }); // [1, K, m]
    const out = s.reshape(prod, [numSegments, ...rest]);
    return out;
  });
}

function maxPoolGrad({ inputs, attrs, backend }: KernelArgs<MaxPoolGradInputs, MaxPoolGradAttrs>): TensorInfo {
  const { dy, input, output } = inputs as { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  return maxPoolGradWasm(backend, dy, input, output, info);
}

function resizeGradKernel(kernel: 'ResizeBilinear' | 'ResizeNearestNeighbor', backendName: string) {
  return ({ inputs, attrs, backend }: KernelArgs<ResizeBilinearGradInputs | ResizeNearestNeighborGradInputs, ResizeBilinearAttrs | ResizeNearestNeighborAttrs>): TensorInfo => {
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    return resizeGrad(backend, backendName, kernel, dy, images, attrs.alignCorners, attrs.halfPixelCenters);
  };
}

/**
 * `Identity` sharing its input's memory, as wasm's `Reshape` does (one more reference on the
 * data, released by the backend's reference count): tensors are immutable, and every kernel
 * writes only into outputs it allocates. wasm's own kernel copies the whole tensor; autodiff
 * and tfjs-layers call it hundreds of times per training step.
 */
function identityShared({ inputs, backend }: KernelArgs<{ x: TensorInfo }, unknown>): TensorInfo {
  const { x } = inputs;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Rows shorter than this many elements are copied element by element by {@link concatRows};
 * longer ones with one `TypedArray.set` each, as wasm's own kernel does for every row.
 */
export const CONCAT_SHORT_ROW = 64;

/**
 * `Concat` of float32 and int32 tensors on wasm. wasm's own kernel copies every row (the elements
 * from the concatenated axis on) with one `subarray` + `set` call: a channel concatenation of two
 * `[8,64,64,4]` tensors is 65 536 calls of 4 elements. Short rows are copied by an element loop
 * over 32-bit words instead (one monomorphic `Int32Array` loop for both dtypes: the bits are
 * copied, never converted), so the result is the same bytes. Other dtypes go to wasm's kernel.
 */
function concatRows({ inputs, attrs, backend }: KernelArgs<TensorInfo[], { axis: number | number[] }>): TensorInfo {
  const all = inputs as TensorInfo[];
  const dtype = all[0]?.dtype;
  if ((dtype !== 'float32' && dtype !== 'int32') || all.some((t) => t.dtype !== dtype)) return requireWasmOwnKernel(Concat)({ inputs, attrs, backend } as never) as TensorInfo;
  const axis = util.parseAxisParam(attrs.axis, all[0]!.shape)[0]!;
  backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
  const outShape = backend_util.computeOutShape(all.map((t) => t.shape), axis);
  const parts = all.filter((t) => util.sizeFromShape(t.shape) > 0);
  if (parts.length === 1) return identityShared({ inputs: { x: parts[0]! }, attrs: {}, backend });
  const wasm = backend as WasmHeapBackend;
  const out = wasm.makeOutput(outShape, dtype);
  if (util.sizeFromShape(outShape) === 0) return out;
  const rows = util.sizeFromShape(parts[0]!.shape.slice(0, axis));
  const total = util.sizeFromShape(outShape.slice(axis));
  // Views after the allocation above: growing the heap replaces its buffer.
  const words = (t: TensorInfo) => new Int32Array(wasm.wasm.HEAPU8.buffer, wasm.dataIdMap.get(t.dataId).memoryOffset, util.sizeFromShape(t.shape));
  const dst = words(out);
  let offset = 0;
  for (const t of parts) {
    const width = util.sizeFromShape(t.shape.slice(axis));
    copyRows(dst, words(t), rows, width, total, offset);
    offset += width;
  }
  return out;
}

/** Copies `rows` rows of `width` words from `src` into `dst` (rows `total` apart, from `offset`). */
function copyRows(dst: Int32Array, src: Int32Array, rows: number, width: number, total: number, offset: number): void {
  if (width >= CONCAT_SHORT_ROW) {
    for (let r = 0; r < rows; r++) dst.set(src.subarray(r * width, (r + 1) * width), r * total + offset);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const from = r * width;
    const to = r * total + offset;
    for (let k = 0; k < width; k++) dst[to + k] = src[from + k]!;
  }
}

function config(kernelName: string, kernelFunc: unknown, backendName = 'wasm'): KernelConfig {
  return { kernelName, backendName, kernelFunc: kernelFunc as KernelFunc };
}

/**
 * Every kernel DISCO registers. `replaces` marks kernels the backend already has in a slow or
 * wrong form.
 */
export const TRAINING_KERNELS: ReadonlyArray<{ config: KernelConfig; replaces: boolean; why: string }> = [
  {
    config: config(Conv2DBackpropFilter, conv2dBackpropFilter),
    replaces: false,
    why: 'missing on wasm; computed as an XNNPACK forward conv over transposed tensors',
  },
  {
    config: config(Conv2DBackpropInput, conv2dBackpropInput),
    replaces: true,
    why: "wasm's own kernel is a scalar loop (~1.7 GFLOP/s); computed as a forward conv of zero-inserted dy with the flipped filter",
  },
  {
    config: config(BatchMatMul, batchMatMulWasm),
    replaces: true,
    why: "wasm's kernel runs a scalar loop unless the product is untransposed with batch 1; operands transposed by Transpose, then XNNPACK products (one for a shared operand, else one per batch entry)",
  },
  {
    config: config(Identity, identityShared),
    replaces: true,
    why: "wasm's kernel copies the tensor; the output shares the input's memory (reference-counted, as Reshape)",
  },
  {
    config: config(Concat, concatRows),
    replaces: true,
    why: "wasm's kernel copies each row with one subarray+set call (65 k calls for a channel concat of two [8,64,64,4]); float32/int32 rows under 64 elements are copied by an element loop over 32-bit words, same bytes",
  },
  {
    config: config(UnsortedSegmentSum, unsortedSegmentSum),
    replaces: false,
    why: 'missing on wasm (gradient of gather); computed as a one-hot matrix product',
  },
  {
    config: config(MaxPoolGrad, maxPoolGrad),
    replaces: true,
    why: "wasm's kernel gives wrong gradients for batch > 1; first-maximum routing built from Slice/Equal/Select",
  },
  ...(['wasm', 'cpu'] as const).flatMap((b) => [
    {
      config: config(ResizeNearestNeighborGrad, resizeGradKernel('ResizeNearestNeighbor', b), b),
      replaces: true,
      why: `${b}'s kernel is wrong for non-square images; block sum for integer factors, else the transposed interpolation matrices of the forward kernel`,
    },
    {
      config: config(ResizeBilinearGrad, resizeGradKernel('ResizeBilinear', b), b),
      replaces: true,
      why: `${b}'s kernel returns a transposed shape for non-square images; transposed interpolation matrices of the forward kernel`,
    },
  ]),
];
