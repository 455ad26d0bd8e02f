/**
 * A deterministic fault-injecting {@link FileSystem} for tests: it counts the operations that
 * change the disk and fails the n-th one the way a killed process, a full disk or a permission
 * error would. No timing is involved, so every point of a write protocol can be tested in turn.
 */
import * as nodeFs from 'node:fs';
import type { FileSystem } from './files.js';

/** Operations of a {@link FileSystem} that change the disk (the "write points"). */
export type MutatingOp = 'mkdirSync' | 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'rmSync';

/**
 * How the chosen operation fails:
 * - `kill`: the process dies there. A write is torn (half of its bytes reach the file); that
 *   operation and every later one throw {@link SimulatedKill}, so no clean-up runs.
 * - `ENOSPC`: the disk is full from there on: a write stores half of its bytes and returns a
 *   short count, and every later write, folder or file creation fails with `ENOSPC`; renames,
 *   closes and removals still work, as on a real full disk.
 * - `EACCES`, `EROFS`, `EPERM`: that one operation fails with the code (permission or read-only
 *   mount at that path); the others work.
 */
export type FaultKind = 'kill' | 'ENOSPC' | 'EACCES' | 'EROFS' | 'EPERM';

/** Options of {@link FaultyFileSystem}. */
export interface FaultOptions {
  /** 1-based index of the mutating operation that fails; 0 or absent: none (recording only). */
  at?: number;
  /** How it fails. Default `kill`. */
  fault?: FaultKind;
  /** Only paths for which this returns true count and fail (e.g. one output folder). Default: all. */
  scope?: (p: string) => boolean;
  /** Paths on a read-only mount: every change under them fails with `EROFS`, as does `accessSync(p, W_OK)`. Not counted. */
  readOnly?: (p: string) => boolean;
  /** Paths that cannot be read (opening, reading or `accessSync` them fails with `EACCES`), as for a file without read permission. */
  unreadable?: (p: string) => boolean;
  /** Called before each counted operation with its index, name, path and (for writes) the bytes. */
  onOp?: (index: number, op: MutatingOp, p: string, data?: Uint8Array) => void;
}

/** The error a {@link FaultyFileSystem} throws once it has "killed" the process. */
export class SimulatedKill extends Error {
  /** Always `EKILLED`. */
  readonly code = 'EKILLED';
  constructor(message: string) {
    super(message);
    this.name = 'SimulatedKill';
  }
}

const MESSAGES: Record<Exclude<FaultKind, 'kill'>, string> = {
  ENOSPC: 'no space left on device',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  EPERM: 'operation not permitted',
};

function sysError(code: Exclude<FaultKind, 'kill'>, syscall: string, p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${MESSAGES[code]}, ${syscall} '${p}'`), { code, syscall, path: p, errno: -1 });
}

/**
 * `node:fs` with one injected fault. `ops` lists every counted operation (index, name, path), so a
 * first run without a fault tells a test how many write points a protocol has.
 *
 * @example
 * ```ts
 * const probe = new FaultyFileSystem();
 * writeFileAtomic('out/a.bin', bytes, { fs: probe });
 * for (let at = 1; at <= probe.ops.length; at++) {
 *   const fs = new FaultyFileSystem({ at, fault: 'ENOSPC' });
 *   expect(() => writeFileAtomic('out/a.bin', bytes, { fs })).toThrow(/out\/a\.bin/);
 * }
 * ```
 */
export class FaultyFileSystem implements FileSystem {
  /** Counted operations so far. */
  readonly ops: Array<{ index: number; op: MutatingOp; path: string }> = [];
  /** Whether the simulated kill has happened. */
  killed = false;
  /** Whether the injected fault has fired. */
  fired = false;
  private full = false;
  private readonly fds = new Map<number, string>();
  private readonly readFds = new Set<number>();
  private readonly o: Required<Omit<FaultOptions, 'onOp'>> & Pick<FaultOptions, 'onOp'>;

  constructor(options: FaultOptions = {}) {
    this.o = { at: 0, fault: 'kill', scope: () => true, unreadable: () => false, readOnly: () => false, ...options };
  }

  private readable(op: string, p: string): void {
    this.alive();
    if (this.o.unreadable(p)) throw sysError('EACCES', op, p);
  }

  private alive(): void {
    if (this.killed) throw new SimulatedKill('simulated kill: the process is dead');
  }

  /** Counts an operation; returns true when it is the one to fail. */
  private hit(op: MutatingOp, p: string, data?: Uint8Array): boolean {
    this.alive();
    for (const q of p.split(' -> ')) if (this.o.readOnly(q) && !(op === 'mkdirSync' && nodeFs.existsSync(q))) throw sysError('EROFS', op.replace(/Sync$/, ''), q);
    if (!this.o.scope(p)) return false;
    const index = this.ops.length + 1;
    this.ops.push({ index, op, path: p });
    this.o.onOp?.(index, op, p, data);
    if (index === this.o.at) {
      this.fired = true;
      return true;
    }
    return false;
  }

  private fail(op: MutatingOp, p: string): never {
    if (this.o.fault === 'kill') {
      this.killed = true;
      throw new SimulatedKill(`simulated kill at operation ${this.ops.length} (${op} ${p})`);
    }
    if (this.o.fault === 'ENOSPC') this.full = true;
    throw sysError(this.o.fault, op.replace(/Sync$/, ''), p);
  }

  private noSpace(op: string, p: string): void {
    if (this.full && this.o.scope(p)) throw sysError('ENOSPC', op, p);
  }

  /** Passes through (a read). */
  existsSync(p: string): boolean {
    this.alive();
    return nodeFs.existsSync(p);
  }
  /** Passes through (a read). */
  statSync(p: string): nodeFs.Stats {
    this.alive();
    return nodeFs.statSync(p);
  }
  /** Passes through (a read). */
  lstatSync(p: string): nodeFs.Stats {
    this.alive();
    return nodeFs.lstatSync(p);
  }
  /** Passes through (a read). */
  realpathSync(p: string): string {
    this.alive();
    return nodeFs.realpathSync(p);
  }
  /** A read; `EACCES` for an `unreadable` path. */
  readdirSync(p: string): string[] {
    this.readable('scandir', p);
    return nodeFs.readdirSync(p);
  }
  /** A read; `EACCES` for an `unreadable` path. */
  readFileSync(p: string): Buffer {
    this.readable('open', p);
    return nodeFs.readFileSync(p);
  }
  /** `EACCES` for an `unreadable` path (read access), `EROFS` for a `readOnly` one (write access). */
  accessSync(p: string, mode?: number): void {
    if (mode === undefined || mode & nodeFs.constants.R_OK) this.readable('access', p);
    else this.alive();
    if (mode !== undefined && mode & nodeFs.constants.W_OK && this.o.readOnly(p)) throw sysError('EROFS', 'access', p);
    nodeFs.accessSync(p, mode);
  }
  /** A write point. */
  mkdirSync(p: string, options?: { recursive?: boolean }): string | undefined {
    if (this.hit('mkdirSync', p)) this.fail('mkdirSync', p);
    this.noSpace('mkdir', p);
    return nodeFs.mkdirSync(p, options);
  }
  /** A write point when opening for writing; otherwise a read. */
  openSync(p: string, flags: string): number {
    const writes = flags !== 'r';
    if (writes && this.hit('openSync', p)) this.fail('openSync', p);
    if (!writes) this.readable('open', p);
    if (writes && !nodeFs.existsSync(p)) this.noSpace('open', p);
    const fd = nodeFs.openSync(p, flags);
    this.fds.set(fd, p);
    if (writes) this.readFds.delete(fd);
    else this.readFds.add(fd);
    return fd;
  }
  /** A write point; a failing write stores half of its bytes first. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
    const p = this.fds.get(fd) ?? `fd ${fd}`;
    const data = buffer.subarray(offset, offset + length);
    if (this.hit('writeSync', p, data)) {
      const half = Math.floor(length / 2);
      if (half > 0) nodeFs.writeSync(fd, buffer, offset, half);
      if (this.o.fault === 'ENOSPC') {
        this.fired = true;
        this.full = true;
        return half;
      }
      this.fail('writeSync', p);
    }
    this.noSpace('write', p);
    return nodeFs.writeSync(fd, buffer, offset, length);
  }
  /** A write point (for files opened for writing and for folders). */
  fsyncSync(fd: number): void {
    const p = this.fds.get(fd) ?? `fd ${fd}`;
    if (this.readFds.has(fd) && !p.endsWith('/') && !this.isDir(p)) {
      this.alive();
      return nodeFs.fsyncSync(fd);
    }
    if (this.hit('fsyncSync', p)) this.fail('fsyncSync', p);
    nodeFs.fsyncSync(fd);
  }
  /** Passes through (a read). */
  fstatSync(fd: number): nodeFs.Stats {
    this.alive();
    return nodeFs.fstatSync(fd);
  }
  /** A write point for files opened for writing and for folders. */
  closeSync(fd: number): void {
    const p = this.fds.get(fd) ?? `fd ${fd}`;
    if (this.readFds.has(fd) && !this.isDir(p)) {
      // Closing a file opened for reading changes nothing on disk: not a write point.
      this.alive();
      this.fds.delete(fd);
      this.readFds.delete(fd);
      return nodeFs.closeSync(fd);
    }
    if (this.hit('closeSync', p)) {
      if (this.o.fault !== 'kill') nodeFs.closeSync(fd); // the descriptor is released even when close reports an error
      this.fds.delete(fd);
      this.fail('closeSync', p);
    }
    this.fds.delete(fd);
    nodeFs.closeSync(fd);
  }
  private isDir(p: string): boolean {
    try {
      return nodeFs.statSync(p).isDirectory();
    } catch {
      return false;
    }
  }
  /** A write point. */
  renameSync(from: string, to: string): void {
    if (this.hit('renameSync', `${from} -> ${to}`)) this.fail('renameSync', from);
    nodeFs.renameSync(from, to);
  }
  /** A write point. */
  rmSync(p: string, options?: { recursive?: boolean; force?: boolean }): void {
    if (this.hit('rmSync', p)) this.fail('rmSync', p);
    nodeFs.rmSync(p, options);
  }
}
