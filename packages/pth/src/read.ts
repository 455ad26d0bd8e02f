import { StorageType, finishValue, resolveGlobal } from './internal/globals.js';
import { describe, unpickle, type PickleContext } from './internal/pickle.js';
import { ZipArchive, isZip } from './internal/zip.js';
import { PthError } from './py.js';
import { DTYPE_SIZE, TorchTensor, type TorchStorage } from './tensor.js';

/**
 * Options of {@link readPth}.
 *
 * @example
 * ```ts
 * const options: ReadPthOptions = { source: 'checkpoints/epoch_7.pth' };
 * readPth(bytes, options);
 * ```
 */
export interface ReadPthOptions {
  /** The name used in error messages, usually the file path (default `'checkpoint'`). */
  source?: string;
}

/** torch.save's legacy magic number, 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/**
 * Reads a `torch.save` file, zip format (PyTorch ≥ 1.6) or legacy format, from its bytes. The
 * bytes are never copied: every storage's `bytes` is a view into `bytes`.
 *
 * Python values map to JavaScript as: int → `number` (`bigint` beyond ±2^53), float → `number`,
 * str → `string`, bool → `boolean`, None → `null`, list → `Array`, tuple → {@link PyTuple},
 * dict / OrderedDict → {@link PyDict}, set → `Set`, bytes → `Uint8Array`, tensor / Parameter →
 * {@link TorchTensor}, torch dtype → `'torch.float32'`…, torch.device → `'cpu'`, `'cuda:0'`…,
 * numpy scalar → `number`, numpy array → {@link TorchTensor}, argparse.Namespace → a PyDict of its
 * attributes. Any other Python global is refused (nothing is executed).
 *
 * Every failure is a {@link PthError} whose one-line message starts with `options.source`.
 *
 * @param bytes the whole file.
 * @param options `source`: the file name for error messages.
 * @returns the unpickled object (for a checkpoint, usually a PyDict).
 *
 * @example
 * ```ts
 * const ckpt = readPth(new Uint8Array(await (await fetch('model.pth')).arrayBuffer()), { source: 'model.pth' });
 * const weights = stateDictOf(ckpt, 'model.pth');
 * const w = weights.get('conv1.weight')!;  // TorchTensor
 * console.log(w.shape, w.toFloat32().length);
 * ```
 */
export function readPth(bytes: Uint8Array, options: ReadPthOptions = {}): unknown {
  const source = options.source ?? 'checkpoint';
  if (!(bytes instanceof Uint8Array)) throw new PthError(source, `expected a Uint8Array, got ${describe(bytes)}`);
  const isLegacy = bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5;
  if (isZip(bytes) || isLegacy) {
    try {
      return isLegacy ? readLegacy(bytes, source) : readZip(bytes, source);
    } catch (e) {
      // Every check above throws a PthError; anything else (a bounds error in a damaged file, a
      // stack overflow) still becomes one line naming the file.
      if (e instanceof PthError) throw e;
      throw new PthError(source, `damaged checkpoint (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    throw new PthError(source, 'a tar archive (the oldest torch.save format, PyTorch 0.1–0.3); not supported');
  }
  if (bytes.length === 0) throw new PthError(source, 'empty file; not a PyTorch checkpoint');
  throw new PthError(source, 'not a PyTorch checkpoint (neither a zip archive nor a pickle)');
}

function context(source: string, where: string, persistentLoad: (pid: unknown, vm: PickleContext) => unknown): PickleContext {
  const vm: PickleContext = {
    source,
    where,
    resolveGlobal: (module, name) => resolveGlobal(module, name, vm),
    persistentLoad: (pid) => persistentLoad(pid, vm),
    fail: (what) => {
      throw new PthError(source, what);
    },
  };
  return vm;
}

/** The fields of a storage persistent id ('storage', type, key, location, numel[, view_metadata]). */
function storagePid(pid: unknown, vm: PickleContext): { type: StorageType; key: string; numel: number; view: unknown } {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) vm.fail(`unsupported persistent id ${describe(pid)}`);
  const [, type, key, , numel, view] = pid as unknown[];
  if (!(type instanceof StorageType)) return vm.fail(`persistent id with storage type ${describe(type)}`);
  if (typeof key !== 'string') return vm.fail(`persistent id with storage key ${describe(key)}`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return vm.fail(`storage '${key}' with element count ${describe(numel)}`);
  // An untyped storage counts bytes; its dtype is uint8, so numel is bytes either way.
  return { type, key, numel, view: view ?? null };
}

function checkSize(storage: TorchStorage, where: string, source: string): void {
  const need = storage.numel * DTYPE_SIZE[storage.dtype];
  if (storage.bytes.length < need) {
    throw new PthError(source, `storage '${where}' is truncated: ${storage.bytes.length} bytes for ${storage.numel} ${storage.dtype} values`);
  }
  if (storage.bytes.length > need) storage.bytes = storage.bytes.subarray(0, need);
}

function readZip(bytes: Uint8Array, source: string): unknown {
  const zip = new ZipArchive(bytes, source);
  // The pickle is <folder>/data.pkl; the folder is named after the file when it was written.
  let pkl: string | undefined;
  for (const name of zip.entries.keys()) {
    if ((name === 'data.pkl' || name.endsWith('/data.pkl')) && (pkl === undefined || name.length < pkl.length)) pkl = name;
  }
  if (pkl === undefined) {
    const what = [...zip.entries.keys()].some((n) => n.endsWith('constants.pkl')) ? 'a TorchScript archive (torch.jit.save), not a torch.save checkpoint' : 'zip archive without a data.pkl entry; not a torch.save checkpoint';
    throw new PthError(source, what);
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  if (zip.entries.has(`${prefix}constants.pkl`)) throw new PthError(source, 'a TorchScript archive (torch.jit.save), not a torch.save checkpoint; not supported');
  const order = zip.entries.get(`${prefix}byteorder`);
  if (order) {
    const text = new TextDecoder().decode(zip.data(order)).trim();
    if (text !== 'little') throw new PthError(source, `storages are ${text}-endian; only little-endian checkpoints are supported`);
  }
  const storages = new Map<string, TorchStorage>();
  const vm = context(source, pkl, (pid, vm) => {
    const { type, key, numel } = storagePid(pid, vm);
    let s = storages.get(key);
    if (!s) {
      const name = `${prefix}data/${key}`;
      const entry = zip.entries.get(name);
      if (!entry) return vm.fail(`storage '${key}' is missing (no zip entry '${name}')`);
      s = { key, dtype: type.dtype, numel, bytes: zip.data(entry) };
      checkSize(s, `data/${key}`, source);
      storages.set(key, s);
    } else if (s.dtype !== type.dtype) {
      return vm.fail(`storage '${key}' is read both as ${s.dtype} and as ${type.dtype}`);
    }
    return s;
  });
  const { value } = unpickle(zip.data(zip.entries.get(pkl)!), 0, vm);
  return finishValue(value, vm);
}

function readLegacy(bytes: Uint8Array, source: string): unknown {
  const noPid = (where: string): PickleContext =>
    context(source, where, (_pid, vm) => vm.fail(`persistent id in the ${where}`));
  let at = 0;
  const magic = unpickle(bytes, at, noPid('magic-number pickle'));
  if (magic.value !== LEGACY_MAGIC) {
    throw new PthError(source, 'not a PyTorch checkpoint (a pickle without torch.save\'s magic number; saved with pickle.dump?)');
  }
  const protocol = unpickle(bytes, magic.end, noPid('protocol pickle'));
  if (protocol.value !== 1001) throw new PthError(source, `unsupported legacy format version ${describe(protocol.value)} (expected 1001)`);
  const sysInfo = unpickle(bytes, protocol.end, noPid('sys-info pickle'));
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new PthError(source, 'saved on a big-endian machine; only little-endian checkpoints are supported');
  }
  at = sysInfo.end;

  // Storages are known by key while unpickling; their bytes follow the object pickle and the key
  // list, so they are filled in afterwards. Views (old torch) are resolved then too.
  const storages = new Map<string, TorchStorage>();
  const views: { storage: TorchStorage; root: string; offset: number }[] = [];
  const vm = context(source, 'object pickle', (pid, vm) => {
    const { type, key, numel, view } = storagePid(pid, vm);
    let root = storages.get(key);
    if (!root) storages.set(key, (root = { key, dtype: type.dtype, numel, bytes: new Uint8Array(0) }));
    if (view === null) return root;
    if (!Array.isArray(view) || view.length < 3) return vm.fail(`storage '${key}' with view metadata ${describe(view)}`);
    const [viewKey, offset, size] = view as unknown[];
    if (typeof viewKey !== 'string' || typeof offset !== 'number' || typeof size !== 'number') return vm.fail(`storage '${key}' with bad view metadata`);
    let v = storages.get(viewKey);
    if (!v) {
      storages.set(viewKey, (v = { key: viewKey, dtype: type.dtype, numel: size, bytes: new Uint8Array(0) }));
      views.push({ storage: v, root: key, offset });
    }
    return v;
  });
  const object = unpickle(bytes, at, vm);
  const keyList = unpickle(bytes, object.end, noPid('storage key list'));
  if (!Array.isArray(keyList.value) || !keyList.value.every((k) => typeof k === 'string')) {
    throw new PthError(source, `the storage key list is ${describe(keyList.value)}, not a list of str`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  at = keyList.end;
  for (const key of keyList.value as string[]) {
    const s = storages.get(key);
    if (!s) throw new PthError(source, `storage '${key}' is in the key list but no tensor uses it (its element size is unknown)`);
    if (at + 8 > bytes.length) throw new PthError(source, `storage '${key}' is truncated: its element count is cut off at byte ${at}`);
    const count = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
    at += 8;
    const nbytes = count * DTYPE_SIZE[s.dtype];
    if (count !== s.numel) throw new PthError(source, `storage '${key}' holds ${count} values where its tensors expect ${s.numel}`);
    if (at + nbytes > bytes.length) {
      throw new PthError(source, `storage '${key}' is truncated: ${Math.max(0, bytes.length - at)} bytes for ${count} ${s.dtype} values`);
    }
    s.bytes = bytes.subarray(at, at + nbytes);
    at += nbytes;
  }
  for (const { storage, root, offset } of views) {
    const r = storages.get(root)!;
    const size = DTYPE_SIZE[r.dtype];
    storage.bytes = r.bytes.subarray(offset * size, (offset + storage.numel) * size);
  }
  for (const s of storages.values()) checkSize(s, s.key, source);
  return finishValue(object.value, vm);
}

/**
 * The state dict of a checkpoint, as a Map from parameter name to tensor in file order: `obj`
 * itself when it maps strings to tensors; else its `'state_dict'` entry (also `'model'`, `'net'`,
 * `'model_state_dict'`, `'module'`, `'network'`, `'generator'`, and such an entry one level
 * further down); else, when at least half of `obj`'s entries are tensors, those tensors. Throws a
 * {@link PthError} naming `source` when there is none.
 *
 * @param obj the value {@link readPth} returned.
 * @param source the name used in error messages (default `'checkpoint'`).
 * @returns parameter name → tensor, in file order.
 *
 * @example
 * ```ts
 * const sd = stateDictOf(readPth(bytes, { source: 'ckpt.pth' }), 'ckpt.pth');
 * for (const [name, t] of sd) console.log(name, t.dtype, t.shape);
 * ```
 */
export function stateDictOf(obj: unknown, source = 'checkpoint'): Map<string, TorchTensor> {
  const found = findStateDict(obj, 0);
  if (!found) {
    const keys = obj instanceof Map ? [...obj.keys()].map((k) => String(k)).slice(0, 12) : [];
    throw new PthError(source, `no state dict found (expected a dict of tensors or a 'state_dict' entry${keys.length ? `; top-level keys: ${keys.join(', ')}` : `; got ${describe(obj)}`})`);
  }
  return found;
}

const STATE_DICT_KEYS = ['state_dict', 'model', 'net', 'model_state_dict', 'module', 'network', 'generator'];

/**
 * `obj` as a state dict: strictly (every key a string, every value a tensor), or leniently (the
 * tensor entries, when at least half of the entries are tensors; e.g. a module's `_extra_state`).
 */
function tensorsOf(obj: unknown, strict: boolean): Map<string, TorchTensor> | null {
  if (!(obj instanceof Map) || obj.size === 0) return null;
  const tensors = new Map<string, TorchTensor>();
  for (const [k, v] of obj) if (typeof k === 'string' && v instanceof TorchTensor) tensors.set(k, v);
  if (strict) return tensors.size === obj.size ? tensors : null;
  return tensors.size > 0 && tensors.size * 2 >= obj.size ? tensors : null;
}

/** The state dict in `obj`: itself, else under one of STATE_DICT_KEYS (two levels deep at most). */
function findStateDict(obj: unknown, depth: number): Map<string, TorchTensor> | null {
  const itself = tensorsOf(obj, true);
  if (itself) return itself;
  if (!(obj instanceof Map)) return null;
  if (depth < 2) {
    for (const key of STATE_DICT_KEYS) {
      const found = findStateDict(obj.get(key), depth + 1);
      if (found) return found;
    }
  }
  return tensorsOf(obj, false);
}
