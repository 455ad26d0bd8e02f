// A read-only view of a zip archive held in memory: End-Of-Central-Directory (ZIP64 included),
// the central directory, and each entry's data as a subarray of the archive (never a copy).
import { PthError } from '../py.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored; anything else is compressed. */
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

const utf8 = new TextDecoder('utf-8');

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readCentralDirectory();
  }

  private fail(what: string): never {
    throw new PthError(this.source, what);
  }

  private u16(at: number): number {
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    return this.view.getUint32(at, true);
  }

  /** An unsigned 64-bit field as a number (error beyond 2^53, which no in-memory file reaches). */
  private u64(at: number, what: string): number {
    const v = this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 2 ** 32;
    if (!Number.isSafeInteger(v)) this.fail(`zip ${what} ${v} is too large`);
    return v;
  }

  private readCentralDirectory(): void {
    const n = this.bytes.length;
    // The EOCD record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
    let eocd = -1;
    for (let at = n - 22; at >= Math.max(0, n - 22 - 65535); at--) {
      if (this.u32(at) === SIG_EOCD && at + 22 + this.u16(at + 20) <= n) {
        eocd = at;
        break;
      }
    }
    if (eocd < 0) this.fail('truncated or damaged zip archive (no end-of-central-directory record)');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    // ZIP64: a locator just before the EOCD points at the ZIP64 EOCD record with 64-bit fields.
    // PyTorch's writer always emits one; the 16/32-bit fields are then either real or 0xFFFF….
    const loc = eocd - 20;
    if (loc >= 0 && this.u32(loc) === SIG_ZIP64_LOCATOR) {
      const rec = this.u64(loc + 8, 'ZIP64 record offset');
      if (rec + 56 > n || this.u32(rec) !== SIG_ZIP64_EOCD) this.fail('damaged zip archive (bad ZIP64 end-of-central-directory record)');
      count = this.u64(rec + 32, 'entry count');
      cdSize = this.u64(rec + 40, 'central directory size');
      cdOffset = this.u64(rec + 48, 'central directory offset');
    } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      this.fail('damaged zip archive (ZIP64 fields without a ZIP64 locator)');
    }
    if (cdOffset + cdSize > n) this.fail(`truncated zip archive (central directory at ${cdOffset}+${cdSize} beyond ${n} bytes)`);
    let at = cdOffset;
    for (let i = 0; i < count; i++) {
      if (at + 46 > n || this.u32(at) !== SIG_CENTRAL) this.fail(`damaged zip archive (central directory entry ${i} at byte ${at})`);
      const flags = this.u16(at + 8);
      const method = this.u16(at + 10);
      let compressedSize = this.u32(at + 20);
      let size = this.u32(at + 24);
      const nameLen = this.u16(at + 28);
      const extraLen = this.u16(at + 30);
      const commentLen = this.u16(at + 32);
      let localHeaderOffset = this.u32(at + 42);
      const end = at + 46 + nameLen + extraLen + commentLen;
      if (end > n) this.fail(`damaged zip archive (central directory entry ${i} runs past the end)`);
      const name = utf8.decode(this.bytes.subarray(at + 46, at + 46 + nameLen));
      // ZIP64 extended information (0x0001): only the fields whose 32-bit value is 0xFFFFFFFF, in order.
      let x = at + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = this.u16(x);
        const len = this.u16(x + 2);
        if (id === 0x0001) {
          let f = x + 4;
          if (size === 0xffffffff) {
            size = this.u64(f, 'entry size');
            f += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(f, 'entry size');
            f += 8;
          }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = this.u64(f, 'entry offset');
        }
        x += 4 + len;
      }
      this.entries.set(name, { name, method, flags, compressedSize, size, localHeaderOffset });
      at = end;
    }
  }

  /** The entry's bytes, a view into the archive. Errors for compressed, encrypted or truncated entries. */
  data(entry: ZipEntry): Uint8Array {
    if (entry.flags & 1) this.fail(`zip entry '${entry.name}' is encrypted`);
    if (entry.method !== 0) {
      this.fail(`zip entry '${entry.name}' is compressed (method ${entry.method}); torch.save stores entries uncompressed — re-save the checkpoint with torch.save`);
    }
    const h = entry.localHeaderOffset;
    if (h + 30 > this.bytes.length || this.u32(h) !== SIG_LOCAL) this.fail(`damaged zip archive (no local header for '${entry.name}' at byte ${h})`);
    // The local extra field may differ from the central one (torch pads it to align data to 64 bytes).
    const start = h + 30 + this.u16(h + 26) + this.u16(h + 28);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) {
      this.fail(`zip entry '${entry.name}' is truncated: ${entry.compressedSize} bytes announced, ${Math.max(0, this.bytes.length - start)} present`);
    }
    return this.bytes.subarray(start, end);
  }
}
