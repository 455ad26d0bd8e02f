// float16 / bfloat16 conversions: exact widening of every bit pattern, round-to-nearest-even narrowing.
import { describe, expect, it } from 'vitest';
import { bfloat16BitsToNumber, halfBitsToNumber, halfToFloatTable, numberToBfloat16Bits, numberToHalfBits } from '../src/internal/numeric.js';
import { TorchTensor } from '../src/index.js';

describe('float16', () => {
  it('widens special values exactly: ±0, smallest subnormal, largest subnormal, smallest normal, max, ±inf, NaN', () => {
    expect(Object.is(halfBitsToNumber(0x0000), 0)).toBe(true);
    expect(Object.is(halfBitsToNumber(0x8000), -0)).toBe(true);
    expect(halfBitsToNumber(0x0001)).toBe(2 ** -24);
    expect(halfBitsToNumber(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfBitsToNumber(0x0400)).toBe(2 ** -14);
    expect(halfBitsToNumber(0x3c00)).toBe(1);
    expect(halfBitsToNumber(0x7bff)).toBe(65504);
    expect(halfBitsToNumber(0x7c00)).toBe(Infinity);
    expect(halfBitsToNumber(0xfc00)).toBe(-Infinity);
    expect(halfBitsToNumber(0x7e00)).toBeNaN();
  });

  it('all 65536 patterns: narrowing the widened value gives the pattern back (NaNs stay NaN)', () => {
    const table = halfToFloatTable();
    for (let h = 0; h < 65536; h++) {
      const x = table[h]!;
      if (Number.isNaN(x)) expect(Number.isNaN(halfBitsToNumber(numberToHalfBits(x)))).toBe(true);
      else if (numberToHalfBits(x) !== h) throw new Error(`0x${h.toString(16)} → ${x} → 0x${numberToHalfBits(x).toString(16)}`);
    }
  });

  it('rounds to nearest, ties to even; overflow to inf; underflow to ±0', () => {
    expect(numberToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (1)
    expect(numberToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (1 + 2^-9)
    expect(numberToHalfBits(65520)).toBe(0x7c00); // halfway to 2^16 rounds up to inf
    expect(numberToHalfBits(65519)).toBe(0x7bff);
    expect(numberToHalfBits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal → 0
    expect(numberToHalfBits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(numberToHalfBits(-(2 ** -30))).toBe(0x8000);
    expect(numberToHalfBits(0.1)).toBe(0x2e66);
  });

  it('a float16 tensor widens through the table', () => {
    const bits = new Uint16Array([0x3c00, 0x0001, 0xfbff, 0x7c00]);
    const t = new TorchTensor({ key: 'h', dtype: 'float16', numel: 4, bytes: new Uint8Array(bits.buffer) }, [2, 2], [1, 2]);
    expect(Array.from(t.toFloat32())).toEqual([1, -65504, 2 ** -24, Infinity]);
  });
});

describe('bfloat16', () => {
  it('widens exactly (the top half of a float32) and narrows to nearest even', () => {
    expect(bfloat16BitsToNumber(0x3f80)).toBe(1);
    expect(bfloat16BitsToNumber(0xc060)).toBe(-3.5);
    expect(bfloat16BitsToNumber(0x7f80)).toBe(Infinity);
    expect(bfloat16BitsToNumber(0x7fc0)).toBeNaN();
    expect(numberToBfloat16Bits(1)).toBe(0x3f80);
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(numberToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(numberToBfloat16Bits(NaN) & 0x7fc0).toBe(0x7fc0);
    for (let b = 0; b < 65536; b += 7) {
      const x = bfloat16BitsToNumber(b);
      if (!Number.isNaN(x)) expect(numberToBfloat16Bits(x)).toBe(b);
    }
  });
});

describe('TorchTensor views', () => {
  it('rejects views outside the storage and reads strided, offset views row-major', () => {
    const bytes = new Uint8Array(Float32Array.from([0, 1, 2, 3, 4, 5]).buffer);
    const s = { key: 'k', dtype: 'float32' as const, numel: 6, bytes };
    expect(() => new TorchTensor(s, [4], [2], 0, 'v.pth')).toThrow("v.pth: tensor of shape [4] on storage 'k': offset 0 and stride [2] reach element 6, beyond the storage's 6 float32 values");
    expect(Array.from(new TorchTensor(s, [2, 2], [1, 2], 1).toFloat32())).toEqual([1, 3, 2, 4]);
    expect(Array.from(new TorchTensor(s, [3, 0], [1, 1], 0).toFloat32())).toEqual([]);
    expect(Array.from(new TorchTensor(s, [2], [0], 5).toFloat32())).toEqual([5, 5]); // expanded (stride 0)
    expect(new TorchTensor(s, [2, 1, 3]).isContiguous).toBe(true);
    expect(() => new TorchTensor(s, [2]).toBigInt64()).toThrow(/float32, not an integer type/);
  });

  it('reads unaligned storages (legacy files) by copying that storage only', () => {
    const buf = new Uint8Array(4 * 3 + 1);
    new DataView(buf.buffer).setFloat32(1, 1.5, true);
    new DataView(buf.buffer).setFloat32(5, -2, true);
    new DataView(buf.buffer).setFloat32(9, 3, true);
    const t = new TorchTensor({ key: 'u', dtype: 'float32', numel: 3, bytes: buf.subarray(1) }, [3]);
    expect(Array.from(t.toFloat32())).toEqual([1.5, -2, 3]);
  });
});
