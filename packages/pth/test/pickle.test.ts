// Files made by CPython's own pickle (protocol 4 in a zip, protocol 5 in the legacy layout) and
// numpy, with stand-in torch classes: see fixtures/make_pickles.py. They exercise the opcodes and
// globals the two torch fixtures do not (FRAME, MEMOIZE, STACK_GLOBAL, sets, bytes, big ints,
// NEWOBJ, numpy scalars and arrays, _rebuild_parameter, _rebuild_tensor_v3, every storage dtype).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PyDict, PyTuple, TorchTensor, readPth, stateDictOf } from '../src/index.js';

const dir = new URL('./fixtures/', import.meta.url);
const load = (file: string): PyDict => readPth(new Uint8Array(readFileSync(new URL(file, dir))), { source: file }) as PyDict;

for (const file of ['protocol4.pth', 'legacy_p5.pth']) {
  describe(`${file} (CPython pickle)`, () => {
    const obj = load(file);

    it('ints: number up to 2^53, bigint beyond', () => {
      expect(obj.get('ints')).toEqual([
        0, 1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 53,
        2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n, 10n ** 30n,
      ]);
    });

    it('floats (−0, inf, nan), strs (unicode, long), bytes', () => {
      const f = obj.get('floats') as number[];
      expect(f.slice(0, 6)).toEqual([0, -0, 1.5, 1e-300, Infinity, -Infinity]);
      expect(Object.is(f[1], -0)).toBe(true);
      expect(f[6]).toBeNaN();
      expect(obj.get('strs')).toEqual(['', 'ascii', 'ünïcödé ✓', 'x'.repeat(300)]);
      const bytes = obj.get('bytes') as Uint8Array[];
      expect(bytes.map((b) => b.length)).toEqual([0, 3, 512]);
      expect(Array.from(bytes[1]!)).toEqual([0, 1, 255]);
      expect(bytes[2]![511]).toBe(255);
    });

    it('sets, tuples, nested containers, None, bools, dict keys of any type', () => {
      expect(obj.get('set')).toEqual(new Set([1, 2, 3]));
      expect(obj.get('frozenset')).toEqual(new Set(['a']));
      expect(obj.get('tuple3')).toBeInstanceOf(PyTuple);
      expect([...(obj.get('tuple3') as PyTuple)]).toEqual([1, 'two', 3.5]);
      expect([...(obj.get('tuple5') as PyTuple)]).toEqual([1, 2, 3, 4, 5]);
      const [l, d, t] = obj.get('nested') as unknown[];
      expect(l).toEqual([]);
      expect(l).not.toBeInstanceOf(PyTuple);
      expect(d).toBeInstanceOf(PyDict);
      expect(t).toBeInstanceOf(PyTuple);
      expect(obj.get('none')).toBeNull();
      expect(obj.get('bools')).toEqual([true, false]);
      const keys = [...(obj.get('int_keys') as PyDict).keys()];
      expect(keys.slice(0, 2)).toEqual([0, -1]);
      expect([...(keys[2] as PyTuple)]).toEqual([1, 2]);
    });

    it('one Python object referenced twice is one JavaScript object (memo)', () => {
      const [a, b] = obj.get('shared') as unknown[][];
      expect(a).toBe(b);
      expect(a).toEqual([1, 2]);
    });

    it('argparse.Namespace, numpy scalars, torch dtype', () => {
      const ns = obj.get('ns') as PyDict;
      expect(ns.pyClass).toBe('argparse.Namespace');
      expect(Object.fromEntries(ns)).toEqual({ lr: 0.1, arch: 'resnet' });
      expect(obj.get('np_f64')).toBe(0.125);
      expect(obj.get('np_f32')).toBe(1.5);
      expect(obj.get('np_i64')).toBe(-5);
      expect(obj.get('np_bool')).toBe(true);
      expect(obj.get('dtype')).toBe('torch.float32');
    });

    it('state dict: every storage dtype, parameters, v3 on an untyped storage, shared strided views', () => {
      const sd = stateDictOf(obj, file);
      expect([...sd.keys()]).toEqual(['w', 'd', 'i', 'l', 'mask', 'bf', 'h', 'v3', 'tail', 'every_other']);
      expect((obj.get('state_dict') as PyDict).attributes.has('_metadata')).toBe(true);
      const f32 = (name: string): number[] => Array.from(sd.get(name)!.toFloat32());
      expect(f32('w')).toEqual([0.5, -1.25, 3, Math.fround(1e-30)]);
      expect(sd.get('d')!.dtype).toBe('float64');
      expect(Array.from(sd.get('d')!.toTypedArray() as ArrayLike<number | bigint>)).toEqual([0.1, -0.2]);
      expect(f32('d')).toEqual([Math.fround(0.1), Math.fround(-0.2)]);
      expect(Array.from(sd.get('i')!.toTypedArray() as ArrayLike<number | bigint>)).toEqual([-7, 2 ** 31 - 1]);
      expect(Array.from(sd.get('l')!.toBigInt64())).toEqual([-(2n ** 63n), 2n ** 53n + 1n, 3n]);
      expect(sd.get('mask')!.dtype).toBe('bool');
      expect(f32('mask')).toEqual([1, 0, 1]);
      // bfloat16 = the top 16 bits of the float32 (truncated by the generator)
      expect(f32('bf')).toEqual([1, -3.5, 0.00099945068359375]);
      // float16: a normal, the smallest subnormal, -inf
      expect(f32('h')).toEqual([6.097555160522461e-5, 2 ** -24, -Infinity]);
      const v3 = sd.get('v3')!;
      expect(v3.dtype).toBe('float16');
      expect(v3.storage.numel).toBe(3);
      expect(f32('v3')).toEqual([1.5, -2, 65504]);
      expect(f32('tail')).toEqual([7, 8, 9]);
      expect(f32('every_other')).toEqual([1, 3, 5, 7]);
      expect(sd.get('tail')!.storage).toBe(sd.get('every_other')!.storage);
    });

    if (file === 'protocol4.pth') {
      it('numpy arrays become tensors (C and Fortran order)', () => {
        const a = obj.get('np_array') as TorchTensor;
        expect(a).toBeInstanceOf(TorchTensor);
        expect(a.shape).toEqual([2, 3]);
        expect(Array.from(a.toFloat32())).toEqual([0, 1, 2, 3, 4, 5]);
        const f = obj.get('np_fortran') as TorchTensor;
        expect(f.stride).toEqual([1, 2]);
        expect(Array.from(f.toBigInt64())).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
      });
    }
  });
}
