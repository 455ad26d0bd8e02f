/**
 * `@disco/runtime/node`: Node-only helpers for DISCO's command-line tools — backend choice from
 * flags and environment, run provenance, progress lines with ETA, atomic file writes and
 * checkpoints, listing of image folders, and a fault-injecting file system for tests.
 *
 * @packageDocumentation
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_CHOICES, describeBackend, selectBackend, type BackendChoice, type BackendInfo, type BackendName } from './backend.js';
import { enableNativeConvolutions, NATIVE_CONV_ENV } from './node/native_conv.js';
import { enableNativeNetworks, NATIVE_INFERENCE_ENV } from './node/native_graph.js';

export {
  FileWriteError,
  UNWRITABLE_CODES,
  appendLine,
  describeFsError,
  ensureWritableDir,
  fileError,
  fsyncDir,
  listFilesRecursive,
  nodeFileSystem,
  parseTempName,
  processAlive,
  realPathOf,
  removeStaleTemps,
  sha256File,
  sha256Hex,
  showPath,
  tempSibling,
  writeAll,
  writeFileAtomic,
  writeFileDurable,
  writeJsonAtomic,
  type FileSystem,
  type ListFilesOptions,
  type WriteFileOptions,
} from './files.js';
export { startModuleWorker } from './node/worker.js';
export { intArg, InvalidOptionValue, MAX_SEED, numberArg, numberListArg, positiveArg } from './cli_args.js';
export {
  disableNativeNetworks,
  enableNativeNetworks,
  layersModelToOnnx,
  MAX_NATIVE_NETWORKS,
  NATIVE_INFERENCE_ENV,
  NATIVE_INFERENCE_THREADS_ENV,
  nativeNetworkState,
  resolveNetworkThreads,
  UnsupportedNetwork,
  type ConvertedNetwork,
  type NativeNetworkInfo,
  type NativeNetworkOptions,
} from './node/native_graph.js';
export {
  convolutionEngineStatus,
  disableNativeConvolutions,
  enableNativeConvolutions,
  nativeConvolutionState,
  NATIVE_CONV_ENV,
  NATIVE_CONV_MIN_MACS,
  NATIVE_CONV_SELF_CHECK_TOLERANCE,
  NATIVE_CONV_THREADS_ENV,
  resolveConvThreads,
  type NativeConvInfo,
  type NativeConvOptions,
} from './node/native_conv.js';
export { installScratch, packPackages, packTempDir, runScratch, runScratchAsync, scratchEnv, type PackedPackage } from './node/pack.js';
export { encodeOnnxModel, ONNX_OPSET, type OnnxAttribute, type OnnxGraph, type OnnxInt64Constant, type OnnxNode, type OnnxValue } from './node/onnx.js';
export { loadCheckpoint, saveCheckpoint, type CheckpointIntegrity, type CheckpointOptions, type CheckpointStateBase, type LoadCheckpointOptions, type LoadedCheckpoint } from './checkpoint.js';
export { expandInputs, isListFile, parseShard, selectShard, shardOfPath, shardSuffix, type ExpandInputsOptions, type InputFile, type Shard } from './inputs.js';
export { FaultyFileSystem, SimulatedKill, type FaultKind, type FaultOptions, type MutatingOp } from './faults.js';
export { readRuleStateDict } from './node/rule_weights.js';

/** Environment variable read by {@link resolveBackendChoice}. */
export const BACKEND_ENV = 'DISCO_BACKEND';

/**
 * The backend a command should use: the `--backend` flag if given, else `$DISCO_BACKEND`, else
 * `auto`. Throws a one-line error naming the source of an invalid value.
 */
export function resolveBackendChoice(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const [value, source] = flag !== undefined ? [flag, '--backend'] : env[BACKEND_ENV] ? [env[BACKEND_ENV]!, BACKEND_ENV] : ['auto', 'default'];
  if (!(BACKEND_CHOICES as readonly string[]).includes(value)) {
    throw new Error(`${source}: unknown backend '${value}'; valid: ${BACKEND_CHOICES.join(', ')}`);
  }
  return value as BackendChoice;
}

/**
 * Selects the backend for a command and prints it once on stderr. On wasm, the convolutions go
 * to onnxruntime-node when it is installed ({@link enableNativeConvolutions}; `DISCO_CONV=wasm`
 * keeps them on wasm, `DISCO_CONV=onnxruntime` makes its absence an error), and the frozen CNNs
 * run at inference as whole onnxruntime graphs ({@link enableNativeNetworks}; `DISCO_INFERENCE=tfjs`
 * or `DISCO_CONV=wasm` keeps them on tfjs, `DISCO_INFERENCE=onnxruntime` makes its absence an error).
 */
export async function setupBackendForCli(
  flag: string | undefined,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<BackendInfo> {
  const info = await selectBackend({ backend: resolveBackendChoice(flag, env) });
  if (info.name === 'wasm') {
    enableNativeEngines(info, env, log);
  }
  log(describeBackend(info));
  return info;
}

/**
 * On wasm: the convolutions on onnxruntime-node, and the frozen CNNs at inference as whole
 * onnxruntime graphs (`DISCO_INFERENCE=tfjs`, or `DISCO_CONV=wasm` for the all-wasm reference
 * path, keeps them on tfjs); recorded in `info`. A network left to tfjs is one `log` line.
 */
function enableNativeEngines(info: BackendInfo, env: NodeJS.ProcessEnv, log?: (line: string) => void): void {
  const conv = enableNativeConvolutions(log ? { log } : {}, env);
  if (conv.enabled) info.convolutions = conv.detail;
  // A failed self-check (one line, logged above) keeps the whole networks off too: they go through the same private binding.
  const failed = conv.selfCheck?.passed === false;
  const reference = (env[NATIVE_INFERENCE_ENV] == null && env[NATIVE_CONV_ENV] === 'wasm') || failed;
  const nets = enableNativeNetworks({ ...(log ? { log } : {}), ...(reference ? { mode: 'tfjs' as const } : {}) }, env);
  if (nets.enabled) info.networks = nets.detail;
}

/** Options of {@link ensureBackend}. */
export interface EnsureBackendOptions {
  /**
   * The backend to use. Absent: keep the backend the program already set (`tf.setBackend`,
   * `selectBackend`), or pick one with `auto` (native TensorFlow when installed, else wasm, else
   * cpu) when none is set yet.
   */
  backend?: BackendChoice;
}

/**
 * Makes sure a tfjs backend is active before a library call computes, silently: the one-call
 * paths (`loadPretrained`, `colorize` of `@disco/colorize/node`) call it so that a plain `node`
 * script needs no backend code. A backend the program already set is kept unless `backend`
 * names another. A backend chosen here gets DISCO's kernels, and on wasm the convolutions and
 * the frozen CNNs at inference on onnxruntime-node when it is installed (as
 * {@link setupBackendForCli}; `DISCO_CONV=wasm` keeps them on wasm, `DISCO_INFERENCE=tfjs` the CNNs on tfjs). Throws the one-line error of `selectBackend` when the named backend cannot load.
 */
export async function ensureBackend(options: EnsureBackendOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<BackendInfo | null> {
  // A selection still initialising (wasm loads asynchronously) is awaited, not repeated.
  if (pendingBackend != null && options.backend === undefined) return pendingBackend;
  const active = tf.getBackend() as BackendName | null | undefined;
  if (active && (options.backend === undefined || options.backend === 'auto' || options.backend === active)) return null;
  const pending = (async () => {
    const info = await selectBackend({ backend: options.backend ?? 'auto' });
    if (info.name === 'wasm') enableNativeEngines(info, env);
    return info;
  })();
  pendingBackend = pending;
  const settle = () => {
    if (pendingBackend === pending) pendingBackend = null;
  };
  pending.then(settle, settle);
  return pending;
}

let pendingBackend: Promise<BackendInfo> | null = null;

/** Provenance recorded with every run. */
export interface RunInfo {
  /** `git rev-parse HEAD` of the working directory, or `unknown`. */
  gitCommit: string;
  /** Whether the work tree had uncommitted changes. */
  gitDirty: boolean;
  /** ISO date of the start. */
  startedAt: string;
  /** `process.version`. */
  node: string;
  /** CPU model and count, total memory. */
  machine: { cpu: string; cores: number; memoryGiB: number; platform: string };
}

/** Collects {@link RunInfo} for the current process. */
export function collectRunInfo(cwd: string = process.cwd()): RunInfo {
  let gitCommit = 'unknown';
  let gitDirty = false;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    gitDirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
  } catch {
    // not a git checkout
  }
  const cpus = os.cpus();
  return {
    gitCommit,
    gitDirty,
    startedAt: new Date().toISOString(),
    node: process.version,
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()}-${os.arch()}` },
  };
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Total number of steps. */
  total: number;
  /** Prefix of every line, e.g. `train`. */
  label: string;
  /** Minimum milliseconds between two lines (the last step always prints). Default 2000. */
  intervalMs?: number;
  /** Where lines go. Default: stderr. */
  write?: (line: string) => void;
  /** Clock in ms (tests). Default `performance.now`. */
  now?: () => number;
  /** Steps already done when resuming; the rate counts only new steps. */
  start?: number;
}

/** Formats seconds as `h:mm:ss` or `m:ss`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * A periodic progress line with rate and ETA:
 * `train 120/2000 (6.0%) 1.85 it/s elapsed 1:05 ETA 16:56 loss=3.21`.
 */
export class Progress {
  private readonly t0: number;
  private last = -Infinity;
  private readonly opts: Required<ProgressOptions>;

  constructor(options: ProgressOptions) {
    this.opts = {
      intervalMs: 2000,
      write: (l) => process.stderr.write(`${l}\n`),
      now: () => performance.now(),
      start: 0,
      ...options,
    };
    this.t0 = this.opts.now();
  }

  /** Reports that `done` steps are complete; `fields` are appended as `k=v`. */
  update(done: number, fields: Record<string, number | string> = {}): string | null {
    const now = this.opts.now();
    if (done < this.opts.total && now - this.last < this.opts.intervalMs) return null;
    this.last = now;
    const line = this.format(done, now, fields);
    this.opts.write(line);
    return line;
  }

  private format(done: number, now: number, fields: Record<string, number | string>): string {
    const { total, label, start } = this.opts;
    const elapsed = (now - this.t0) / 1000;
    const rate = elapsed > 0 ? (done - start) / elapsed : 0;
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : v}`)
      .join(' ');
    const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '100.0';
    return `${label} ${done}/${total} (${pct}%) ${rate.toFixed(2)} it/s elapsed ${formatDuration(elapsed)} ETA ${formatDuration(eta)}${extra ? ` ${extra}` : ''}`;
  }
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}
