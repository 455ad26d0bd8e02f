// writePth → readPth round trips, stable re-encoding, and a 50 MB state dict read without a copy.
import { describe, expect, it } from 'vitest';
import { PyDict, PyTuple, TorchTensor, readPth, stateDictOf, writePth, type TorchStorage } from '../src/index.js';

function sample(): PyDict {
  const sd = new PyDict(null, 'collections.OrderedDict');
  sd.set('conv.weight', { dtype: 'float32', shape: [2, 1, 2, 2], data: [0.5, -1, 2, 3.25, 1e-7, -0, 7, 8] });
  sd.set('half', { dtype: 'float16', shape: [3], data: [0.1, 65504, -(2 ** -24)] });
  sd.set('bf', { dtype: 'bfloat16', shape: [2], data: [1.5, -3] });
  sd.set('steps', { dtype: 'int64', shape: [], data: [2n ** 40n] });
  sd.set('ids', { dtype: 'int64', shape: [2], data: [-1, 5] });
  sd.set('i32', { dtype: 'int32', shape: [2], data: new Int32Array([-3, 4]) });
  sd.set('mask', { dtype: 'bool', shape: [2], data: [true, false] });
  sd.set('f64', { dtype: 'float64', shape: [1], data: [0.1] });
  sd.attributes.set('_metadata', new PyDict([['', new PyDict([['version', 1]])]], 'collections.OrderedDict'));
  return sd;
}

function container(): PyDict {
  return new PyDict([
    ['epoch', 7],
    ['state_dict', sample()],
    ['best_loss', 0.25],
    ['optimizer', new PyDict([
      ['state', new PyDict([[0, new PyDict([['step', 3]])]])],
      ['param_groups', [new PyDict([['betas', PyTuple.from([0.9, 0.999])], ['foreach', null], ['amsgrad', false], ['params', [0]]])]],
    ])],
    ['misc', [new Set([1, 2]), new Uint8Array([0, 128, 255]), 2n ** 64n, -(2 ** 40), 'ünï', PyTuple.from([1, 2, 3, 4]), PyTuple.from([])]],
  ]);
}

describe('writePth → readPth', () => {
  it('round-trips containers: dict order, OrderedDict + _metadata, int keys, tuples, None, sets, bytes, big ints', () => {
    const obj = readPth(writePth(container()), { source: 'rt.pth' }) as PyDict;
    expect([...obj.keys()]).toEqual(['epoch', 'state_dict', 'best_loss', 'optimizer', 'misc']);
    expect(obj.pyClass).toBe('dict');
    expect(obj.get('epoch')).toBe(7);
    expect(obj.get('best_loss')).toBe(0.25);
    const sd = obj.get('state_dict') as PyDict;
    expect(sd.pyClass).toBe('collections.OrderedDict');
    expect(((sd.attributes.get('_metadata') as PyDict).get('') as PyDict).get('version')).toBe(1);
    const opt = obj.get('optimizer') as PyDict;
    expect([...(opt.get('state') as PyDict).keys()]).toEqual([0]);
    const group = (opt.get('param_groups') as PyDict[])[0]!;
    expect(group.get('betas')).toBeInstanceOf(PyTuple);
    expect([...(group.get('betas') as PyTuple)]).toEqual([0.9, 0.999]);
    expect(group.get('foreach')).toBeNull();
    expect(group.get('amsgrad')).toBe(false);
    const [set, bytes, big, neg, s, t4, t0] = obj.get('misc') as unknown[];
    expect(set).toEqual(new Set([1, 2]));
    expect(Array.from(bytes as Uint8Array)).toEqual([0, 128, 255]);
    expect(big).toBe(2n ** 64n);
    expect(neg).toBe(-(2 ** 40));
    expect(s).toBe('ünï');
    expect([...(t4 as PyTuple)]).toEqual([1, 2, 3, 4]);
    expect(t0).toBeInstanceOf(PyTuple);
  });

  it('round-trips tensors [2,1,2,2] float32, [3] float16 (rounded to nearest), bfloat16, int64, int32, bool, float64', () => {
    const sd = stateDictOf(readPth(writePth(container())));
    const w = sd.get('conv.weight')!;
    expect(w.shape).toEqual([2, 1, 2, 2]);
    expect(w.stride).toEqual([4, 4, 2, 1]);
    expect(w.dtype).toBe('float32');
    expect(Array.from(w.toFloat32())).toEqual([0.5, -1, 2, 3.25, Math.fround(1e-7), -0, 7, 8]);
    // float16 nearest to 0.1 is 0.0999755859375; 65504 is the largest half; 2^-24 the smallest subnormal
    expect(Array.from(sd.get('half')!.toFloat32())).toEqual([0.0999755859375, 65504, -(2 ** -24)]);
    expect(Array.from(sd.get('half')!.toTypedArray() as ArrayLike<number | bigint>)).toEqual([0x2e66, 0x7bff, 0x8001]);
    expect(Array.from(sd.get('bf')!.toFloat32())).toEqual([1.5, -3]);
    expect(sd.get('steps')!.shape).toEqual([]);
    expect(Array.from(sd.get('steps')!.toBigInt64())).toEqual([2n ** 40n]);
    expect(Array.from(sd.get('ids')!.toBigInt64())).toEqual([-1n, 5n]);
    expect(Array.from(sd.get('i32')!.toTypedArray() as ArrayLike<number | bigint>)).toEqual([-3, 4]);
    expect(Array.from(sd.get('i32')!.toBigInt64())).toEqual([-3n, 4n]);
    expect(Array.from(sd.get('mask')!.toFloat32())).toEqual([1, 0]);
    expect(Array.from(sd.get('f64')!.toTypedArray() as ArrayLike<number | bigint>)).toEqual([0.1]);
  });

  it('keeps shared storages shared and non-contiguous views as views (offset, stride)', () => {
    const storage: TorchStorage = { key: 'mine', dtype: 'float32', numel: 12, bytes: new Uint8Array(Float32Array.from({ length: 12 }, (_, i) => i).buffer) };
    const full = new TorchTensor(storage, [3, 4]);
    const transposed = new TorchTensor(storage, [4, 3], [1, 4]);
    const slice = new TorchTensor(storage, [2], [1], 9);
    const back = stateDictOf(readPth(writePth(new PyDict([['full', full], ['t', transposed], ['slice', slice], ['again', full]]))));
    expect(back.get('t')!.storage).toBe(back.get('full')!.storage);
    expect(back.get('slice')!.storage).toBe(back.get('full')!.storage);
    expect(back.get('again')).toBe(back.get('full')); // one tensor object written twice is memoized
    expect(back.get('t')!.stride).toEqual([1, 4]);
    expect(Array.from(back.get('t')!.toFloat32())).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(back.get('slice')!.storageOffset).toBe(9);
    expect(Array.from(back.get('slice')!.toFloat32())).toEqual([9, 10]);
  });

  it('re-encodes byte for byte: writePth(readPth(writePth(x))) equals writePth(x)', () => {
    const first = writePth(container(), { archiveName: 'ckpt' });
    const second = writePth(readPth(first), { archiveName: 'ckpt' });
    expect(second.length).toBe(first.length);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });

  it('aligns every storage to 64 bytes and names the archive folder', () => {
    const bytes = writePth(container(), { archiveName: 'my_model' });
    const sd = stateDictOf(readPth(bytes));
    for (const t of sd.values()) expect(t.storage.bytes.byteOffset % 64).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(30, 30 + 'my_model/data.pkl'.length))).toBe('my_model/data.pkl');
  });

  it('plain objects and Maps are written as dicts', () => {
    const obj = readPth(writePth({ a: 1, b: new Map<unknown, unknown>([[1, 'x']]) })) as PyDict;
    expect(obj.get('a')).toBe(1);
    expect((obj.get('b') as PyDict).get(1)).toBe('x');
  });
});

describe('a 50 MB float32 state dict', () => {
  it('reads without copying the file: every storage views the input buffer', () => {
    const sd = new PyDict(null, 'collections.OrderedDict');
    const n = 1 << 20; // 4 MiB per tensor
    for (let i = 0; i < 12; i++) {
      const data = new Float32Array(n);
      for (let j = 0; j < n; j += 4099) data[j] = i + j / n;
      sd.set(`layer${i}.weight`, { dtype: 'float32', shape: [1024, 1024], data });
    }
    const bytes = writePth(sd);
    expect(bytes.length).toBeGreaterThan(50_000_000);
    const t0 = performance.now();
    const back = stateDictOf(readPth(bytes, { source: 'big.pth' }));
    const ms = performance.now() - t0;
    expect(back.size).toBe(12);
    for (const t of back.values()) {
      expect(t.storage.bytes.buffer).toBe(bytes.buffer);
      expect(t.storage.bytes.length).toBe(4 * n);
    }
    const last = back.get('layer11.weight')!.toFloat32();
    expect(last[4099 * 10]).toBe(Math.fround(11 + (4099 * 10) / n));
    expect(ms).toBeLessThan(1000); // parsing only: no per-byte work on the storages
  });
});

/**
 * The same archive with every central-directory size and offset moved into ZIP64 extra fields and
 * the classic end record saturated (0xFFFF / 0xFFFFFFFF), as in checkpoints over 4 GiB.
 */
function forceZip64(zip: Uint8Array): Uint8Array {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const loc = zip.length - 22 - 20;
  const rec = Number(v.getBigUint64(loc + 8, true));
  const count = Number(v.getBigUint64(rec + 32, true));
  const cdOffset = Number(v.getBigUint64(rec + 48, true));
  const parts: Uint8Array[] = [zip.slice(0, cdOffset)];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    const nameLen = v.getUint16(at + 28, true);
    const fixed = zip.slice(at, at + 46 + nameLen);
    const fv = new DataView(fixed.buffer);
    const extra = new Uint8Array(4 + 24);
    const ev = new DataView(extra.buffer);
    ev.setUint16(0, 0x0001, true);
    ev.setUint16(2, 24, true);
    ev.setBigUint64(4, BigInt(v.getUint32(at + 24, true)), true); // size
    ev.setBigUint64(12, BigInt(v.getUint32(at + 20, true)), true); // compressed size
    ev.setBigUint64(20, BigInt(v.getUint32(at + 42, true)), true); // local header offset
    fv.setUint32(20, 0xffffffff, true);
    fv.setUint32(24, 0xffffffff, true);
    fv.setUint32(42, 0xffffffff, true);
    fv.setUint16(30, extra.length, true);
    parts.push(fixed, extra);
    at += 46 + nameLen + v.getUint16(at + 30, true) + v.getUint16(at + 32, true);
  }
  const cdSize = parts.slice(1).reduce((a, p) => a + p.length, 0);
  const end = new Uint8Array(56 + 20 + 22);
  const e = new DataView(end.buffer);
  const z = cdOffset + cdSize;
  e.setUint32(0, 0x06064b50, true);
  e.setBigUint64(4, 44n, true);
  e.setUint16(12, 45, true);
  e.setUint16(14, 45, true);
  e.setBigUint64(24, BigInt(count), true);
  e.setBigUint64(32, BigInt(count), true);
  e.setBigUint64(40, BigInt(cdSize), true);
  e.setBigUint64(48, BigInt(cdOffset), true);
  e.setUint32(56, 0x07064b50, true);
  e.setBigUint64(64, BigInt(z), true);
  e.setUint32(72, 1, true);
  e.setUint32(76, 0x06054b50, true);
  e.setUint16(84, 0xffff, true);
  e.setUint16(86, 0xffff, true);
  e.setUint32(88, 0xffffffff, true);
  e.setUint32(92, 0xffffffff, true);
  parts.push(end);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('ZIP64', () => {
  it('reads sizes and offsets from ZIP64 extra fields and the ZIP64 end record', () => {
    const plain = writePth(container());
    const z64 = forceZip64(plain);
    expect(z64.length).toBeGreaterThan(plain.length);
    const a = stateDictOf(readPth(plain));
    const b = stateDictOf(readPth(z64, { source: 'z64.pth' }));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) expect(Array.from(b.get(k)!.toFloat32()), k).toEqual(Array.from(t.toFloat32()));
  });
});

describe('stateDictOf', () => {
  const t = (v: number): { dtype: 'float32'; shape: number[]; data: number[] } => ({ dtype: 'float32', shape: [1], data: [v] });
  it('takes the object itself, else state_dict / model / net…, else the tensor entries of a mostly-tensor dict', () => {
    const plain = readPth(writePth({ a: t(1), b: t(2) }));
    expect([...stateDictOf(plain).keys()]).toEqual(['a', 'b']);
    const wrapped = readPth(writePth({ epoch: 1, model: { w: t(3) }, ema: t(4) }));
    expect([...stateDictOf(wrapped).keys()]).toEqual(['w']);
    const nested = readPth(writePth({ net: { state_dict: { v: t(5) } } }));
    expect([...stateDictOf(nested).keys()]).toEqual(['v']);
    const extra = readPth(writePth({ w: t(6), b: t(7), _extra_state: 'x' }));
    expect([...stateDictOf(extra).keys()]).toEqual(['w', 'b']);
  });
});
