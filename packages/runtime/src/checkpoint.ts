/**
 * One checkpoint scheme for every DISCO trainer: a folder `<run>/checkpoint/` holding named files
 * and a `state.json` that records each file's size and sha256. It is committed atomically and
 * recovered after a kill at any point.
 *
 * Writing (the commit protocol):
 * 1. finish an interrupted commit, if the last writer was killed (see reading), and remove temp
 *    folders of dead processes;
 * 2. write every file, then `state.json` (with the checksums) last, into a temporary folder
 *    `.checkpoint.<pid>.<hex>.tmp/`, each file flushed to disk, the folder flushed;
 * 3. rename `checkpoint/` → `.checkpoint.<pid>.<hex>.old/`, rename the temporary folder →
 *    `checkpoint/`, flush the run folder, remove the `.old` folder.
 *
 * Reading: every candidate (`checkpoint/`, complete temporary folders, `.old` folders) is
 * verified against its checksums and the one with the highest `step` is used; with `repair`, it
 * is moved into place as `checkpoint/` and the other candidates are removed. A kill between the
 * two renames, when `checkpoint/` is briefly absent, therefore loses nothing. A `checkpoint/`
 * that fails verification (damage after it was committed) is an error naming the file, never
 * silently replaced.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { fileError, FileWriteError, fsyncDir, nodeFileSystem, parseTempName, processAlive, writeFileDurable, type FileSystem } from './files.js';

/** What every checkpoint state has: the training step it was taken after. */
export interface CheckpointStateBase {
  /** Optimisation steps completed. */
  step: number;
}

/** Size and sha256 of each file of a checkpoint, stored in its `state.json` under `integrity`. */
export interface CheckpointIntegrity {
  /** Always `sha256`. */
  algorithm: 'sha256';
  /** File name → size in bytes and lower-case hex sha256. */
  files: Record<string, { bytes: number; sha256: string }>;
}

/** Options of {@link saveCheckpoint} and {@link loadCheckpoint}. */
export interface CheckpointOptions {
  /** Folder name inside the run folder. Default `checkpoint`. */
  name?: string;
  /** File-system layer. Default {@link nodeFileSystem}. */
  fs?: FileSystem;
  /** Where notes about repairs go (recovered commit, removed temp folders). Default: nowhere. */
  log?: (line: string) => void;
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions extends CheckpointOptions {
  /** Move the chosen candidate into place and remove the others. Default true. */
  repair?: boolean;
  /**
   * Files to read from a checkpoint written before checksums were recorded (no `integrity` in
   * its state). Such a checkpoint is accepted with `verified: false`: its files must exist; the
   * caller checks their sizes. Default: none (such checkpoints are rejected).
   */
  legacyFiles?: readonly string[];
}

/** A checkpoint read by {@link loadCheckpoint}. */
export interface LoadedCheckpoint<S extends CheckpointStateBase> {
  /** The `checkpoint/` folder (after repair), or the candidate it was read from. */
  dir: string;
  /** `state.json` without the `integrity` record. */
  state: S;
  /** The files' bytes. */
  files: Record<string, Uint8Array>;
  /** True when every file matched its recorded sha256 (false only for a legacy checkpoint). */
  verified: boolean;
  /** What recovery did, e.g. `completed an interrupted commit (…)`, or `null`. */
  repaired: string | null;
}

const STATE = 'state.json';
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Temporary or previous checkpoint folders in `runDir`: ours (`.checkpoint.<pid>.<hex>.tmp|old`) and those of older DISCO versions (`.checkpoint.<pid>.tmp`, `.checkpoint.old`, `.checkpoint.<pid>.old`). */
function sideFolders(runDir: string, name: string, fs: FileSystem): Array<{ path: string; pid: number | null }> {
  let names: string[];
  try {
    names = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  const out: Array<{ path: string; pid: number | null }> = [];
  const legacy = new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:(\\d+)\\.)?(tmp|old)$`);
  for (const n of names.sort()) {
    const t = parseTempName(n);
    if (t && t.target === name) out.push({ path: path.join(runDir, n), pid: t.pid });
    else {
      const m = legacy.exec(n);
      if (m) out.push({ path: path.join(runDir, n), pid: m[1] ? Number(m[1]) : null });
    }
  }
  return out;
}

type Inspected<S> = { ok: true; dir: string; state: S; files: Record<string, Uint8Array>; verified: boolean } | { ok: false; dir: string; problem: string; legacy?: boolean };

/** Reads and verifies one candidate folder. */
function inspect<S extends CheckpointStateBase>(dir: string, fs: FileSystem, legacyFiles: readonly string[] | undefined, readFiles: boolean): Inspected<S> {
  const sf = path.join(dir, STATE);
  if (!fs.existsSync(sf)) return { ok: false, dir, problem: `${sf}: missing (incomplete checkpoint)` };
  let raw: S & { integrity?: CheckpointIntegrity };
  try {
    raw = JSON.parse(fs.readFileSync(sf).toString('utf8')) as S & { integrity?: CheckpointIntegrity };
  } catch (e) {
    return { ok: false, dir, problem: `${sf}: not valid JSON (truncated or damaged): ${String((e as Error).message).split('\n')[0]}` };
  }
  if (!raw || typeof raw !== 'object' || !Number.isInteger(raw.step)) return { ok: false, dir, problem: `${sf}: no integer 'step' (not a DISCO checkpoint state)` };
  const { integrity, ...state } = raw;
  const files: Record<string, Uint8Array> = {};
  if (!integrity) {
    if (!legacyFiles) return { ok: false, dir, problem: `${sf}: no checksums recorded (written by an older version)`, legacy: true };
    for (const f of legacyFiles) {
      const p = path.join(dir, f);
      if (!fs.existsSync(p)) return { ok: false, dir, problem: `${p}: missing` };
      if (readFiles) files[f] = fs.readFileSync(p);
    }
    return { ok: true, dir, state: state as unknown as S, files, verified: false };
  }
  if (integrity.algorithm !== 'sha256' || !integrity.files || typeof integrity.files !== 'object') return { ok: false, dir, problem: `${sf}: malformed 'integrity' record` };
  for (const [f, want] of Object.entries(integrity.files)) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) return { ok: false, dir, problem: `${p}: missing` };
    const bytes = fs.readFileSync(p);
    if (bytes.length !== want.bytes) return { ok: false, dir, problem: `${p}: ${bytes.length} bytes, the checkpoint recorded ${want.bytes} (truncated or damaged)` };
    if (sha256(bytes) !== want.sha256) return { ok: false, dir, problem: `${p}: sha256 differs from the one recorded (damaged)` };
    if (readFiles) files[f] = bytes;
  }
  return { ok: true, dir, state: state as unknown as S, files, verified: true };
}

function ignore(f: () => void): void {
  try {
    f();
  } catch {
    // best effort
  }
}

interface Recovery<S> {
  best: (Inspected<S> & { ok: true }) | null;
  repaired: string | null;
}

/**
 * Picks the newest complete checkpoint; with `repair`, moves it into place and removes the other
 * candidates of dead processes. Throws (one line naming the file) if `checkpoint/` is damaged.
 */
function recover<S extends CheckpointStateBase>(runDir: string, o: LoadCheckpointOptions, repair: boolean, readFiles: boolean, replacing = false): Recovery<S> {
  const fs = o.fs ?? nodeFileSystem;
  const name = o.name ?? 'checkpoint';
  const main = path.join(runDir, name);
  const sides = sideFolders(runDir, name, fs).filter((s) => s.pid === null || s.pid === process.pid || !processAlive(s.pid));
  let best: (Inspected<S> & { ok: true }) | null = null;
  if (fs.existsSync(main)) {
    const m = inspect<S>(main, fs, o.legacyFiles, readFiles);
    if (m.ok) best = m;
    else if (!replacing) throw new Error(`checkpoint ${main} is damaged: ${m.problem}`);
  }
  const keep = new Set<string>();
  for (const s of sides) {
    const c = inspect<S>(s.path, fs, o.legacyFiles, false);
    if (c.ok && (best === null || c.state.step > best.state.step)) best = c;
    if (!c.ok && c.legacy) keep.add(s.path); // complete, but this reader cannot check it: never discard
  }
  if (best && best.dir !== main && readFiles) best = inspect<S>(best.dir, fs, o.legacyFiles, true) as Inspected<S> & { ok: true };
  let repaired: string | null = null;
  if (repair) {
    if (best && best.dir !== main) {
      const from = best.dir;
      let parked: string | null = null;
      if (fs.existsSync(main)) {
        parked = path.join(runDir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.old`);
        fs.renameSync(main, parked);
      }
      fs.renameSync(from, main);
      fsyncDir(runDir, fs);
      if (parked) ignore(() => fs.rmSync(parked!, { recursive: true, force: true }));
      best = { ...best, dir: main };
      repaired = `completed an interrupted checkpoint commit: step ${best.state.step} from ${path.basename(from)}`;
      o.log?.(`checkpoint: ${repaired}`);
    }
    const stale = sideFolders(runDir, name, fs).filter((s) => !keep.has(s.path) && (s.pid === null || s.pid === process.pid || !processAlive(s.pid)));
    for (const s of stale) ignore(() => fs.rmSync(s.path, { recursive: true, force: true }));
    if (stale.length > 0) o.log?.(`checkpoint: removed ${stale.length} temporary folder(s) of interrupted writes (${stale.map((s) => path.basename(s.path)).join(', ')})`);
  }
  return { best, repaired };
}

/**
 * Reads the newest complete checkpoint of `runDir`, verifying every file's sha256, or returns
 * `null` when there is none. With `repair` (default) an interrupted commit is completed and
 * stale temporary folders are removed. Errors are one line naming the damaged file.
 */
export function loadCheckpoint<S extends CheckpointStateBase>(runDir: string, options: LoadCheckpointOptions = {}): LoadedCheckpoint<S> | null {
  const { best, repaired } = recover<S>(runDir, options, options.repair ?? true, true);
  if (!best) return null;
  return { dir: best.dir, state: best.state, files: best.files, verified: best.verified, repaired };
}

/**
 * Commits a checkpoint: `files` (name → bytes) and `state` (JSON, with `step`) become
 * `<runDir>/checkpoint/` atomically (see the module comment). A failure (full disk, permission)
 * leaves the previous checkpoint in place, removes the partial temporary folder, and throws one
 * line naming the path. Returns the checkpoint folder.
 */
export function saveCheckpoint<S extends CheckpointStateBase>(runDir: string, files: Record<string, Uint8Array>, state: S, options: CheckpointOptions = {}): string {
  const fs = options.fs ?? nodeFileSystem;
  const name = options.name ?? 'checkpoint';
  if (STATE in files) throw new Error(`saveCheckpoint: '${STATE}' is reserved for the state`);
  for (const f of Object.keys(files)) if (f !== path.basename(f) || f.startsWith('.')) throw new Error(`saveCheckpoint: file name '${f}' must be a plain name`);
  const main = path.join(runDir, name);
  try {
    fs.mkdirSync(runDir, { recursive: true });
  } catch (e) {
    throw fileError('cannot create folder', runDir, e);
  }
  if (!fs.existsSync(main) || sideFolders(runDir, name, fs).length > 0) recover(runDir, { ...options, legacyFiles: Object.keys(files) }, true, false, true);
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = path.join(runDir, `.${name}.${tag}.tmp`);
  const old = path.join(runDir, `.${name}.${tag}.old`);
  const integrity: CheckpointIntegrity = { algorithm: 'sha256', files: {} };
  let parked = false;
  try {
    try {
      fs.mkdirSync(tmp);
    } catch (e) {
      throw fileError('cannot create folder', tmp, e);
    }
    for (const [f, bytes] of Object.entries(files)) {
      writeFileDurable(path.join(tmp, f), bytes, { fs });
      integrity.files[f] = { bytes: bytes.length, sha256: sha256(bytes) };
    }
    writeFileDurable(path.join(tmp, STATE), `${JSON.stringify({ ...state, integrity }, null, 2)}\n`, { fs });
    fsyncDir(tmp, fs);
    if (fs.existsSync(main)) {
      try {
        fs.renameSync(main, old);
      } catch (e) {
        throw fileError('cannot move aside', main, e);
      }
      parked = true;
    }
    try {
      fs.renameSync(tmp, main);
    } catch (e) {
      throw fileError('cannot commit', main, e);
    }
    parked = false;
    fsyncDir(runDir, fs);
  } catch (e) {
    // Undo what a failure (not a kill) left: the previous checkpoint back in place, no temp folder.
    if (parked) ignore(() => fs.renameSync(old, main));
    ignore(() => fs.rmSync(tmp, { recursive: true, force: true }));
    if (e instanceof FileWriteError) throw e;
    throw fileError('cannot write checkpoint', main, e);
  }
  ignore(() => fs.rmSync(old, { recursive: true, force: true }));
  return main;
}
