// The whitelist of Python globals a checkpoint may name. Each resolves to a JavaScript value or a
// PyCallable implemented here; nothing from the file is ever executed.
import { PyDict, PyTuple } from '../py.js';
import { DTYPE_SIZE, TorchTensor, type TorchDType, type TorchStorage } from '../tensor.js';
import { PyCallable, describe, narrowInt, type Buildable, type PickleContext } from './pickle.js';

/** A storage class such as `torch.FloatStorage`, as the second element of a storage persistent id. */
export class StorageType {
  constructor(
    readonly qualname: string,
    readonly dtype: TorchDType,
  ) {}
}

/** torch.<Name>Storage → dtype (CPU and, in old GPU checkpoints, torch.cuda.<Name>Storage). */
const STORAGE_DTYPES: Readonly<Record<string, TorchDType>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

/** torch dtype objects (torch.float32, torch.half, …) → this package's dtype name. */
const TORCH_DTYPES: Readonly<Record<string, TorchDType>> = {
  float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16',
  float64: 'float64', double: 'float64', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32',
  int16: 'int16', short: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
};

/** numpy type strings (kind + size) → dtype. */
const NUMPY_DTYPES: Readonly<Record<string, TorchDType>> = {
  f4: 'float32', f2: 'float16', f8: 'float64', i8: 'int64', i4: 'int32', i2: 'int16', i1: 'int8', u1: 'uint8', b1: 'bool',
};

/** A numpy dtype object (numpy.dtype('f8', False, True) then BUILD with its byte order). */
class NumpyDType implements Buildable {
  littleEndian = true;
  constructor(readonly typestr: string) {}
  pickleBuild(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.littleEndian = state[1] !== '>';
  }
}

/** A numpy array being rebuilt (numpy.core.multiarray._reconstruct, then BUILD with shape, dtype, data). */
class NumpyArray implements Buildable {
  tensor: TorchTensor | null = null;
  constructor(private readonly key: string) {}
  pickleBuild(state: unknown, vm: PickleContext): void {
    if (!Array.isArray(state) || state.length < 5) vm.fail('numpy array with an unexpected state');
    const [, shapeArg, dt, fortran, raw] = state as unknown[];
    const shape = intList(shapeArg, 'numpy array shape', vm);
    if (!(dt instanceof NumpyDType)) return vm.fail('numpy array without a dtype');
    const dtype = NUMPY_DTYPES[dt.typestr];
    if (!dtype) return vm.fail(`unsupported numpy dtype '${dt.typestr}'`);
    const bytes = asBytes(raw, vm, 'numpy array data');
    const numel = shape.reduce((a, b) => a * b, 1);
    if (bytes.length !== numel * DTYPE_SIZE[dtype]) vm.fail(`numpy array data has ${bytes.length} bytes for ${numel} ${dtype} values`);
    const storage: TorchStorage = { key: this.key, dtype, numel, bytes: dt.littleEndian ? bytes : swapped(bytes, DTYPE_SIZE[dtype]) };
    let stride: number[] | undefined;
    if (fortran === true) {
      stride = [];
      let s = 1;
      for (const d of shape) {
        stride.push(s);
        s *= Math.max(d, 1);
      }
    }
    this.tensor = new TorchTensor(storage, shape, stride, 0, vm.source);
  }
}

/**
 * Replaces the numpy arrays rebuilt while unpickling (placeholders until their BUILD) by their
 * tensors, everywhere in the finished value; iterative, so deep nesting cannot overflow the stack.
 */
export function finishValue(root: unknown, vm: PickleContext): unknown {
  if (!numpyArrays.has(vm)) return root;
  const swap = (x: unknown): unknown => (x instanceof NumpyArray ? x.tensor : x);
  const seen = new Set<unknown>();
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const x = todo.pop();
    if (typeof x !== 'object' || x === null || seen.has(x)) continue;
    seen.add(x);
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        todo.push(x[i]);
        x[i] = swap(x[i]);
      }
    } else if (x instanceof Map) {
      for (const [k, v] of x) {
        todo.push(v);
        if (v instanceof NumpyArray) x.set(k, v.tensor);
      }
      if (x instanceof PyDict) todo.push(x.attributes);
    } else if (x instanceof Set) {
      for (const v of x) todo.push(v);
    }
  }
  return swap(root);
}

function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i += size) out.subarray(i, i + size).reverse();
  return out;
}

/** bytes, or a str holding bytes as latin-1 code points (protocol 2's encoding of bytes). */
function asBytes(x: unknown, vm: PickleContext, what: string): Uint8Array {
  if (x instanceof Uint8Array) return x;
  if (typeof x === 'string') return latin1Bytes(x, vm);
  return vm.fail(`${what} is ${describe(x)}, not bytes`);
}

function latin1Bytes(s: string, vm: PickleContext): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) vm.fail('bytes encoded as latin-1 hold a character above U+00FF');
    out[i] = c;
  }
  return out;
}

function intList(x: unknown, what: string, vm: PickleContext): number[] {
  if (!Array.isArray(x) || !x.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) {
    return vm.fail(`${what} is ${describe(x)}, not a tuple of ints`);
  }
  return x as number[];
}

function int(x: unknown, what: string, vm: PickleContext): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) return vm.fail(`${what} is ${describe(x)}, not an int`);
  return x;
}

function storageArg(x: unknown, fn: string, vm: PickleContext): TorchStorage {
  if (typeof x !== 'object' || x === null || !('bytes' in x) || !('dtype' in x)) return vm.fail(`${fn}: first argument is ${describe(x)}, not a storage`);
  return x as TorchStorage;
}

/** A storage viewed as another dtype (_rebuild_tensor_v3 on an untyped storage); one object per pair. */
const retyped = new WeakMap<TorchStorage, Map<TorchDType, TorchStorage>>();
function asDType(storage: TorchStorage, dtype: TorchDType, vm: PickleContext): TorchStorage {
  if (storage.dtype === dtype) return storage;
  let byType = retyped.get(storage);
  if (!byType) retyped.set(storage, (byType = new Map()));
  let s = byType.get(dtype);
  if (!s) {
    const nbytes = storage.numel * DTYPE_SIZE[storage.dtype];
    if (nbytes % DTYPE_SIZE[dtype]) vm.fail(`storage '${storage.key}' of ${nbytes} bytes cannot hold ${dtype} values`);
    // `bytes` follows the untyped storage's (the legacy reader fills storages in after unpickling).
    s = {
      key: storage.key,
      dtype,
      numel: nbytes / DTYPE_SIZE[dtype],
      get bytes(): Uint8Array {
        return storage.bytes;
      },
    };
    byType.set(dtype, s);
  }
  return s;
}

/** torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) and v1. */
function rebuildTensor(fn: string, args: unknown[], vm: PickleContext, dtype?: TorchDType): TorchTensor {
  if (args.length < 4) vm.fail(`${fn} with ${args.length} arguments`);
  let storage = storageArg(args[0], fn, vm);
  if (dtype) storage = asDType(storage, dtype, vm);
  const offset = int(args[1], `${fn} storage offset`, vm);
  const shape = intList(args[2], `${fn} size`, vm);
  const stride = intList(args[3], `${fn} stride`, vm);
  return new TorchTensor(storage, shape, stride, offset, vm.source);
}

function tensorArg(x: unknown, fn: string, vm: PickleContext): unknown {
  if (x instanceof TorchTensor) return x;
  return vm.fail(`${fn}: data is ${describe(x)}, not a tensor`);
}

function makeSet(args: unknown[]): Set<unknown> {
  const it = args[0];
  if (it instanceof Map) return new Set(it.keys());
  return new Set(Array.isArray(it) || it instanceof Set ? it : []);
}

const fn = (qualname: string, call: (args: unknown[], vm: PickleContext) => unknown): PyCallable => new PyCallable(qualname, call);

/** The whitelisted callables, by "module.name". */
const CALLABLES: ReadonlyMap<string, PyCallable> = new Map(
  [
    fn('collections.OrderedDict', (args) => {
      const d = new PyDict(null, 'collections.OrderedDict');
      const it = args[0];
      if (it instanceof Map) for (const [k, v] of it) d.set(k, v);
      else if (Array.isArray(it)) for (const pair of it) if (Array.isArray(pair)) d.set(pair[0], pair[1]);
      return d;
    }),
    fn('argparse.Namespace', () => new PyDict(null, 'argparse.Namespace')),
    fn('torch._utils._rebuild_tensor', (args, vm) => rebuildTensor('_rebuild_tensor', args, vm)),
    fn('torch._utils._rebuild_tensor_v2', (args, vm) => rebuildTensor('_rebuild_tensor_v2', args, vm)),
    fn('torch._utils._rebuild_tensor_v3', (args, vm) => {
      const dt = args[6];
      const dtype = typeof dt === 'string' ? TORCH_DTYPES[dt.replace(/^torch\./, '')] : undefined;
      if (!dtype) return vm.fail(`_rebuild_tensor_v3 with unsupported dtype ${describe(dt)}`);
      return rebuildTensor('_rebuild_tensor_v3', args, vm, dtype);
    }),
    fn('torch._utils._rebuild_parameter', (args, vm) => tensorArg(args[0], '_rebuild_parameter', vm)),
    fn('torch._utils._rebuild_parameter_with_state', (args, vm) => tensorArg(args[0], '_rebuild_parameter_with_state', vm)),
    // Tensor subclasses: func(*args), the subclass and its Python state dropped.
    ...['torch._tensor._rebuild_from_type_v2', 'torch._utils._rebuild_from_type_v2'].map((name) =>
      fn(name, (args, vm) => {
        const [f, , fargs] = args;
        if (!(f instanceof PyCallable) || !Array.isArray(fargs)) return vm.fail('_rebuild_from_type_v2 with unexpected arguments');
        return f.call(fargs, vm);
      }),
    ),
    // Classes that only appear as the `new_type` of _rebuild_from_type_v2.
    fn('torch.Tensor', (_a, vm) => vm.fail('torch.Tensor called directly')),
    fn('torch._tensor.Tensor', (_a, vm) => vm.fail('torch.Tensor called directly')),
    fn('torch.nn.parameter.Parameter', (args, vm) => tensorArg(args[0], 'Parameter', vm)),
    fn('torch.nn.parameter.Buffer', (args, vm) => tensorArg(args[0], 'Buffer', vm)),
    fn('torch.Size', (args) => PyTuple.from((args[0] as unknown[] | undefined) ?? [])),
    fn('torch.device', (args, vm) => {
      const [type, index] = args;
      if (typeof type !== 'string') return vm.fail(`torch.device of ${describe(type)}`);
      return index === undefined || index === null ? type : `${type}:${String(index)}`;
    }),
    fn('builtins.set', makeSet),
    fn('builtins.frozenset', makeSet),
    fn('builtins.bytes', (args, vm) => (args.length === 0 ? new Uint8Array(0) : asBytes(args[0], vm, 'bytes()'))),
    fn('builtins.bytearray', (args, vm) => (args.length === 0 ? new Uint8Array(0) : asBytes(args[0], vm, 'bytearray()').slice())),
    fn('_codecs.encode', (args, vm) => {
      const [s, enc] = args;
      if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) return vm.fail(`_codecs.encode(${describe(s)}, ${describe(enc)})`);
      return latin1Bytes(s, vm);
    }),
    ...['numpy.core.multiarray', 'numpy._core.multiarray'].flatMap((m) => [
      fn(`${m}.scalar`, (args, vm) => numpyScalar(args, vm)),
      fn(`${m}._reconstruct`, (args, vm) => {
        if (!(args[0] instanceof PyCallable) || args[0].qualname !== 'numpy.ndarray') return vm.fail(`_reconstruct of ${describe(args[0])}`);
        const k = numpyArrays.get(vm) ?? 0;
        numpyArrays.set(vm, k + 1);
        return new NumpyArray(`numpy:${k}`);
      }),
    ]),
    fn('numpy.ndarray', (_a, vm) => vm.fail('numpy.ndarray called directly')),
    fn('numpy.dtype', (args, vm) => {
      if (typeof args[0] !== 'string') return vm.fail(`numpy.dtype(${describe(args[0])})`);
      return new NumpyDType(args[0]);
    }),
  ].map((c) => [c.qualname, c] as const),
);

/** Numpy arrays rebuilt so far in each pickle (their storage keys are `numpy:<n>`). */
const numpyArrays = new WeakMap<PickleContext, number>();

function numpyScalar(args: unknown[], vm: PickleContext): unknown {
  const [dt, raw] = args;
  if (!(dt instanceof NumpyDType)) return vm.fail(`numpy scalar of ${describe(dt)}`);
  const bytes = asBytes(raw, vm, 'numpy scalar data');
  const dtype = NUMPY_DTYPES[dt.typestr] ?? (dt.typestr === 'u2' || dt.typestr === 'u4' || dt.typestr === 'u8' ? dt.typestr : undefined);
  if (!dtype) return vm.fail(`unsupported numpy scalar dtype '${dt.typestr}'`);
  const size = Number(dt.typestr.slice(1));
  if (bytes.length !== size) return vm.fail(`numpy scalar '${dt.typestr}' with ${bytes.length} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dt.littleEndian;
  switch (dt.typestr) {
    case 'f2': return halfScalar(v.getUint16(0, le));
    case 'f4': return v.getFloat32(0, le);
    case 'f8': return v.getFloat64(0, le);
    case 'i1': return v.getInt8(0);
    case 'i2': return v.getInt16(0, le);
    case 'i4': return v.getInt32(0, le);
    case 'i8': return narrowInt(v.getBigInt64(0, le));
    case 'u1': return v.getUint8(0);
    case 'u2': return v.getUint16(0, le);
    case 'u4': return v.getUint32(0, le);
    case 'u8': return narrowInt(v.getBigUint64(0, le));
    default: return v.getUint8(0) !== 0; // b1
  }
}

function halfScalar(h: number): number {
  const t = new TorchTensor({ key: 'scalar', dtype: 'float16', numel: 1, bytes: new Uint8Array(new Uint16Array([h]).buffer) }, []);
  return t.toFloat32()[0]!;
}

/**
 * Resolves GLOBAL `module name`: a whitelisted callable, a storage class, a torch dtype (as the
 * string 'torch.float32'), or undefined when not allowed. Unsupported storage classes fail here.
 */
export function resolveGlobal(module: string, name: string, vm: PickleContext): unknown {
  const mod = module === '__builtin__' ? 'builtins' : module;
  const qualname = `${mod}.${name}`;
  const c = CALLABLES.get(qualname);
  if (c) return c;
  if ((mod === 'torch' || mod === 'torch.cuda' || mod === 'torch.storage') && name.endsWith('Storage')) {
    const dtype = STORAGE_DTYPES[name];
    if (!dtype) return vm.fail(`unsupported storage type ${qualname}`);
    return new StorageType(qualname, dtype);
  }
  if (mod === 'torch' && name in TORCH_DTYPES) return `torch.${TORCH_DTYPES[name]}`;
  return undefined;
}
