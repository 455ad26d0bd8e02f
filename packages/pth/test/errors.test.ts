// Bad input: every failure is one PthError line naming the file and what is wrong.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PthError, PyDict, readPth, stateDictOf, writePth } from '../src/index.js';
import { readPthFile } from '../src/node.js';

const dir = new URL('./fixtures/', import.meta.url);
const zipFixture = (): Uint8Array => new Uint8Array(readFileSync(new URL('container_zip.pth', dir)));
const legacyFixture = (): Uint8Array => new Uint8Array(readFileSync(new URL('container_legacy.pth', dir)));

/** The message readPth throws (asserting it is a one-line PthError). */
function errorOf(bytes: Uint8Array, source = 'x.pth'): string {
  try {
    readPth(bytes, { source });
  } catch (e) {
    expect(e).toBeInstanceOf(PthError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg.startsWith(`${source}: `)).toBe(true);
    return msg;
  }
  throw new Error('readPth did not throw');
}

// ---- a tiny pickle assembler for hand-made legacy files
const enc = new TextEncoder();
const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const str = (s: string): number[] => [0x58, ...u32(enc.encode(s).length), ...enc.encode(s)];
const glob = (module: string, name: string): number[] => [0x63, ...enc.encode(`${module}\n${name}\n`)];
const MAGIC = [0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
const PROTOCOL = [0x80, 2, 0x4d, 0xe9, 0x03, 0x2e];
const SYS_INFO = [0x80, 2, 0x7d, 0x2e];
const keyList = (keys: string[]): number[] => [0x80, 2, 0x5d, 0x28, ...keys.flatMap(str), 0x65, 0x2e];
/** A float32 tensor of `shape` on storage '0' of `numel` elements. */
const tensorPickle = (numel: number, shape: number[], storageType = 'FloatStorage'): number[] => [
  0x80, 2, ...glob('torch._utils', '_rebuild_tensor_v2'), 0x28,
  0x28, ...str('storage'), ...glob('torch', storageType), ...str('0'), ...str('cpu'), 0x4b, numel, 0x4e, 0x74, 0x51,
  0x4b, 0, 0x28, ...shape.flatMap((d) => [0x4b, d]), 0x74, 0x28, ...shape.map(() => [0x4b, 1]).flat(), 0x74,
  0x89, 0x7d, 0x74, 0x52, 0x2e,
];
function legacy(object: number[], keys: string[] = [], tail: number[] = []): Uint8Array {
  return new Uint8Array([...MAGIC, ...PROTOCOL, ...SYS_INFO, ...object, ...keyList(keys), ...tail]);
}
const block = (count: number, bytes: number): number[] => [...u32(count), 0, 0, 0, 0, ...new Array<number>(bytes).fill(0)];

// ---- zip patching: the central-directory record of an entry
function central(bytes: Uint8Array, name: string): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 46 < bytes.length; at++) {
    if (v.getUint32(at, true) !== 0x02014b50) continue;
    const n = v.getUint16(at + 28, true);
    if (new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + n)) === name) return at;
  }
  throw new Error(`no central record for ${name}`);
}

describe('bad input gives one line naming the file', () => {
  it('not a zip or a pickle', () => {
    expect(errorOf(enc.encode('hello, this is not a checkpoint'), 'model.pth')).toBe(
      'model.pth: not a PyTorch checkpoint (neither a zip archive nor a pickle)',
    );
    expect(errorOf(new Uint8Array(0))).toBe('x.pth: empty file; not a PyTorch checkpoint');
  });

  it('a plain pickle without the torch.save magic number', () => {
    expect(errorOf(new Uint8Array([0x80, 2, 0x7d, 0x2e]))).toMatch(/^x\.pth: not a PyTorch checkpoint \(a pickle without torch\.save's magic number/);
  });

  it('truncated zip (end records cut off)', () => {
    const bytes = zipFixture();
    expect(errorOf(bytes.subarray(0, 4000))).toBe('x.pth: truncated or damaged zip archive (no end-of-central-directory record)');
  });

  it('truncated zip entry (sizes beyond the file)', () => {
    const bytes = zipFixture();
    const at = central(bytes, 'container_zip/data/0');
    new DataView(bytes.buffer).setUint32(at + 20, 1e6, true); // compressed size
    expect(errorOf(bytes)).toMatch(/^x\.pth: zip entry 'container_zip\/data\/0' is truncated: 1000000 bytes announced, \d+ present$/);
  });

  it('compressed entry', () => {
    const bytes = zipFixture();
    new DataView(bytes.buffer).setUint16(central(bytes, 'container_zip/data/3') + 10, 8, true);
    expect(errorOf(bytes)).toMatch(/^x\.pth: zip entry 'container_zip\/data\/3' is compressed \(method 8\)/);
  });

  it('truncated storage (zip entry shorter than its numel)', () => {
    const bytes = zipFixture();
    new DataView(bytes.buffer).setUint32(central(bytes, 'container_zip/data/0') + 20, 200, true);
    expect(errorOf(bytes)).toBe("x.pth: storage 'data/0' is truncated: 200 bytes for 54 float32 values");
  });

  it('missing storage entry', () => {
    const bytes = zipFixture();
    const at = central(bytes, 'container_zip/data/1');
    bytes[at + 46 + 'container_zip/data/'.length] = 'Q'.charCodeAt(0);
    expect(errorOf(bytes)).toBe("x.pth: storage '1' is missing (no zip entry 'container_zip/data/1')");
  });

  it('zip without data.pkl', () => {
    const bytes = zipFixture();
    const at = central(bytes, 'container_zip/data.pkl');
    bytes[at + 46 + 'container_zip/'.length] = 'D'.charCodeAt(0);
    expect(errorOf(bytes)).toBe('x.pth: zip archive without a data.pkl entry; not a torch.save checkpoint');
  });

  it('unsupported pickle opcode (named, with its position)', () => {
    const bytes = writePth(new PyDict([['a', 1]]));
    const pkl = pickleOffset(bytes);
    bytes[pkl + 2] = 0x82; // EMPTY_DICT → EXT1
    expect(errorOf(bytes)).toBe('x.pth: unsupported pickle opcode 0x82 (EXT1) at byte 2 of archive/data.pkl');
    bytes[pkl + 2] = 0xff;
    expect(errorOf(bytes)).toBe('x.pth: unsupported pickle opcode 0xff at byte 2 of archive/data.pkl');
  });

  it('unsupported global (nothing is executed)', () => {
    const evil = [0x80, 2, ...glob('os', 'system'), ...str('echo pwned'), 0x85, 0x52, 0x2e];
    expect(errorOf(legacy(evil))).toMatch(/^x\.pth: unsupported global os\.system at byte \d+ of object pickle \(only tensors, storages and plain containers are read; nothing is executed\)$/);
    const fromBytes = [0x80, 2, ...glob('torch.storage', '_load_from_bytes'), 0x2e];
    expect(errorOf(legacy(fromBytes))).toMatch(/^x\.pth: unsupported global torch\.storage\._load_from_bytes at byte \d+ of object pickle \(a storage pickled by pickle, not torch\.save\)$/);
  });

  it('unsupported storage type', () => {
    expect(errorOf(legacy(tensorPickle(2, [2], 'ComplexFloatStorage'), ['0'], block(2, 16)))).toBe(
      'x.pth: unsupported storage type torch.ComplexFloatStorage',
    );
  });

  it('legacy: truncated storage, tensor beyond its storage, truncated pickle', () => {
    expect(errorOf(legacy(tensorPickle(2, [2]), ['0'], block(2, 4)))).toBe("x.pth: storage '0' is truncated: 4 bytes for 2 float32 values");
    expect(errorOf(legacy(tensorPickle(2, [3]), ['0'], block(2, 8)))).toBe(
      "x.pth: tensor of shape [3] on storage '0': offset 0 and stride [1] reach element 2, beyond the storage's 2 float32 values",
    );
    const ok = legacyFixture();
    expect(errorOf(ok.subarray(0, ok.length - 10))).toMatch(/^x\.pth: storage '\w+' is truncated: \d+ bytes for \d+ \w+ values$/);
    expect(errorOf(ok.subarray(0, 300))).toMatch(/^x\.pth: truncated pickle \(\w+ needs \d+ more bytes\) at byte \d+ of object pickle$|^x\.pth: truncated pickle \(no STOP opcode\)/);
  });

  it('stateDictOf without a state dict names the source', () => {
    expect(() => stateDictOf(new PyDict([['epoch', 1]]), 'ckpt.pth')).toThrow(/^ckpt\.pth: no state dict found \(expected a dict of tensors or a 'state_dict' entry; top-level keys: epoch\)$/);
  });

  it('readPthFile names a missing file', async () => {
    await expect(readPthFile('/nonexistent/model.pth')).rejects.toThrow('/nonexistent/model.pth: cannot read the file (ENOENT)');
  });
});

/** Offset of the data.pkl bytes in a writePth file (the first entry, data at the first 64-byte boundary past its header). */
function pickleOffset(bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return 30 + v.getUint16(26, true) + v.getUint16(28, true);
}

describe('damaged files never escape as anything but a one-line PthError', () => {
  for (const [name, original] of [['container_zip.pth', zipFixture()], ['container_legacy.pth', legacyFixture()], ['protocol4.pth', new Uint8Array(readFileSync(new URL('protocol4.pth', dir)))]] as const) {
    it(`${name}: every truncation, and 400 seeded byte flips`, () => {
      const check = (bytes: Uint8Array): void => {
        try {
          const sd = readPth(bytes, { source: 'd.pth' });
          // A flip inside storage data or a string may still read: converting must not throw either.
          try {
            for (const t of stateDictOf(sd).values()) t.toFloat32();
          } catch (e) {
            expect(e).toBeInstanceOf(PthError);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(PthError);
          expect((e as Error).message).toMatch(/^d\.pth: [^\n]+$/);
        }
      };
      for (let len = 0; len < original.length; len += 7) check(original.slice(0, len));
      let seed = 12345;
      const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let i = 0; i < 400; i++) {
        const bytes = original.slice();
        bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
        check(bytes);
      }
    });
  }
});
