/**
 * Input lists and deterministic sharding for the batch commands (`disco colorize`, `eval-fid`):
 * folders, globs and list files become one sorted list of files with stable relative paths, and
 * `--shard i/n` keeps the files whose relative path hashes to `i`.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { listFilesRecursive, nodeFileSystem, type FileSystem } from './files.js';

/** One input file and its path relative to the folder, glob base or list that named it (`/`-separated). */
export interface InputFile {
  /** Absolute path. */
  file: string;
  /** Relative path used for output names and shard hashing, e.g. `val/n01440764/x.JPEG`. */
  rel: string;
}

/** Options of {@link expandInputs}. */
export interface ExpandInputsOptions {
  /** File extensions (lower case, with the dot) kept from folders and globs. */
  extensions: readonly string[];
  /** Folders whose contents are skipped (e.g. an output folder inside an input folder). */
  exclude?: readonly string[];
  /** Base of relative specs. Default `process.cwd()`. */
  cwd?: string;
  /** Read every existing file without one of `extensions` as a list file, not only `.txt` / `.list`. Default false. */
  anyFileIsList?: boolean;
  /** File-system layer. Default {@link nodeFileSystem}. */
  fs?: FileSystem;
  /** Called with each glob that matches no file (so a caller can report it rather than drop it silently). */
  onEmptyGlob?: (spec: string) => void;
}

const GLOB_CHARS = /[*?[]/;

/** A list file: `.txt` or `.list`, one path per line. */
export function isListFile(spec: string): boolean {
  return /\.(txt|list)$/i.test(spec);
}

/**
 * The matcher of a glob (picomatch): `**` any folders (as a whole path part), `*` any name part,
 * `?` one character, `[…]` / `[!…]` a class; dot files included; braces, extglobs, a leading `!`
 * and parentheses (which picomatch would read as regex groups: `photo (1)*.jpg`) are literal.
 * Matched against `/`-separated relative paths.
 */
function globMatcher(pattern: string): (rel: string) => boolean {
  return picomatch(pattern.replace(/[()|]/g, '\\$&'), { dot: true, posix: true, nobrace: true, noextglob: true, nonegate: true });
}

const toPosix = (p: string): string => p.split(path.sep).join('/');

/**
 * The files named by `specs`, in order of the specs and sorted by path within each:
 *
 * - a folder: its files with one of `extensions`, recursively (links followed, each real folder
 *   once); `rel` is the path inside the folder;
 * - a glob (`photos/**\/*.jpg`, `a/*.png`; only when no file of that name exists): the matching
 *   files under its leading wildcard-free folders; `rel` is the path below those folders;
 * - a list file (`.txt`, `.list`): one path per line, relative to the list's folder; blank lines
 *   and `#` comments skipped; `rel` is the line's path (an absolute line or one leaving the
 *   list's folder gets its base name);
 * - anything else: that file (which need not exist; the caller reports it); `rel` is its base name.
 *
 * A file named twice is listed twice.
 */
export function expandInputs(specs: readonly string[], options: ExpandInputsOptions): InputFile[] {
  const fs = options.fs ?? nodeFileSystem;
  const cwd = options.cwd ?? process.cwd();
  const exts = options.extensions.map((e) => e.toLowerCase());
  const keep = (name: string): boolean => exts.includes(path.extname(name).toLowerCase());
  const out: InputFile[] = [];
  const add = (file: string, rel: string): void => {
    out.push({ file, rel: toPosix(rel) });
  };
  for (const spec of specs) {
    const abs = path.resolve(cwd, spec);
    const exists = fs.existsSync(abs);
    if (exists && fs.statSync(abs).isDirectory()) {
      for (const f of listFilesRecursive(abs, { filter: keep, exclude: options.exclude, fs })) add(f, path.relative(abs, f));
    } else if (exists && (isListFile(abs) || (options.anyFileIsList === true && !keep(abs)))) {
      const dir = path.dirname(abs);
      const lines = fs.readFileSync(abs).toString('utf8')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
      for (const line of lines) {
        const file = path.resolve(dir, line);
        const rel = path.relative(dir, file);
        add(file, path.isAbsolute(line) || rel.startsWith('..') ? path.basename(file) : rel);
      }
    } else if (!exists && GLOB_CHARS.test(spec)) {
      const parts = toPosix(abs).split('/');
      const first = parts.findIndex((p) => GLOB_CHARS.test(p));
      const base = parts.slice(0, first).join('/') || '/';
      const matches = globMatcher(parts.slice(first).join('/'));
      const before = out.length;
      if (fs.existsSync(base)) {
        for (const f of listFilesRecursive(base, { filter: keep, exclude: options.exclude, fs })) {
          const rel = toPosix(path.relative(base, f));
          if (matches(rel)) add(f, rel);
        }
      }
      if (out.length === before) options.onEmptyGlob?.(spec);
    } else add(abs, path.basename(abs));
  }
  return out;
}

/** Shard `index` of `count` (0-based). */
export interface Shard {
  /** This shard, 0 … count−1. */
  index: number;
  /** Number of shards. */
  count: number;
}

/**
 * Parses `--shard`: `i/n` (0 ≤ i < n), or `auto`, which takes the index from the job engine's
 * environment — `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job; the count from `JOB_COMPLETIONS`
 * or `DISCO_SHARD_COUNT`, which the manifest sets to `spec.completions`) or `SLURM_ARRAY_TASK_ID`
 * (Slurm array; minus `SLURM_ARRAY_TASK_MIN`, the count from `SLURM_ARRAY_TASK_COUNT`). `auto/n`
 * gives the count explicitly. `undefined` means no sharding. Errors are one line naming `flag`.
 */
export function parseShard(spec: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env, flag = '--shard'): Shard | null {
  if (spec === undefined) return null;
  const int = (v: string | undefined): number | null => (v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null);
  let index: number | null;
  let count: number | null;
  const m = /^(auto|\d+)\/(\d+)$/.exec(spec.trim()) ?? (spec.trim() === 'auto' ? ['auto', 'auto', undefined] : null);
  if (!m) throw new Error(`${flag} must be i/n (e.g. 0/4) or auto; got '${spec}'`);
  if (m[1] === 'auto') {
    if (env['JOB_COMPLETION_INDEX'] !== undefined) {
      index = int(env['JOB_COMPLETION_INDEX']);
      count = int(m[2] ?? env['JOB_COMPLETIONS'] ?? env['DISCO_SHARD_COUNT']);
      if (index === null) throw new Error(`${flag} auto: JOB_COMPLETION_INDEX must be an integer ≥ 0; got '${env['JOB_COMPLETION_INDEX']}'`);
      if (count === null) throw new Error(`${flag} auto: JOB_COMPLETION_INDEX is set but the shard count is not: set JOB_COMPLETIONS (= spec.completions) or give ${flag} auto/<n>`);
    } else if (env['SLURM_ARRAY_TASK_ID'] !== undefined) {
      const id = int(env['SLURM_ARRAY_TASK_ID']);
      const min = env['SLURM_ARRAY_TASK_MIN'] !== undefined ? int(env['SLURM_ARRAY_TASK_MIN']) : 0;
      if (id === null || min === null) throw new Error(`${flag} auto: SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_MIN must be integers; got '${env['SLURM_ARRAY_TASK_ID']}' / '${env['SLURM_ARRAY_TASK_MIN']}'`);
      index = id - min;
      count = int(m[2] ?? env['SLURM_ARRAY_TASK_COUNT']);
      if (count === null) throw new Error(`${flag} auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not an integer; give ${flag} auto/<n>`);
    } else throw new Error(`${flag} auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give ${flag} i/n`);
  } else {
    index = Number(m[1]);
    count = Number(m[2]);
  }
  if (count < 1) throw new Error(`${flag}: the shard count must be ≥ 1; got ${count}`);
  if (index >= count) throw new Error(`${flag}: the shard index must be < ${count} (0-based); got ${index}`);
  return { index, count };
}

/** The shard (0 … count−1) of a relative path: the first 32 bits of its SHA-256, modulo `count`. Independent of machine, order and the other inputs. */
export function shardOfPath(rel: string, count: number): number {
  return createHash('sha256').update(toPosix(rel)).digest().readUInt32BE(0) % count;
}

/** The items of `shard` (all of them when `shard` is null), in their order; each item is in exactly one shard. */
export function selectShard<T extends { rel: string }>(items: readonly T[], shard: Shard | null): T[] {
  return shard === null ? [...items] : items.filter((it) => shardOfPath(it.rel, shard.count) === shard.index);
}

/** `-<i>-of-<n>` for file names of a shard's own outputs (`colorize-0-of-4.jsonl`); '' without sharding. */
export function shardSuffix(shard: Shard | null): string {
  return shard === null ? '' : `-${shard.index}-of-${shard.count}`;
}
