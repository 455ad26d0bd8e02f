// Real torch.save files of PyTorch 1.13 (fixtures/make_torch_fixtures.py) against what torch.load
// itself read from them (fixtures/torch.json): pickle protocol 4 in the zip format, the legacy
// format, every dtype, Parameters, channels-last, expanded (stride 0), empty and narrowed tensors,
// torch.Size / device / dtype and numpy scalars; and a pickled nn.Module, which must be refused.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PthError, PyDict, PyTuple, readPth, stateDictOf, type TorchTensor } from '../src/index.js';

const dir = new URL('./fixtures/', import.meta.url);
const bytesOf = (file: string): Uint8Array => new Uint8Array(readFileSync(new URL(file, dir)));
interface Expect {
  dtype: string;
  shape: number[];
  stride: number[];
  storageOffset: number;
  values: (number | string)[];
}
const expected = JSON.parse(readFileSync(new URL('torch.json', dir), 'utf8')) as Record<string, { tensors: Record<string, Expect>; sharedWithBase: string[] }>;

/** Exact values of any dtype as numbers (int64 as decimal strings), row-major. */
function exactValues(t: TorchTensor): (number | string)[] {
  if (t.dtype === 'int64') return Array.from(t.toBigInt64(), (v) => String(v));
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return Array.from(t.toFloat32());
  return Array.from(t.toTypedArray() as ArrayLike<number>, Number);
}
const decode = (v: number | string): number | string => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

for (const file of ['torch_p4.pth', 'torch_legacy_p2.pth']) {
  describe(`${file} (torch ${expected.torch as unknown as string})`, () => {
    const obj = readPth(bytesOf(file), { source: file }) as PyDict;
    const sd = stateDictOf(obj, file);
    const want = expected[file]!;

    it('every tensor as torch.load read it: dtype, shape, stride, offset, exact values', () => {
      expect([...sd.keys()]).toEqual(Object.keys(want.tensors));
      for (const [name, e] of Object.entries(want.tensors)) {
        const t = sd.get(name)!;
        const label = `${file} ${name} [${e.shape.join(', ')}]`;
        expect(t.shape, label).toEqual(e.shape);
        expect(t.dtype, label).toBe(e.dtype);
        expect(t.stride, label).toEqual(e.stride);
        expect(t.storageOffset, label).toBe(e.storageOffset);
        expect(exactValues(t), label).toEqual(e.values.map(decode));
      }
    });

    it('views share their base storage exactly where torch says so', () => {
      const shared = [...sd.keys()].filter((k) => k !== 'base' && sd.get(k)!.storage === sd.get('base')!.storage);
      expect(shared).toEqual(want.sharedWithBase);
      expect(shared).toContain('narrow');
    });

    it('torch.Size, torch.device, a torch dtype and numpy scalars in the container', () => {
      expect(obj.get('size')).toBeInstanceOf(PyTuple);
      expect([...(obj.get('size') as PyTuple)]).toEqual([3, 4]);
      expect(obj.get('device')).toBe('cpu');
      expect(obj.get('dtype')).toBe('torch.float16');
      expect(obj.get('np_f64')).toBe(0.125);
      expect(obj.get('np_i64')).toBe(-5);
      expect(obj.get('epoch')).toBe(3);
    });
  });
}

describe('torch_module.pth (a pickled nn.Module)', () => {
  it('is refused, naming the class', () => {
    expect(() => readPth(bytesOf('torch_module.pth'), { source: 'torch_module.pth' })).toThrow(PthError);
    expect(() => readPth(bytesOf('torch_module.pth'), { source: 'torch_module.pth' })).toThrow(
      /^torch_module\.pth: unsupported global torch\.nn\.modules\.conv\.Conv2d at byte \d+ of torch_module\/data\.pkl \(only tensors, storages and plain containers are read; nothing is executed\)$/,
    );
  });
});
