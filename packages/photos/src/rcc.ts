/**
 * A small reader for Qt binary resource bundles (`.rcc`, produced by `rcc -binary`).
 *
 * Layout (all integers big-endian): header `qres`, version (u32), tree offset, data offset,
 * names offset (u32 each) and, from version 3, a u32 of overall flags. The tree is an array of
 * nodes, 14 bytes each (version 1) or 22 (version ≥ 2, with a u64 modification time):
 * name offset (u32), flags (u16: 1 = zlib-compressed, 2 = directory, 4 = zstd-compressed), then
 * for a directory child count (u32) and index of the first child (u32), for a file country (u16),
 * language (u16) and data offset (u32). Node 0 is the root. A name is u16 length, u32 hash, then
 * UTF-16BE characters; a payload is u32 size then the bytes. zlib payloads (qCompress format)
 * start with the u32 uncompressed length, then a zlib stream.
 */
import { inflateSync } from 'node:zlib';

/** One file inside an `.rcc` bundle. */
export interface RccEntry {
  /** Path inside the bundle, `/`-separated, without a leading slash (e.g. `gcompris/src/...`). */
  path: string;
  /** How the payload is stored. */
  compression: 'none' | 'zlib' | 'zstd';
  /** Stored size in bytes (after the u32 size field). */
  storedSize: number;
  /** Reads the file's bytes, decompressing zlib payloads. Throws for zstd (not supported). */
  read(): Buffer;
}

const FLAG_COMPRESSED = 1;
const FLAG_DIRECTORY = 2;
const FLAG_COMPRESSED_ZSTD = 4;

/**
 * Lists the files of an `.rcc` bundle. Throws a one-line `readRcc: <what>: <reason>` error for
 * anything that is not a well-formed bundle.
 *
 * @param buf the bundle's bytes.
 * @param what name used in errors (e.g. the file path).
 */
export function readRcc(buf: Uint8Array, what = 'buffer'): RccEntry[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (reason: string): never => {
    throw new Error(`readRcc: ${what}: ${reason}`);
  };
  if (b.length < 20 || b.toString('latin1', 0, 4) !== 'qres') fail('not a Qt resource bundle (missing "qres" magic)');
  const version = b.readUInt32BE(4);
  if (version < 1 || version > 3) fail(`unsupported rcc version ${version} (supported: 1, 2, 3)`);
  const tree = b.readUInt32BE(8);
  const data = b.readUInt32BE(12);
  const names = b.readUInt32BE(16);
  for (const [k, v] of [['tree', tree], ['data', data], ['names', names]] as const) {
    if (v > b.length) fail(`${k} offset ${v} beyond end of file (${b.length} bytes)`);
  }
  const nodeSize = version >= 2 ? 22 : 14;
  const check = (off: number, len: number, ctx: string): void => {
    if (off < 0 || off + len > b.length) fail(`truncated ${ctx} at offset ${off}`);
  };
  const nameAt = (off: number): string => {
    const p = names + off;
    check(p, 6, 'name');
    const len = b.readUInt16BE(p);
    check(p + 6, 2 * len, 'name');
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(b.readUInt16BE(p + 6 + 2 * i));
    return s;
  };
  const out: RccEntry[] = [];
  const visiting = new Set<number>();
  const walk = (index: number, prefix: string): void => {
    if (visiting.has(index)) fail(`cycle in the resource tree at node ${index}`);
    visiting.add(index);
    const p = tree + index * nodeSize;
    check(p, nodeSize, 'tree node');
    const flags = b.readUInt16BE(p + 4);
    const name = index === 0 ? '' : nameAt(b.readUInt32BE(p));
    const full = prefix === '' ? name : `${prefix}/${name}`;
    if (flags & FLAG_DIRECTORY) {
      const count = b.readUInt32BE(p + 6);
      const first = b.readUInt32BE(p + 10);
      for (let i = 0; i < count; i++) walk(first + i, full);
      return;
    }
    const dataOff = data + b.readUInt32BE(p + 10);
    check(dataOff, 4, 'payload size');
    const size = b.readUInt32BE(dataOff);
    check(dataOff + 4, size, `payload of ${full}`);
    const compression = flags & FLAG_COMPRESSED_ZSTD ? 'zstd' : flags & FLAG_COMPRESSED ? 'zlib' : 'none';
    const start = dataOff + 4;
    out.push({
      path: full,
      compression,
      storedSize: size,
      read: () => {
        const raw = b.subarray(start, start + size);
        if (compression === 'none') return Buffer.from(raw);
        if (compression === 'zstd') return fail(`${full}: zstd-compressed payload (rcc --compress-algo zstd) is not supported; unpack it with Qt's rcc`);
        if (size < 4) fail(`${full}: zlib payload shorter than its length field`);
        const expected = raw.readUInt32BE(0);
        let inflated: Buffer;
        try {
          inflated = inflateSync(raw.subarray(4));
        } catch (e) {
          return fail(`${full}: corrupt zlib payload (${(e as Error).message})`);
        }
        if (inflated.length !== expected) fail(`${full}: inflated to ${inflated.length} bytes, header says ${expected}`);
        return inflated;
      },
    });
  };
  walk(0, '');
  return out;
}
