// The two real torch.save files (zip and legacy format) against container.json, which lists the
// Python structure and every tensor (dtype, shape, stride, offset, exact values) as torch saw them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PyDict, PyTuple, TorchTensor, readPth, stateDictOf, writePth } from '../src/index.js';
import { readPthFile } from '../src/node.js';

const dir = new URL('./fixtures/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('container.json', dir), 'utf8')) as Fixture;

interface TensorExpect {
  index: number;
  path: (string | number)[];
  dtype: string;
  shape: number[];
  stride: number[];
  storageOffset: number;
  storageNumel: number;
  contiguous: boolean;
  sharesStorageWith?: number;
  values: number[];
}
type PyExpect =
  | { type: 'dict' | 'OrderedDict'; items: [PyExpect, PyExpect][]; attributes?: Record<string, PyExpect> }
  | { type: 'list' | 'tuple'; items: PyExpect[] }
  | { type: 'int' | 'float' | 'bool' | 'str'; value: number | boolean | string }
  | { type: 'None' }
  | { type: 'tensor'; index: number };
interface Fixture {
  files: Record<'zip' | 'legacy', { file: string; bytes: number }>;
  container: PyExpect;
  tensors: TensorExpect[];
}

/** Checks `value` against the typed description; collects tensors by index. */
function expectPy(value: unknown, spec: PyExpect, tensors: Map<number, TorchTensor>, where: string): void {
  switch (spec.type) {
    case 'dict':
    case 'OrderedDict': {
      expect(value, where).toBeInstanceOf(PyDict);
      const d = value as PyDict;
      expect(d.pyClass, where).toBe(spec.type === 'dict' ? 'dict' : 'collections.OrderedDict');
      expect(d.size, where).toBe(spec.items.length);
      const keys = [...d.keys()];
      spec.items.forEach(([k, v], i) => {
        expectPy(keys[i], k, tensors, `${where} key ${i}`);
        expectPy(d.get(keys[i]), v, tensors, `${where}[${String(keys[i])}]`);
      });
      const attrs = Object.entries(spec.attributes ?? {});
      expect([...d.attributes.keys()], where).toEqual(attrs.map(([k]) => k));
      for (const [k, v] of attrs) expectPy(d.attributes.get(k), v, tensors, `${where}.${k}`);
      return;
    }
    case 'list':
    case 'tuple':
      expect(Array.isArray(value), where).toBe(true);
      expect(value instanceof PyTuple, where).toBe(spec.type === 'tuple');
      expect((value as unknown[]).length, where).toBe(spec.items.length);
      spec.items.forEach((it, i) => expectPy((value as unknown[])[i], it, tensors, `${where}[${i}]`));
      return;
    case 'int':
    case 'float':
      expect(typeof value, where).toBe('number');
      expect(value, where).toBe(spec.value);
      return;
    case 'bool':
    case 'str':
      expect(value, where).toBe(spec.value);
      return;
    case 'None':
      expect(value, where).toBeNull();
      return;
    case 'tensor':
      expect(value, where).toBeInstanceOf(TorchTensor);
      expect(tensors.has(spec.index), `${where}: tensor ${spec.index} twice`).toBe(false);
      tensors.set(spec.index, value as TorchTensor);
      return;
  }
}

function at(root: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Map<unknown, unknown>).get(k), root);
}

function checkContainer(obj: unknown, name: string): void {
  const tensors = new Map<number, TorchTensor>();
  expectPy(obj, expected.container, tensors, name);
  expect(tensors.size).toBe(expected.tensors.length);
  for (const t of expected.tensors) {
    const got = tensors.get(t.index)!;
    const label = `${name} tensor ${t.index} ${t.path.join('.')} [${t.shape.join(', ')}]`;
    expect(at(obj, t.path), label).toBe(got);
    expect(got.shape, label).toEqual(t.shape);
    expect(got.dtype, label).toBe(t.dtype);
    expect(got.stride, label).toEqual(t.stride);
    expect(got.storageOffset, label).toBe(t.storageOffset);
    expect(got.storage.numel, label).toBe(t.storageNumel);
    expect(got.storage.dtype, label).toBe(t.dtype);
    expect(got.isContiguous, label).toBe(t.contiguous);
    expect(got.numel, label).toBe(t.values.length);
    // Exact values: float32 values are listed as the doubles they widen to, float16 as exact decimals.
    if (t.dtype === 'int64') expect(Array.from(got.toBigInt64()), label).toEqual(t.values.map((v) => BigInt(v)));
    expect(Array.from(got.toFloat32()), label).toEqual(t.values);
    if (t.sharesStorageWith !== undefined) expect(got.storage, label).toBe(tensors.get(t.sharesStorageWith)!.storage);
  }
  // Storages not listed as shared are distinct objects: 21 tensors on 20 storages.
  const storages = new Set(expected.tensors.map((t) => tensors.get(t.index)!.storage));
  expect(storages.size).toBe(expected.tensors.filter((t) => t.sharesStorageWith === undefined).length);
}

for (const kind of ['zip', 'legacy'] as const) {
  const { file, bytes: size } = expected.files[kind];
  const bytes = new Uint8Array(readFileSync(new URL(file, dir)));

  describe(`${file} (${kind} format)`, () => {
    it(`is the ${size}-byte file of container.json`, () => {
      expect(bytes.length).toBe(size);
    });

    it('reads the container: epoch 7, best_loss 0.25, OrderedDict state_dict with _metadata, Adam state with int keys, tuple betas, None', () => {
      const obj = readPth(bytes, { source: file });
      checkContainer(obj, file);
      const top = obj as PyDict;
      expect([...top.keys()]).toEqual(['epoch', 'state_dict', 'best_loss', 'optimizer']);
      expect(top.get('epoch')).toBe(7);
      expect(top.get('best_loss')).toBe(0.25);
      const opt = top.get('optimizer') as PyDict;
      expect([...(opt.get('state') as PyDict).keys()]).toEqual([0, 1]);
      const group = (opt.get('param_groups') as PyDict[])[0]!;
      expect(group.get('betas')).toBeInstanceOf(PyTuple);
      expect([...(group.get('betas') as PyTuple)]).toEqual([0.9, 0.999]);
      expect(group.get('foreach')).toBeNull();
      expect(group.get('params')).toEqual([0, 1]);
      const meta = (top.get('state_dict') as PyDict).attributes.get('_metadata') as PyDict;
      expect(meta.pyClass).toBe('collections.OrderedDict');
      expect((meta.get('bn') as PyDict).get('version')).toBe(2);
    });

    it('storages are views of the input bytes (no copy), shared storages are one object', () => {
      const sd = stateDictOf(readPth(bytes, { source: file }), file);
      for (const t of sd.values()) expect(t.storage.bytes.buffer).toBe(bytes.buffer);
      expect(sd.get('extra.slice_a')!.storage).toBe(sd.get('extra.slice_b')!.storage);
      expect(sd.get('extra.slice_a')!.storage).not.toBe(sd.get('extra.half')!.storage);
    });

    it('stateDictOf gives the 15 state_dict tensors in file order', () => {
      const sd = stateDictOf(readPth(bytes, { source: file }), file);
      const names = (expected.container as { items: [{ value: string }, { items: [{ value: string }, unknown][] }][] }).items[1]![1].items.map(([k]) => k.value);
      expect([...sd.keys()]).toEqual(names);
      expect(names).toHaveLength(15);
    });

    it('toTypedArray keeps the dtype: float16 bits, int64 values, transposed float32 in row-major order', () => {
      const sd = stateDictOf(readPth(bytes, { source: file }), file);
      const half = sd.get('extra.half')!.toTypedArray();
      expect(half).toBeInstanceOf(Uint16Array);
      expect(half[0]).toBe(0xb99a); // -0.7001953125
      expect(Array.from(sd.get('bn.num_batches_tracked')!.toTypedArray() as ArrayLike<number | bigint>)).toEqual([2n]);
      expect(Array.from(sd.get('extra.transposed')!.toTypedArray() as ArrayLike<number | bigint>)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    });

    it('written again by writePth, reads back to the same container', () => {
      const again = readPth(writePth(readPth(bytes, { source: file })), { source: `${file} rewritten` });
      checkContainer(again, `${file} rewritten`);
    });

    it('readPthFile (Node entry) reads it from disk', async () => {
      const obj = await readPthFile(new URL(file, dir).pathname);
      checkContainer(obj, file);
    });
  });
}

describe('zip and legacy files agree', () => {
  it('same tensors, same values', () => {
    const a = stateDictOf(readPth(new Uint8Array(readFileSync(new URL('container_zip.pth', dir)))));
    const b = stateDictOf(readPth(new Uint8Array(readFileSync(new URL('container_legacy.pth', dir)))));
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, t] of a) expect(Array.from(b.get(k)!.toFloat32()), k).toEqual(Array.from(t.toFloat32()));
  });
});
