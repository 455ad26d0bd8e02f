/**
 * File writes that never leave a half-written file under its final name, with errors of one line
 * that name the path, and a file-system layer that tests replace to inject faults.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import * as path from 'node:path';

/**
 * The synchronous `node:fs` calls DISCO's writers and readers make. `node:fs` itself is one
 * ({@link nodeFileSystem}); tests pass a {@link FaultyFileSystem} to inject kills, full disks and
 * permission errors at chosen operations.
 */
export interface FileSystem {
  /** `fs.existsSync`. */
  existsSync(p: string): boolean;
  /** `fs.statSync` (follows links). */
  statSync(p: string): nodeFs.Stats;
  /** `fs.lstatSync` (does not follow links). */
  lstatSync(p: string): nodeFs.Stats;
  /** `fs.realpathSync`. */
  realpathSync(p: string): string;
  /** `fs.readdirSync` (names only). */
  readdirSync(p: string): string[];
  /** `fs.readFileSync` (bytes). */
  readFileSync(p: string): Buffer;
  /** `fs.accessSync`. */
  accessSync(p: string, mode?: number): void;
  /** `fs.mkdirSync`. */
  mkdirSync(p: string, options?: { recursive?: boolean }): string | undefined;
  /** `fs.openSync`. */
  openSync(p: string, flags: string): number;
  /** `fs.writeSync` of a byte range; returns the bytes written (may be fewer than asked). */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** `fs.fsyncSync`. */
  fsyncSync(fd: number): void;
  /** `fs.fstatSync`. */
  fstatSync(fd: number): nodeFs.Stats;
  /** `fs.closeSync`. */
  closeSync(fd: number): void;
  /** `fs.renameSync`. */
  renameSync(from: string, to: string): void;
  /** `fs.rmSync`. */
  rmSync(p: string, options?: { recursive?: boolean; force?: boolean }): void;
}

/** The real file system (`node:fs`). */
export const nodeFileSystem: FileSystem = nodeFs;

/** An error of a file operation: one line, naming the path; `code` is the system error code (`ENOSPC`, `EACCES`, …) when there is one. */
export class FileWriteError extends Error {
  /** The system error code, e.g. `ENOSPC`, or `undefined`. */
  readonly code: string | undefined;
  /** The path the operation was about. */
  readonly path: string;
  /** Why it failed, e.g. `ENOSPC: no space left on device` (the message without the path). */
  readonly reason: string;
  constructor(message: string, file: string, code?: string, reason?: string) {
    super(message);
    this.name = 'FileWriteError';
    this.path = file;
    this.code = code;
    this.reason = reason ?? message;
  }
}

/** `ENOSPC: no space left on device` from a Node system error (drops the syscall and path Node appends). */
export function describeFsError(e: unknown): string {
  if (e instanceof FileWriteError) return e.reason;
  const err = e as NodeJS.ErrnoException;
  const first = String(err?.message ?? e).split('\n')[0]!.trim();
  if (err?.code && first.startsWith(`${err.code}:`)) return first.replace(/, [a-z_]+( '.*')?$/, '');
  return first;
}

function errorCode(e: unknown): string | undefined {
  const c = (e as NodeJS.ErrnoException)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Wraps an error as a one-line {@link FileWriteError} `<what> <file>: <reason>`; an error that already is one passes through. */
export function fileError(what: string, file: string, e: unknown): FileWriteError {
  const reason = describeFsError(e);
  return new FileWriteError(`${what} ${file}: ${reason}`, file, errorCode(e), reason);
}

/**
 * A path as messages and one-line records show it: as is, or JSON-quoted when it holds a control
 * character (a newline in a file name would otherwise cut the line) or a quote.
 *
 * @example
 * ```ts
 * showPath('a.png');    // a.png
 * showPath('a\nb.png'); // "a\nb.png"
 * ```
 */
export function showPath(p: string): string {
  return /[\u0000-\u001f\u007f"]/.test(p) ? JSON.stringify(p) : p;
}

/** Codes of errors meaning "this folder cannot take more files" (full, read-only, not permitted). */
export const UNWRITABLE_CODES: readonly string[] = Object.freeze(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM']);

/**
 * The name of a temporary sibling of `file`: `.<name>.<pid>.<8 hex>.tmp` (or `.old`). Every
 * temporary file and folder DISCO writes has this form, so {@link removeStaleTemps} can find the
 * ones a killed process left behind.
 */
export function tempSibling(file: string, suffix: 'tmp' | 'old' = 'tmp'): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.${suffix}`);
}

const TEMP_RE = /^\.(.+)\.(\d+)\.([0-9a-f]{8})\.(tmp|old)$/;

/** Parses a {@link tempSibling} name: the target's name and the writer's pid, or `null`. */
export function parseTempName(name: string): { target: string; pid: number; kind: 'tmp' | 'old' } | null {
  const m = TEMP_RE.exec(name);
  return m ? { target: m[1]!, pid: Number(m[2]), kind: m[4] as 'tmp' | 'old' } : null;
}

/** Whether a process with this id is running on this machine. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}

/**
 * Removes the temporary files and folders ({@link tempSibling} names) in `dir` that belong to
 * processes no longer running. Returns the removed paths. Never throws for a folder that cannot be
 * listed or an entry that cannot be removed (it is reported again next time).
 */
export function removeStaleTemps(dir: string, fs: FileSystem = nodeFileSystem): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const t = parseTempName(name);
    if (!t || (t.pid !== process.pid && processAlive(t.pid))) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      removed.push(path.join(dir, name));
    } catch {
      // left for the next run
    }
  }
  return removed;
}

/**
 * Writes all of `data` at the file position of `fd`, looping over short writes; a write that
 * makes no progress is reported as `ENOSPC` (a full disk often shows first as a short write).
 */
export function writeAll(fs: FileSystem, fd: number, data: Uint8Array, file: string): void {
  let off = 0;
  while (off < data.length) {
    const n = fs.writeSync(fd, data, off, data.length - off);
    if (!(n > 0)) throw new FileWriteError(`ENOSPC: short write (${off} of ${data.length} bytes written)`, file, 'ENOSPC');
    off += n;
  }
}

const toBytes = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/** Options of {@link writeFileAtomic}. */
export interface WriteFileOptions {
  /** File-system layer. Default {@link nodeFileSystem}. */
  fs?: FileSystem;
}

/** Creates `file` (which must not exist), writes every byte, checks the size on disk, flushes and closes; raw errors, partial file removed. */
function createDurable(fs: FileSystem, file: string, bytes: Uint8Array): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'wx');
    writeAll(fs, fd, bytes, file);
    fs.fsyncSync(fd);
    const size = fs.fstatSync(fd).size;
    if (size !== bytes.length) throw new FileWriteError(`ENOSPC: ${size} of ${bytes.length} bytes on disk`, file, 'ENOSPC');
    const f = fd;
    fd = undefined;
    fs.closeSync(f);
  } catch (e) {
    if (fd !== undefined) ignore(() => fs.closeSync(fd!));
    ignore(() => fs.rmSync(file, { force: true }));
    throw e;
  }
}

/**
 * Writes `data` to a new file `file` (which must not exist yet), checks that every byte arrived
 * (short writes are retried, then reported), flushes it to disk and closes it. On failure the
 * partial file is removed and a one-line {@link FileWriteError} naming `file` is thrown.
 */
export function writeFileDurable(file: string, data: string | Uint8Array, options: WriteFileOptions = {}): void {
  try {
    createDurable(options.fs ?? nodeFileSystem, file, toBytes(data));
  } catch (e) {
    throw fileError('cannot write', file, e);
  }
}

function ignore(f: () => void): void {
  try {
    f();
  } catch {
    // best effort
  }
}

/** Flushes a folder's entries (renames into it) to disk where the platform allows. */
export function fsyncDir(dir: string, fs: FileSystem = nodeFileSystem): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    // Some platforms cannot open or flush folders; the data itself was flushed before the rename.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES'].includes(errorCode(e) ?? '')) throw e;
  } finally {
    if (fd !== undefined) ignore(() => fs.closeSync(fd!));
  }
}

/**
 * Writes a file so that readers never see it half-written: write to a temporary name in the same
 * folder ({@link tempSibling}), check the byte count, flush, then rename over the target. A short
 * write (full disk) or any other failure removes the temporary file, leaves an existing target as
 * it was, and throws a one-line {@link FileWriteError} naming `file`.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: WriteFileOptions = {}): void {
  const fs = options.fs ?? nodeFileSystem;
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fileError('cannot create folder', dir, e);
  }
  const tmp = tempSibling(file);
  try {
    createDurable(fs, tmp, toBytes(data));
    fs.renameSync(tmp, file);
  } catch (e) {
    ignore(() => fs.rmSync(tmp, { force: true }));
    throw fileError('cannot write', file, e);
  }
}

/** {@link writeFileAtomic} of pretty-printed JSON with a trailing newline. */
export function writeJsonAtomic(file: string, value: unknown, options: WriteFileOptions = {}): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, options);
}

/**
 * Appends one line (a newline is added) to `file`, checking that every byte arrived. A kill can
 * leave the last line incomplete; readers of such logs skip a last line that does not parse.
 */
export function appendLine(file: string, line: string, options: WriteFileOptions = {}): void {
  const fs = options.fs ?? nodeFileSystem;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'a');
    writeAll(fs, fd, Buffer.from(`${line}\n`, 'utf8'), file);
    const f = fd;
    fd = undefined;
    fs.closeSync(f);
  } catch (e) {
    if (fd !== undefined) ignore(() => fs.closeSync(fd!));
    throw fileError('cannot write', file, e);
  }
}

/**
 * Makes sure `dir` exists and a file can be created in it, before any work is done. Throws one
 * line naming the folder and the reason; for a folder that cannot be created it names the nearest
 * existing parent and why it refuses (a read-only parent is reported as such, not as `ENOENT`).
 */
export function ensureWritableDir(dir: string, what: string, fs: FileSystem = nodeFileSystem): void {
  const abs = path.resolve(dir);
  if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) throw new FileWriteError(`${what}: '${abs}' exists and is not a folder`, abs, 'ENOTDIR');
  try {
    fs.mkdirSync(abs, { recursive: true });
  } catch (e) {
    let parent = path.dirname(abs);
    while (!fs.existsSync(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
    let why = describeFsError(e);
    if (fs.existsSync(parent) && !fs.statSync(parent).isDirectory()) why = `'${parent}' is not a folder`;
    else {
      try {
        fs.accessSync(parent, nodeFs.constants.W_OK);
      } catch (pe) {
        why = `'${parent}' is not writable (${describeFsError(pe)})`;
      }
    }
    throw new FileWriteError(`${what}: cannot create '${abs}': ${why}`, abs, errorCode(e), why);
  }
  const probe = path.join(abs, `.write-test.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    createDurable(fs, probe, Buffer.from('x'));
    fs.rmSync(probe, { force: true });
  } catch (e) {
    ignore(() => fs.rmSync(probe, { force: true }));
    const why = describeFsError(e);
    throw new FileWriteError(`${what}: folder '${abs}' is not writable: ${why}`, abs, errorCode(e), why);
  }
}

/** Options of {@link listFilesRecursive}. */
export interface ListFilesOptions {
  /** Keep a file when this returns true (called with the file's name). Default: keep all. */
  filter?: (name: string) => boolean;
  /** Folders (absolute or relative) whose contents are skipped, e.g. an output folder inside an input folder. */
  exclude?: readonly string[];
  /** File-system layer. Default {@link nodeFileSystem}. */
  fs?: FileSystem;
}

/**
 * The files under `dir`, recursively, sorted by path. Symbolic links are followed, but a folder
 * is entered at most once (by its real path), so a link loop or two links to one folder list
 * each file once. A folder that cannot be listed (no permission, an I/O error) is an error
 * naming it: skipping it would silently drop its images from a batch, a training set or a score.
 */
export function listFilesRecursive(dir: string, options: ListFilesOptions = {}): string[] {
  const fs = options.fs ?? nodeFileSystem;
  const keep = options.filter ?? (() => true);
  const excluded = new Set((options.exclude ?? []).map((d) => realOr(fs, path.resolve(d))));
  const seen = new Set<string>();
  const out: string[] = [];
  const walk = (d: string): void => {
    const real = realOr(fs, d);
    if (seen.has(real) || excluded.has(real)) return;
    seen.add(real);
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch (e) {
      throw new Error(`cannot list the folder ${JSON.stringify(d)}: ${describeFsError(e)}; its images would be left out (fix its permissions, or give the readable folders only)`);
    }
    for (const name of names.sort()) {
      const full = path.join(d, name);
      let st: nodeFs.Stats;
      try {
        st = fs.statSync(full);
      } catch {
        continue; // dangling link or vanished entry
      }
      if (st.isDirectory()) walk(full);
      else if (st.isFile() && keep(name)) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Lower-case hex sha256 of bytes or a string (UTF-8): the one content hash of DISCO's records
 * (checkpoints, model files, colorize outputs, cached features).
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** {@link sha256Hex} of a file's bytes, or `null` when it cannot be read. */
export function sha256File(file: string, fs: FileSystem = nodeFileSystem): string | null {
  try {
    return sha256Hex(fs.readFileSync(file));
  } catch {
    return null;
  }
}

/**
 * The real path `p` has or would have: links and `..` resolved in its longest existing prefix,
 * the rest appended. Two paths name one file exactly when their real paths are equal, whether
 * or not it exists yet (e.g. an output that would land on an input).
 *
 * @example
 * ```ts
 * realPathOf('out/../photos/a.png') === realPathOf('photos/a.png'); // true
 * ```
 */
export function realPathOf(p: string, fs: FileSystem = nodeFileSystem): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  for (let cur = abs; ; ) {
    try {
      return path.join(fs.realpathSync(cur), ...rest.reverse());
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return abs;
      rest.push(path.basename(cur));
      cur = up;
    }
  }
}

function realOr(fs: FileSystem, p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
