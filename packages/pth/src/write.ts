import { crc32 } from './internal/crc32.js';
import { LITTLE_ENDIAN_HOST, numberToBfloat16Bits, numberToHalfBits } from './internal/numeric.js';
import { describe } from './internal/pickle.js';
import { PthError, PyDict, PyTuple } from './py.js';
import { DTYPE_SIZE, TorchTensor, type TorchDType, type TorchStorage } from './tensor.js';

/**
 * A contiguous tensor to write with {@link writePth}. `data` holds the values row-major: a plain
 * array of numbers (bigints too for int64; booleans for bool) or a typed array of the dtype
 * (Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, Int8Array, Uint8Array); for
 * float16 / bfloat16 a Float32Array or number[] is rounded to nearest even, while a Uint16Array is
 * taken as the raw bit patterns.
 *
 * @example
 * ```ts
 * const bias: TensorSpec = { dtype: 'float32', shape: [3], data: [0.1, 0.2, 0.3] };
 * const steps: TensorSpec = { dtype: 'int64', shape: [], data: [1000n] };
 * writePth({ bias, steps });
 * ```
 */
export interface TensorSpec {
  /** Element type. */
  dtype: TorchDType;
  /** Shape; `[]` for a scalar. */
  shape: readonly number[];
  /** The values, row-major (product of the shape of them). */
  data: ArrayLike<number | bigint | boolean>;
}

/**
 * Options of {@link writePth}.
 *
 * @example
 * ```ts
 * writePth(obj, { archiveName: 'model' }); // entries model/data.pkl, model/data/0, …
 * ```
 */
export interface WritePthOptions {
  /** The archive's top folder (torch uses the file name without extension); default `'archive'`. */
  archiveName?: string;
}

const STORAGE_CLASS: Readonly<Record<TorchDType, string>> = {
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  float64: 'DoubleStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

const SOURCE = 'writePth';
const fail = (what: string): never => {
  throw new PthError(SOURCE, what);
};

/**
 * Writes a `torch.save`-compatible zip checkpoint (pickle protocol 2, storages stored uncompressed
 * and 64-byte aligned, ZIP64 end records, as PyTorch writes them) that `torch.load` and
 * {@link readPth} read. For tests and tools.
 *
 * Values: {@link PyDict} (dict, or collections.OrderedDict with its `attributes` such as
 * `_metadata`; other classes such as argparse.Namespace are written as that class with the entries
 * as attributes), `Map` and plain objects (dict), arrays (list), {@link PyTuple} (tuple), `Set`
 * (set), numbers (an integral number is written as a Python int, any other as a float), bigints
 * (int), strings, booleans, `null` (None), `Uint8Array` (bytes), {@link TorchTensor} (its storage,
 * offset and strides kept, so tensors sharing a storage still share it) and {@link TensorSpec}
 * objects (a new contiguous storage each). The same object reached twice is written once
 * (pickle memo), as Python does.
 *
 * @param obj the object to save.
 * @param options `archiveName`: the zip's top folder (default `'archive'`).
 * @returns the file's bytes.
 *
 * @example
 * ```ts
 * const bytes = writePth({
 *   epoch: 3,
 *   state_dict: new PyDict([['fc.weight', { dtype: 'float32', shape: [2, 2], data: [1, 2, 3, 4] }]], 'collections.OrderedDict'),
 *   betas: PyTuple.from([0.9, 0.999]),
 * });
 * stateDictOf(readPth(bytes)).get('fc.weight')!.toFloat32(); // Float32Array [1, 2, 3, 4]
 * ```
 */
export function writePth(obj: unknown, options: WritePthOptions = {}): Uint8Array {
  const archive = options.archiveName ?? 'archive';
  if (!/^[^/\\]+$/.test(archive)) fail(`archive name ${JSON.stringify(archive)} must be one path component`);
  const pickler = new Pickler();
  pickler.dump(obj);
  const entries: [string, Uint8Array][] = [
    [`${archive}/data.pkl`, pickler.out.bytes()],
    [`${archive}/byteorder`, new TextEncoder().encode('little')],
  ];
  for (const [storage, key] of pickler.storages) {
    entries.push([`${archive}/data/${key}`, storage.bytes.subarray(0, storage.numel * DTYPE_SIZE[storage.dtype])]);
  }
  entries.push([`${archive}/version`, new TextEncoder().encode('3\n')]);
  return writeZip(entries);
}

/** A growable byte buffer. */
class ByteSink {
  private buf = new Uint8Array(1024);
  private len = 0;
  private readonly view = (): DataView => new DataView(this.buf.buffer);

  private reserve(k: number): number {
    if (this.len + k > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + k));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    const at = this.len;
    this.len += k;
    return at;
  }
  byte(b: number): void {
    const at = this.reserve(1);
    this.buf[at] = b;
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.view().setUint16(at, v, true);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view().setUint32(at, v, true);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.view().setInt32(at, v, true);
  }
  f64be(v: number): void {
    const at = this.reserve(8);
    this.view().setFloat64(at, v, false);
  }
  raw(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const utf8 = new TextEncoder();

/** A protocol-2 pickler for the values writePth accepts. */
class Pickler {
  readonly out = new ByteSink();
  /** Storages in order of first appearance → their key ('0', '1', …). */
  readonly storages = new Map<TorchStorage, string>();
  private readonly memo = new Map<unknown, number>();

  dump(obj: unknown): void {
    this.out.byte(0x80); // PROTO 2
    this.out.byte(2);
    this.save(obj);
    this.out.byte(0x2e); // STOP
  }

  private put(key: unknown): void {
    const i = this.memo.size;
    this.memo.set(key, i);
    if (i < 256) {
      this.out.byte(0x71); // BINPUT
      this.out.byte(i);
    } else {
      this.out.byte(0x72); // LONG_BINPUT
      this.out.u32(i);
    }
  }

  /** BINGET when `key` was memoized; true if so. */
  private get(key: unknown): boolean {
    const i = this.memo.get(key);
    if (i === undefined) return false;
    if (i < 256) {
      this.out.byte(0x68); // BINGET
      this.out.byte(i);
    } else {
      this.out.byte(0x6a); // LONG_BINGET
      this.out.u32(i);
    }
    return true;
  }

  private global(module: string, name: string): void {
    const key = `\0global:${module}.${name}`;
    if (this.get(key)) return;
    this.out.byte(0x63); // GLOBAL
    this.out.ascii(`${module}\n${name}\n`);
    this.put(key);
  }

  private int(v: number | bigint): void {
    const n = typeof v === 'bigint' && v >= -(2n ** 31n) && v < 2n ** 31n ? Number(v) : v;
    if (typeof n === 'number') {
      if (n >= 0 && n < 256) {
        this.out.byte(0x4b); // BININT1
        this.out.byte(n);
      } else if (n >= 0 && n < 65536) {
        this.out.byte(0x4d); // BININT2
        this.out.u16(n);
      } else if (n >= -(2 ** 31) && n < 2 ** 31) {
        this.out.byte(0x4a); // BININT
        this.out.i32(n);
      } else {
        this.long(BigInt(n));
      }
    } else {
      this.long(n);
    }
  }

  /** LONG1: the shortest two's-complement little-endian bytes. */
  private long(v: bigint): void {
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      const b = Number(x & 0xffn);
      bytes.push(b);
      x >>= 8n;
      if ((x === 0n && !(b & 0x80)) || (x === -1n && b & 0x80)) break;
    }
    if (bytes.length > 255) fail(`integer ${v} is too large`);
    this.out.byte(0x8a);
    this.out.byte(bytes.length);
    for (const b of bytes) this.out.byte(b);
  }

  private str(s: string): void {
    const key = `\0str:${s}`;
    if (this.get(key)) return;
    const b = utf8.encode(s);
    this.out.byte(0x58); // BINUNICODE
    this.out.u32(b.length);
    this.out.raw(b);
    this.put(key);
  }

  /** A tuple of already-known items (no memo): EMPTY_TUPLE, TUPLE1–3 or MARK … TUPLE. */
  private tuple(items: readonly unknown[], memoKey?: object): void {
    if (items.length === 0) {
      this.out.byte(0x29);
      return;
    }
    if (items.length > 3) this.out.byte(0x28); // MARK
    for (const it of items) this.save(it);
    this.out.byte(items.length === 1 ? 0x85 : items.length === 2 ? 0x86 : items.length === 3 ? 0x87 : 0x74);
    if (memoKey) this.put(memoKey);
  }

  /** Batched SETITEMS on the dict on top of the stack (Python batches by 1000). */
  private items(entries: Iterable<readonly [unknown, unknown]>): void {
    const all = [...entries];
    for (let i = 0; i < all.length; i += 1000) {
      const batch = all.slice(i, i + 1000);
      if (batch.length === 1) {
        this.save(batch[0]![0]);
        this.save(batch[0]![1]);
        this.out.byte(0x73); // SETITEM
      } else {
        this.out.byte(0x28); // MARK
        for (const [k, v] of batch) {
          this.save(k);
          this.save(v);
        }
        this.out.byte(0x75); // SETITEMS
      }
    }
  }

  private save(x: unknown): void {
    if (x === null || x === undefined) return this.out.byte(0x4e); // NONE
    if (x === true) return this.out.byte(0x88);
    if (x === false) return this.out.byte(0x89);
    if (typeof x === 'number') {
      if (Number.isSafeInteger(x) && !Object.is(x, -0)) return this.int(x);
      this.out.byte(0x47); // BINFLOAT
      return this.out.f64be(x);
    }
    if (typeof x === 'bigint') return this.int(x);
    if (typeof x === 'string') return this.str(x);
    if (typeof x !== 'object') return fail(`cannot write ${describe(x)}`);
    if (this.get(x)) return;
    if (x instanceof TorchTensor) return this.tensor(x, x);
    if (x instanceof PyTuple) return this.tuple(x, x);
    if (Array.isArray(x)) {
      this.out.byte(0x5d); // EMPTY_LIST
      this.put(x);
      for (let i = 0; i < x.length; i += 1000) {
        const batch = x.slice(i, i + 1000);
        if (batch.length === 1) {
          this.save(batch[0]);
          this.out.byte(0x61); // APPEND
        } else {
          this.out.byte(0x28);
          for (const v of batch) this.save(v);
          this.out.byte(0x65); // APPENDS
        }
      }
      return;
    }
    if (x instanceof Uint8Array) {
      // Protocol 2 writes bytes as _codecs.encode(<latin-1 str>, 'latin1'), as Python 3 does.
      this.global('_codecs', 'encode');
      let s = '';
      for (let i = 0; i < x.length; i += 8192) s += String.fromCharCode(...x.subarray(i, i + 8192));
      this.tuple([s, 'latin1']);
      this.out.byte(0x52); // REDUCE
      return this.put(x);
    }
    if (x instanceof Set) {
      this.global('__builtin__', 'set');
      this.tuple([[...x]]);
      this.out.byte(0x52);
      return this.put(x);
    }
    if (x instanceof PyDict && x.pyClass !== 'dict') return this.classDict(x);
    if (x instanceof Map) {
      if (x instanceof PyDict && x.attributes.size > 0) fail('a plain dict cannot carry attributes (use pyClass collections.OrderedDict)');
      this.out.byte(0x7d); // EMPTY_DICT
      this.put(x);
      return this.items(x);
    }
    if (isTensorSpec(x)) return this.tensor(specToTensor(x), x);
    const proto = Object.getPrototypeOf(x);
    if (proto === Object.prototype || proto === null) {
      this.out.byte(0x7d);
      this.put(x);
      return this.items(Object.entries(x));
    }
    return fail(`cannot write ${describe(x)}`);
  }

  /** OrderedDict (entries, then BUILD with its attributes) or another class (attributes from entries). */
  private classDict(d: PyDict): void {
    const dot = d.pyClass.lastIndexOf('.');
    if (dot <= 0) fail(`cannot write a PyDict of class ${JSON.stringify(d.pyClass)}`);
    this.global(d.pyClass.slice(0, dot), d.pyClass.slice(dot + 1));
    this.out.byte(0x29); // EMPTY_TUPLE
    const ordered = d.pyClass === 'collections.OrderedDict';
    this.out.byte(ordered ? 0x52 : 0x81); // REDUCE (OrderedDict()) or NEWOBJ (cls.__new__(cls))
    this.put(d);
    const state = ordered ? d.attributes : d;
    if (ordered) this.items(d);
    if (state.size > 0) {
      const attrs = new Map<unknown, unknown>(state);
      this.out.byte(0x7d);
      this.put(attrs);
      this.items(attrs);
      this.out.byte(0x62); // BUILD
    }
  }

  private tensor(t: TorchTensor, memoKey: object): void {
    const s = t.storage;
    let key = this.storages.get(s);
    if (key === undefined) {
      if (s.bytes.length < s.numel * DTYPE_SIZE[s.dtype]) fail(`storage '${s.key}' has ${s.bytes.length} bytes for ${s.numel} ${s.dtype} values`);
      key = String(this.storages.size);
      this.storages.set(s, key);
    }
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.out.byte(0x28); // MARK (the arguments tuple)
    // persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)
    const pid = `\0pid:${key}`;
    if (!this.get(pid)) {
      this.out.byte(0x28);
      this.str('storage');
      this.global('torch', STORAGE_CLASS[s.dtype]);
      this.str(key);
      this.str('cpu');
      this.int(s.numel);
      this.out.byte(0x74); // TUPLE
      this.put(pid);
    }
    this.out.byte(0x51); // BINPERSID
    this.int(t.storageOffset);
    this.tuple(t.shape);
    this.tuple(t.stride);
    this.out.byte(0x89); // requires_grad False
    this.global('collections', 'OrderedDict'); // backward_hooks: OrderedDict()
    this.out.byte(0x29);
    this.out.byte(0x52);
    this.out.byte(0x74); // TUPLE
    this.out.byte(0x52); // REDUCE
    this.put(memoKey);
  }
}

function isTensorSpec(x: object): x is TensorSpec {
  const s = x as Partial<TensorSpec>;
  return typeof s.dtype === 'string' && Array.isArray(s.shape) && s.data !== undefined && typeof (s.data as ArrayLike<unknown>).length === 'number';
}

/** A contiguous tensor on a new storage holding `spec.data` converted to `spec.dtype`. */
function specToTensor(spec: TensorSpec): TorchTensor {
  const { dtype, shape, data } = spec;
  if (!(dtype in DTYPE_SIZE)) fail(`unknown dtype ${JSON.stringify(dtype)} (valid: ${Object.keys(DTYPE_SIZE).join(', ')})`);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor shape [${shape.join(', ')}] must hold non-negative integers`);
  const numel = shape.reduce((a, b) => a * b, 1);
  if (data.length !== numel) fail(`tensor of shape [${shape.join(', ')}] needs ${numel} values, got ${data.length}`);
  const arr = toElements(dtype, data, numel);
  let bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  if (!LITTLE_ENDIAN_HOST && DTYPE_SIZE[dtype] > 1) {
    bytes = bytes.slice();
    for (let i = 0; i < bytes.length; i += DTYPE_SIZE[dtype]) bytes.subarray(i, i + DTYPE_SIZE[dtype]).reverse();
  }
  return new TorchTensor({ key: 'new', dtype, numel, bytes }, shape, undefined, 0, SOURCE);
}

type Elements = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

function toElements(dtype: TorchDType, data: ArrayLike<number | bigint | boolean>, numel: number): Elements {
  const num = (v: number | bigint | boolean): number => (typeof v === 'number' ? v : Number(v));
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>, num);
    case 'float64':
      return data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>, num);
    case 'float16':
    case 'bfloat16': {
      if (data instanceof Uint16Array) return data;
      const conv = dtype === 'float16' ? numberToHalfBits : numberToBfloat16Bits;
      const out = new Uint16Array(numel);
      for (let i = 0; i < numel; i++) out[i] = conv(num(data[i]!));
      return out;
    }
    case 'int64': {
      if (data instanceof BigInt64Array) return data;
      const out = new BigInt64Array(numel);
      for (let i = 0; i < numel; i++) {
        const v = data[i]!;
        if (typeof v === 'number' && !Number.isSafeInteger(v)) fail(`int64 value ${v} is not an integer`);
        out[i] = BigInt(v);
      }
      return out;
    }
    case 'int32':
      return data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>, num);
    case 'int16':
      return data instanceof Int16Array ? data : Int16Array.from(data as ArrayLike<number>, num);
    case 'int8':
      return data instanceof Int8Array ? data : Int8Array.from(data as ArrayLike<number>, num);
    case 'uint8':
      return data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>, num);
    case 'bool':
      return Uint8Array.from(data as ArrayLike<number>, (v) => (num(v) ? 1 : 0));
  }
}

/** A zip of stored entries, data 64-byte aligned (torch's 'FB' padding extra field), ZIP64 end records. */
function writeZip(entries: [string, Uint8Array][]): Uint8Array {
  const names = entries.map(([n]) => utf8.encode(n));
  // Layout pass: offsets of local headers and data.
  const local: { header: number; extra: number; data: number }[] = [];
  let at = 0;
  for (let i = 0; i < entries.length; i++) {
    const header = at;
    const beforeExtra = header + 30 + names[i]!.length + 4;
    const pad = (64 - (beforeExtra % 64)) % 64;
    const data = beforeExtra + pad;
    local.push({ header, extra: 4 + pad, data });
    at = data + entries[i]![1].length;
  }
  const cdOffset = at;
  const big = (v: number): boolean => v >= 0xffffffff;
  const cdSizes = entries.map(([, d], i) => 46 + names[i]!.length + (big(local[i]!.header) || big(d.length) ? 4 + 16 + (big(local[i]!.header) ? 8 : 0) : 0));
  const cdSize = cdSizes.reduce((a, b) => a + b, 0);
  const total = cdOffset + cdSize + 56 + 20 + 22;
  if (total > 2 ** 53) fail('archive too large');
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const crcs: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    const [, data] = entries[i]!;
    const { header, extra } = local[i]!;
    if (big(data.length)) fail(`entry ${entries[i]![0]} is larger than 4 GiB`);
    const crc = crc32(data);
    crcs.push(crc);
    v.setUint32(header, 0x04034b50, true);
    v.setUint16(header + 4, 20, true); // version needed
    v.setUint16(header + 6, 0x0800, true); // UTF-8 names
    v.setUint16(header + 8, 0, true); // stored
    v.setUint32(header + 14, crc, true);
    v.setUint32(header + 18, data.length, true);
    v.setUint32(header + 22, data.length, true);
    v.setUint16(header + 26, names[i]!.length, true);
    v.setUint16(header + 28, extra, true);
    out.set(names[i]!, header + 30);
    const x = header + 30 + names[i]!.length;
    v.setUint16(x, 0x4246, true); // 'FB'
    v.setUint16(x + 2, extra - 4, true);
    out.fill(0x5a, x + 4, x + extra); // 'Z'
    out.set(data, local[i]!.data);
  }
  let c = cdOffset;
  for (let i = 0; i < entries.length; i++) {
    const [, data] = entries[i]!;
    const { header } = local[i]!;
    const z64 = big(header);
    v.setUint32(c, 0x02014b50, true);
    v.setUint16(c + 4, 0x031e, true); // made by: Unix, 3.0
    v.setUint16(c + 6, z64 ? 45 : 20, true);
    v.setUint16(c + 8, 0x0800, true);
    v.setUint32(c + 16, crcs[i]!, true);
    v.setUint32(c + 20, data.length, true);
    v.setUint32(c + 24, data.length, true);
    v.setUint16(c + 28, names[i]!.length, true);
    v.setUint16(c + 30, cdSizes[i]! - 46 - names[i]!.length, true);
    v.setUint32(c + 42, z64 ? 0xffffffff : header, true);
    out.set(names[i]!, c + 46);
    if (z64) {
      const x = c + 46 + names[i]!.length;
      v.setUint16(x, 0x0001, true);
      v.setUint16(x + 2, 8, true);
      setU64(v, x + 4, header);
    }
    c += cdSizes[i]!;
  }
  // ZIP64 end of central directory record, its locator, then the classic record.
  const z = c;
  v.setUint32(z, 0x06064b50, true);
  setU64(v, z + 4, 44);
  v.setUint16(z + 12, 0x031e, true);
  v.setUint16(z + 14, 45, true);
  setU64(v, z + 24, entries.length);
  setU64(v, z + 32, entries.length);
  setU64(v, z + 40, cdSize);
  setU64(v, z + 48, cdOffset);
  const l = z + 56;
  v.setUint32(l, 0x07064b50, true);
  setU64(v, l + 8, z);
  v.setUint32(l + 16, 1, true);
  const e = l + 20;
  v.setUint32(e, 0x06054b50, true);
  v.setUint16(e + 8, Math.min(entries.length, 0xffff), true);
  v.setUint16(e + 10, Math.min(entries.length, 0xffff), true);
  v.setUint32(e + 12, Math.min(cdSize, 0xffffffff), true);
  v.setUint32(e + 16, Math.min(cdOffset, 0xffffffff), true);
  return out;
}

function setU64(v: DataView, at: number, x: number): void {
  v.setUint32(at, x % 2 ** 32, true);
  v.setUint32(at + 4, Math.floor(x / 2 ** 32), true);
}
