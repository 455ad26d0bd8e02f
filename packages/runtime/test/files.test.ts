// Atomic writes under injected faults (short writes, full disk, permission errors, kills), the
// writability check and the loop-safe folder listing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendLine, ensureWritableDir, FaultyFileSystem, listFilesRecursive, nodeFileSystem, removeStaleTemps, writeFileAtomic, type FaultKind, type FileSystem } from '../src/node.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-files-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = path.join(root, `t${n++}`);
  fs.mkdirSync(d);
  return d;
};

/** A file system whose writes store at most `chunk` bytes per call (0: none, as a full disk may report). */
function shortWrites(chunk: number): FileSystem {
  return { ...nodeFileSystem, writeSync: (fd, b, off, len) => fs.writeSync(fd, b, off, Math.min(chunk, len)) } as FileSystem;
}

describe('writeFileAtomic', () => {
  const data = Buffer.from('0123456789'.repeat(100));

  it('completes a file written in short pieces (7 bytes per write call)', () => {
    const f = path.join(fresh(), 'a.bin');
    writeFileAtomic(f, data, { fs: shortWrites(7) });
    expect(fs.readFileSync(f).equals(data)).toBe(true);
  });

  it('a write that stores nothing is a one-line ENOSPC error naming the file; no file, no temporary file', () => {
    const d = fresh();
    const f = path.join(d, 'a.png');
    expect(() => writeFileAtomic(f, data, { fs: shortWrites(0) })).toThrow(new RegExp(`^cannot write ${f.replace(/[/.]/g, '\\$&')}: ENOSPC: short write \\(0 of 1000 bytes written\\)$`));
    expect(fs.readdirSync(d)).toEqual([]);
  });

  const probe = new FaultyFileSystem();
  writeFileAtomic(path.join(fresh(), 'probe.bin'), data, { fs: probe });
  const points = probe.ops.length; // mkdir, open, write, fsync, close, rename

  for (const fault of ['ENOSPC', 'EACCES', 'EROFS'] as FaultKind[]) {
    it(`${fault} at each of its ${points} write points: one line naming the file, the old content kept, no temporary file`, () => {
      for (let at = 1; at <= points; at++) {
        const d = fresh();
        const f = path.join(d, 'out.png');
        fs.writeFileSync(f, 'old');
        const ffs = new FaultyFileSystem({ at, fault });
        let err: Error | null = null;
        try {
          writeFileAtomic(f, data, { fs: ffs });
        } catch (e) {
          err = e as Error;
        }
        expect(ffs.fired, `fault ${fault} at ${at}`).toBe(true);
        expect(err, `fault ${fault} at ${at} (${ffs.ops[at - 1]!.op})`).not.toBeNull();
        expect(err!.message.split('\n')).toHaveLength(1);
        expect(err!.message).toContain(ffs.ops[at - 1]!.op === 'mkdirSync' ? `cannot create folder ${d}` : `cannot write ${f}`);
        expect(err!.message).toContain(fault);
        expect((err as { code?: string }).code).toBe(fault);
        expect(fs.readFileSync(f, 'utf8')).toBe('old');
        expect(fs.readdirSync(d)).toEqual(['out.png']);
      }
    });
  }

  it(`a kill at each of its ${points} write points leaves the old or the new content, never a partial file`, () => {
    for (let at = 1; at <= points; at++) {
      const d = fresh();
      const f = path.join(d, 'out.png');
      fs.writeFileSync(f, 'old');
      const ffs = new FaultyFileSystem({ at, fault: 'kill' });
      expect(() => writeFileAtomic(f, data, { fs: ffs })).toThrow();
      expect(ffs.killed).toBe(true);
      const got = fs.readFileSync(f);
      expect(got.toString() === 'old' || got.equals(data)).toBe(true);
      removeStaleTemps(d); // what the next run does first
      expect(fs.readdirSync(d)).toEqual(['out.png']);
    }
  });

  it('appendLine retries short writes and reports a stalled one', () => {
    const d = fresh();
    const f = path.join(d, 'log.jsonl');
    appendLine(f, '{"a":1}', { fs: shortWrites(3) });
    appendLine(f, '{"a":2}');
    expect(fs.readFileSync(f, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(() => appendLine(f, 'x', { fs: shortWrites(0) })).toThrow(/^cannot write .*log\.jsonl: ENOSPC: short write/);
  });
});

describe('ensureWritableDir', () => {
  it('creates the folder and probes it, leaving nothing behind', () => {
    const d = path.join(fresh(), 'a', 'b');
    ensureWritableDir(d, '-o');
    expect(fs.readdirSync(d)).toEqual([]);
  });
  it('names the folder and the reason when it cannot be created or written', () => {
    const base = fresh();
    const d = path.join(base, 'out');
    expect(() => ensureWritableDir(d, '-o', new FaultyFileSystem({ at: 1, fault: 'EROFS' }))).toThrow(`-o: cannot create '${d}': EROFS: read-only file system`);
    fs.mkdirSync(d);
    expect(() => ensureWritableDir(d, '-o', new FaultyFileSystem({ at: 2, fault: 'EACCES' }))).toThrow(`-o: folder '${d}' is not writable: EACCES: permission denied`);
    fs.writeFileSync(path.join(base, 'file'), '');
    expect(() => ensureWritableDir(path.join(base, 'file'), '-o')).toThrow(/exists and is not a folder/);
    expect(() => ensureWritableDir(path.join(base, 'file', 'sub'), '-o')).toThrow(/is not a folder/);
    expect(fs.readdirSync(d)).toEqual([]);
  });
});

describe('listFilesRecursive', () => {
  it('follows links but enters each real folder once (a link loop lists each file once)', () => {
    const d = fresh();
    fs.mkdirSync(path.join(d, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(d, 'a', 'x.png'), '');
    fs.writeFileSync(path.join(d, 'a', 'b', 'y.png'), '');
    fs.symlinkSync(path.join(d, 'a'), path.join(d, 'a', 'b', 'loop'));
    fs.symlinkSync(path.join(d, 'a', 'x.png'), path.join(d, 'link.png'));
    fs.symlinkSync(path.join(d, 'nowhere'), path.join(d, 'dangling.png'));
    const files = listFilesRecursive(d, { filter: (f) => f.endsWith('.png') });
    expect(files.map((f) => path.relative(d, f))).toEqual(['a/b/y.png', 'a/x.png', 'link.png']);
    expect(listFilesRecursive(d, { exclude: [path.join(d, 'a', 'b')] }).map((f) => path.relative(d, f))).toEqual(['a/x.png', 'link.png']);
  });

  it('an unreadable sub-folder is an error naming it, not a silent skip (issue 27 #6)', () => {
    const d = fresh();
    fs.mkdirSync(path.join(d, 'ok'));
    fs.mkdirSync(path.join(d, 'locked'));
    fs.writeFileSync(path.join(d, 'ok', 'x.png'), '');
    fs.writeFileSync(path.join(d, 'locked', 'y.png'), '');
    const locked = new FaultyFileSystem({ unreadable: (p) => p === path.join(d, 'locked') });
    expect(() => listFilesRecursive(d, { fs: locked })).toThrow(new RegExp(`^cannot list the folder "${path.join(d, 'locked')}": EACCES: permission denied; its images would be left out`));
    expect(listFilesRecursive(d, { fs: locked, exclude: [path.join(d, 'locked')] }).map((f) => path.relative(d, f))).toEqual(['ok/x.png']);
  });
});
