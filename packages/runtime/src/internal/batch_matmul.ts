/**
 * `BatchMatMul` on wasm routed to XNNPACK for batched and transposed operands.
 *
 * tfjs-backend-wasm 4.22 (`BatchMatMul.cc`) calls XNNPACK's fully-connected operator only for an
 * untransposed product with batch 1; every other product (attention's `q·kᵀ`, its backward, the
 * batched per-cell products of superpixel pooling) runs a scalar triple loop. Here the operands
 * are first brought to `[batch, M, K]` and `[batch, K, N]` with wasm's `Transpose`, then:
 * - `b` shared by the batch: one product `[batch·M, K] · [K, N]`;
 * - `a` shared by the batch: one product `[M, K] · [K, batch·N]` (b's batch moved next to N);
 * - both batched: one batch-1 product per batch entry, operands copied out of and results into
 *   the wasm heap with `copyWithin` (no per-slice kernel calls).
 * Products too small for XNNPACK's setup to pay off keep wasm's own kernel.
 */
import { BatchMatMul, broadcast_util, util, type KernelBackend, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { Scratch, type WasmHeapBackend } from './wasm_call.js';
import { requireWasmOwnKernel, wasmOwnKernel } from './wasm_own.js';

/**
 * Multiply-adds below which wasm's scalar kernel is kept: per product for one XNNPACK call
 * (shared operand, batch 1), per batch entry for one call per entry (each call costs tens of µs
 * of setup, so many small entries stay faster in the scalar loop). Measured on wasm SIMD, Node 20.
 */
export const XNN_MIN_MACS = { single: 4096, perEntry: 1 << 15 };

/** wasm's own `BatchMatMul` kernel function, once captured (for benchmarks and tests). */
export function wasmOwnBatchMatMul(): KernelFunc | null {
  return wasmOwnKernel(BatchMatMul);
}

interface Args {
  inputs: { a: TensorInfo; b: TensorInfo };
  attrs: { transposeA: boolean; transposeB: boolean };
  backend: KernelBackend;
}

function callOriginal(backend: KernelBackend, a: TensorInfo, b: TensorInfo, transposeA = false, transposeB = false): TensorInfo {
  return requireWasmOwnKernel(BatchMatMul)({ inputs: { a, b }, attrs: { transposeA, transposeB }, backend } as never) as TensorInfo;
}

/** `BatchMatMul` kernel function for wasm (see the module comment). */
export function batchMatMulWasm(args: Args): TensorInfo {
  const { inputs, attrs, backend } = args;
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  const outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = util.sizeFromShape(outer);
  const simple = (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1);
  const trivial = batch === 1 && !transposeA && !transposeB;
  const shared = batchA === 1 || batchB === 1;
  const small = M * N * K < (shared ? XNN_MIN_MACS.single : XNN_MIN_MACS.perEntry);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || K !== Kb || !simple || trivial || small) {
    return callOriginal(backend, a, b, transposeA, transposeB);
  }
  return Scratch.use(backend, (s) => {
    let a3 = s.reshape(a, transposeA ? [batchA, K, M] : [batchA, M, K]);
    if (transposeA) a3 = s.transpose(a3, [0, 2, 1]);
    let b3 = s.reshape(b, transposeB ? [batchB, N, K] : [batchB, K, N]);
    if (transposeB) b3 = s.transpose(b3, [0, 2, 1]);
    let out3: TensorInfo;
    if (batchB === 1) {
      const p = s.track(callOriginal(backend, s.reshape(a3, [1, batchA * M, K]), b3));
      out3 = s.reshape(p, [batch, M, N]);
    } else if (batchA === 1) {
      const bt = s.reshape(s.transpose(b3, [1, 0, 2]), [1, K, batch * N]); // [K, batch, N]
      const p = s.track(callOriginal(backend, a3, bt)); // [1, M, batch·N]
      out3 = s.transpose(s.reshape(p, [M, batch, N]), [1, 0, 2]);
    } else {
      out3 = perEntry(backend as WasmHeapBackend, s, a3, b3, batch, M, K, N);
    }
    const out = s.reshape(out3, [...outer, M, N]);
    return out;
  });
}

/** One XNNPACK product per batch entry; slices and results move by `copyWithin` on the heap. */
function perEntry(backend: WasmHeapBackend, s: Scratch, a3: TensorInfo, b3: TensorInfo, batch: number, M: number, K: number, N: number): TensorInfo {
  const out = s.track(backend.makeOutput([batch, M, N], 'float32'));
  const ai = s.track(backend.makeOutput([1, M, K], 'float32'));
  const off = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const [aBytes, bBytes, oBytes] = [M * K * 4, K * N * 4, M * N * 4];
  for (let i = 0; i < batch; i++) {
    // A fresh `b` each time: wasm caches the XNNPACK operator, with `b` packed into it, by b's id.
    const bi = backend.makeOutput([1, K, N], 'float32');
    // Re-read HEAPU8 after every allocation: growing the heap replaces its buffer.
    backend.wasm.HEAPU8.copyWithin(off(ai), off(a3) + i * aBytes, off(a3) + (i + 1) * aBytes);
    backend.wasm.HEAPU8.copyWithin(off(bi), off(b3) + i * bBytes, off(b3) + (i + 1) * bBytes);
    const p = callOriginal(backend, ai, bi);
    backend.wasm.HEAPU8.copyWithin(off(out) + i * oBytes, off(p), off(p) + oBytes);
    backend.disposeData(p.dataId);
    backend.disposeData(bi.dataId);
  }
  return out;
}
