import { LITTLE_ENDIAN_HOST, halfToFloatTable } from './internal/numeric.js';
import { PthError } from './py.js';

/**
 * The element types a PyTorch storage can hold that this package reads (torch.float32 is
 * `'float32'`, torch.half `'float16'`, torch.long `'int64'`, …).
 *
 * @example
 * ```ts
 * const dtype: TorchDType = tensor.dtype;
 * if (dtype === 'int64') console.log(tensor.toBigInt64());
 * ```
 */
export type TorchDType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/**
 * Bytes per element of each {@link TorchDType}.
 *
 * @example
 * ```ts
 * DTYPE_SIZE.float16; // 2
 * ```
 */
export const DTYPE_SIZE: Readonly<Record<TorchDType, number>> = Object.freeze({
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
});

/**
 * One PyTorch storage: a flat run of `numel` little-endian elements of one dtype. Several tensors
 * may share one storage (a slice and its base, a transpose, tied weights); they then hold the same
 * `TorchStorage` object.
 *
 * @example
 * ```ts
 * const t = stateDictOf(readPth(bytes)).get('conv.weight')!;
 * t.storage.key;              // '0' (the zip entry `<folder>/data/0`)
 * t.storage.bytes.byteLength; // numel × 4 for float32
 * ```
 */
export interface TorchStorage {
  /** The storage's key in the checkpoint (zip entry `<folder>/data/<key>`, or the legacy key). */
  key: string;
  /** Element type. */
  dtype: TorchDType;
  /** Number of elements. */
  numel: number;
  /** The storage's bytes: `numel × DTYPE_SIZE[dtype]` bytes, a view into the file's bytes (no copy). */
  bytes: Uint8Array;
}

/**
 * The typed array {@link TorchTensor.toTypedArray} returns for each dtype: Float32Array,
 * Float64Array, BigInt64Array (int64), Int32Array, Int16Array, Int8Array, Uint8Array (uint8 and
 * bool) and Uint16Array (the raw bit patterns of float16 and bfloat16).
 *
 * @example
 * ```ts
 * const a: TorchTypedArray = tensor.toTypedArray();
 * const list = Array.from(a as ArrayLike<number | bigint>);
 * ```
 */
export type TorchTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

const FLOAT_DTYPES: ReadonlySet<TorchDType> = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/**
 * A tensor read from (or to be written to) a checkpoint: a strided view of a {@link TorchStorage},
 * as in PyTorch. Nothing is copied until one of the `to…` methods is called.
 *
 * @example
 * ```ts
 * const t = stateDictOf(readPth(bytes)).get('conv.weight')!;
 * t.shape;         // [64, 3, 7, 7]
 * t.toFloat32();   // Float32Array of 9408 values, row-major
 * ```
 */
export class TorchTensor {
  /** Element type (the storage's). */
  readonly dtype: TorchDType;
  /** Logical shape; `[]` for a scalar. */
  readonly shape: number[];
  /** Elements to step in the storage for one step along each dimension. */
  readonly stride: number[];
  /** Index (in elements) of the first element in the storage. */
  readonly storageOffset: number;
  /** The storage the tensor views (possibly shared with other tensors). */
  readonly storage: TorchStorage;
  /** The file name used in error messages. */
  readonly #source: string;

  /**
   * A strided view of `storage`. Throws a {@link PthError} (naming `source`) when the view
   * reaches outside the storage or the shape or strides are not non-negative integers.
   *
   * @param storage the storage to view.
   * @param shape logical shape.
   * @param stride strides in elements (default: contiguous, row-major).
   * @param storageOffset first element's index in the storage (default 0).
   * @param source the file name used in error messages.
   */
  constructor(storage: TorchStorage, shape: readonly number[], stride?: readonly number[], storageOffset = 0, source = 'tensor') {
    const fail = (what: string): never => {
      throw new PthError(source, `tensor of shape [${shape.join(', ')}] on storage '${storage.key}': ${what}`);
    };
    const isIndex = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
    if (!shape.every(isIndex)) fail('the shape must hold non-negative integers');
    const st = stride ? [...stride] : contiguousStride(shape);
    if (st.length !== shape.length) fail(`stride [${st.join(', ')}] has ${st.length} dimensions`);
    if (!st.every(isIndex)) fail(`the stride [${st.join(', ')}] must hold non-negative integers`);
    if (!isIndex(storageOffset)) fail(`storage offset ${storageOffset} is not a non-negative integer`);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (numel > 0) {
      let last = storageOffset;
      for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * st[i]!;
      if (last >= storage.numel) {
        fail(`offset ${storageOffset} and stride [${st.join(', ')}] reach element ${last}, beyond the storage's ${storage.numel} ${storage.dtype} values`);
      }
    }
    this.dtype = storage.dtype;
    this.shape = [...shape];
    this.stride = st;
    this.storageOffset = storageOffset;
    this.storage = storage;
    this.#source = source;
  }

  /** Number of elements (the product of the shape; 1 for a scalar). */
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Whether the tensor is row-major contiguous (its elements are one run of the storage). */
  get isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] === 1) continue;
      if (this.stride[i] !== expected) return false;
      expected *= this.shape[i]!;
    }
    return true;
  }

  /**
   * Values of the logical shape, row-major (strides and offset applied), converted to float32
   * (float16/bfloat16 widened exactly, float64 rounded, ints converted, bool → 0/1). A new array.
   */
  toFloat32(): Float32Array {
    const n = this.numel;
    const out = new Float32Array(n);
    const dt = this.dtype;
    if (this.isContiguous && dt !== 'float16' && dt !== 'bfloat16' && dt !== 'int64') {
      // One typed-array copy (with conversion); the common case of a state dict.
      out.set(elementView(this.storage, this.#source).subarray(this.storageOffset, this.storageOffset + n) as Float32Array);
    } else if (dt === 'float32' || dt === 'float64' || dt === 'int32' || dt === 'int16' || dt === 'int8' || dt === 'uint8' || dt === 'bool') {
      const src = elementView(this.storage, this.#source);
      gather(this, (o, s) => (out[o] = src[s] as number));
    } else if (dt === 'float16') {
      const table = halfToFloatTable();
      const src = elementView(this.storage, this.#source) as Uint16Array;
      gather(this, (o, s) => (out[o] = table[src[s]!]!));
    } else if (dt === 'bfloat16') {
      const src = elementView(this.storage, this.#source) as Uint16Array;
      const bits = new Uint32Array(out.buffer);
      gather(this, (o, s) => (bits[o] = src[s]! << 16));
    } else {
      const src = elementView(this.storage, this.#source) as BigInt64Array;
      gather(this, (o, s) => (out[o] = Number(src[s]!)));
    }
    return out;
  }

  /** Integer and bool tensors: values as a BigInt64Array, row-major (strides and offset applied). */
  toBigInt64(): BigInt64Array {
    if (FLOAT_DTYPES.has(this.dtype)) {
      throw new PthError(this.#source, `toBigInt64: tensor on storage '${this.storage.key}' is ${this.dtype}, not an integer type (use toFloat32)`);
    }
    const out = new BigInt64Array(this.numel);
    const src = elementView(this.storage, this.#source);
    if (this.dtype === 'int64') {
      const s64 = src as BigInt64Array;
      gather(this, (o, s) => (out[o] = s64[s]!));
    } else {
      gather(this, (o, s) => (out[o] = BigInt(src[s] as number)));
    }
    return out;
  }

  /**
   * Values of the logical shape, row-major, in the typed array of the storage's own dtype (a new
   * array): Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, Int8Array,
   * Uint8Array (uint8 and bool), and Uint16Array holding the raw bit patterns of float16 and
   * bfloat16.
   */
  toTypedArray(): TorchTypedArray {
    const src = elementView(this.storage, this.#source);
    const out = new (src.constructor as new (n: number) => typeof src)(this.numel);
    if (this.isContiguous) {
      out.set(src.subarray(this.storageOffset, this.storageOffset + this.numel) as never);
    } else {
      gather(this, (o, s) => (out[o] = src[s]!));
    }
    return out;
  }
}

/**
 * Row-major contiguous strides of `shape`, in elements, as PyTorch computes them.
 *
 * @example
 * ```ts
 * contiguousStride([3, 2, 3, 3]); // [18, 9, 3, 1]
 * ```
 */
export function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= Math.max(shape[i]!, 1);
  }
  return stride;
}

type ElementArray = TorchTypedArray;

/** The storage's elements as a typed array: a view when aligned, else an aligned copy of this storage only. */
function elementView(storage: TorchStorage, source: string): ElementArray {
  const size = DTYPE_SIZE[storage.dtype];
  let bytes = storage.bytes;
  if (bytes.byteLength < storage.numel * size) {
    throw new PthError(source, `storage '${storage.key}' is truncated: ${bytes.byteLength} bytes for ${storage.numel} ${storage.dtype} values`);
  }
  if (size > 1 && (bytes.byteOffset % size !== 0 || !LITTLE_ENDIAN_HOST)) {
    bytes = bytes.slice(0, storage.numel * size);
    if (!LITTLE_ENDIAN_HOST) swapBytes(bytes, size);
  }
  const { buffer, byteOffset } = bytes;
  const n = storage.numel;
  switch (storage.dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
    case 'float64':
      return new Float64Array(buffer, byteOffset, n);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'int16':
      return new Int16Array(buffer, byteOffset, n);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'int8':
      return new Int8Array(buffer, byteOffset, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, n);
  }
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** Calls `visit(outIndex, storageIndex)` for every element in row-major order of the logical shape. */
function gather(t: TorchTensor, visit: (o: number, s: number) => void): void {
  const n = t.numel;
  if (n === 0) return;
  const { shape, stride } = t;
  const rank = shape.length;
  if (t.isContiguous) {
    for (let o = 0, s = t.storageOffset; o < n; o++, s++) visit(o, s);
    return;
  }
  // Odometer over all but the last dimension; the innermost runs as a plain loop.
  const inner = shape[rank - 1]!;
  const innerStride = stride[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = t.storageOffset;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, s = base; j < inner; j++, s += innerStride) visit(o + j, s);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      base += stride[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= idx[d]! * stride[d]!;
      idx[d] = 0;
    }
  }
}
