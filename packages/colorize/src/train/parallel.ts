/**
 * Data-parallel stage-2 training over worker threads (synchronous data parallelism as in
 * Goyal et al. 2017, "Accurate, Large Minibatch SGD", §2): a batch is split into contiguous
 * shards along the batch axis; this thread computes the gradients of shard 0 while each worker
 * thread computes those of its shard with its own backend and its own copy of the model; the
 * gradients are averaged weighted by shard size, this thread's `Stage2Trainer` applies
 * them (Adam state lives here only), and the updated weights go back to the workers.
 *
 * What equals what: a step with `workers: n` equals, to float tolerance, one process that computes
 * `Stage2Trainer.gradients` on the same n shards and applies their weighted mean.
 * That is the full-batch gradient for every per-sample term, but not exactly for batch norm in
 * training mode (each shard normalises with its own statistics, as PyTorch's DistributedDataParallel
 * without SyncBatchNorm), nor for the per-image k-means initialisation and dropout masks, which
 * are drawn per shard. Batch-norm moving statistics are averaged over shards after each step.
 */
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { enableNativeConvolutions, nativeConvolutionState, startModuleWorker } from '@disco/runtime/node';
import type { DiscoConfig } from '../model/config.js';
import type { Stage2Batch, Stage2Losses, Stage2Options, Stage2Trainer } from './stage2.js';

/** Options of {@link ParallelStage2Trainer.create}. */
export interface ParallelOptions {
  /** Threads computing gradients, this one included (≥ 1; 1 runs everything here). Default 2. */
  workers: number;
  /** Backend of the worker threads (`auto`, `wasm`, `cpu`, …). Default: this thread's backend. */
  backend?: string;
}

/** A plain-array tensor that crosses threads. */
interface Plain {
  data: Float32Array;
  shape: number[];
}

/** What a parallel-training worker receives at start. */
export interface ParallelWorkerInit {
  /** Backend choice of the worker. */
  backend: string;
  /** Model configuration (the worker builds its own model). */
  config: DiscoConfig;
  /** Every named weight of the model ({@link DiscoModel.namedWeights}). */
  weights: Record<string, Plain>;
  /** Stage-2 options (no feature network: the perceptual term must be off). */
  options: Stage2Options;
  /**
   * The convolution engine of the starting thread, which every worker uses too (so that a step
   * is the same whichever thread computes a shard): `onnxruntime` with this many threads, or `wasm`.
   */
  convolutions: { engine: 'onnxruntime'; threads: number } | { engine: 'wasm' };
}

/** Messages to a worker. */
export type ParallelRequest =
  | { kind: 'grads'; L: Plain; ab: Plain; step: number }
  | { kind: 'weights'; weights: Record<string, Plain> }
  | { kind: 'stop' };

/** Messages from a worker. */
export type ParallelReply =
  | { kind: 'ready' }
  | { kind: 'grads'; grads: Array<Float32Array | null>; losses: Stage2Losses; stats: Record<string, Plain> }
  | { kind: 'error'; message: string };

/** Whether a named weight is a batch-norm moving statistic (not trained, updated by the forward pass). */
export function isMovingStatistic(name: string): boolean {
  return /moving_(mean|variance)/.test(name) && !name.startsWith('spixnet.');
}

function toPlain(t: tf.Tensor): Plain {
  return { data: t.dataSync() as Float32Array, shape: t.shape.slice() };
}

/** Contiguous shard sizes of `batch` over `n` threads, as equal as possible (first shards larger). */
export function shardSizes(batch: number, n: number): number[] {
  const base = Math.floor(batch / n);
  return Array.from({ length: n }, (_, i) => base + (i < batch % n ? 1 : 0));
}

class GradWorker {
  private readonly worker: Worker;
  private waiting: { resolve: (r: ParallelReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  readonly ready: Promise<void>;

  constructor(init: ParallelWorkerInit) {
    // From the TypeScript sources (tests, `nx run`, a workspace bin) the worker loads its module through tsx.
    this.worker = startModuleWorker(new URL(`./parallel_worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url), init);
    this.worker.on('message', (m: ParallelReply) => {
      const w = this.waiting;
      this.waiting = null;
      if (m.kind === 'error') w?.reject(new Error(`parallel training worker: ${m.message}`));
      else w?.resolve(m);
    });
    const die = (why: string) => {
      this.failure ??= new Error(`parallel training worker stopped: ${why}`);
      const w = this.waiting;
      this.waiting = null;
      w?.reject(this.failure);
    };
    this.worker.on('error', (e) => die(e.message.split('\n')[0]!));
    this.worker.on('exit', (code) => die(`exit status ${code}`));
    this.ready = this.next().then(() => undefined);
  }

  /** The next reply. */
  next(): Promise<ParallelReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  post(m: ParallelRequest, transfer: ArrayBuffer[] = []): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(m, transfer);
  }

  async stop(): Promise<void> {
    this.failure ??= new Error('parallel training worker stopped');
    await this.worker.terminate();
  }
}

/**
 * Runs {@link Stage2Trainer} steps with the batch split over worker threads.
 *
 * @example
 * ```ts
 * const trainer = new Stage2Trainer(model, { steps: 1000, perceptualWeight: 0 });
 * const par = await ParallelStage2Trainer.create(trainer, { workers: 2 });
 * const losses = await par.step({ L, ab }, step); // L [B,H,W,1], ab [B,H,W,2], B ≥ 2
 * await par.dispose(); // stops the workers (not the trainer or the model)
 * ```
 */
export class ParallelStage2Trainer {
  /** The trainer of this thread: its model and Adam state are the authoritative ones. */
  readonly trainer: Stage2Trainer;
  /** Threads computing gradients, this one included. */
  readonly workers: number;
  private readonly pool: GradWorker[];
  /** This thread's native-convolution thread count before {@link create} shared the cores out, restored by {@link dispose}. */
  private restoreConvThreads: number | null = null;
  private readonly statNames: string[];

  private constructor(trainer: Stage2Trainer, pool: GradWorker[]) {
    this.trainer = trainer;
    this.pool = pool;
    this.workers = pool.length + 1;
    this.statNames = Object.keys(trainer.model.namedWeights()).filter(isMovingStatistic);
  }

  /**
   * Starts `workers − 1` worker threads, each with its own backend and a copy of the trainer's
   * model (every weight, batch-norm statistics included).
   */
  static async create(trainer: Stage2Trainer, options: Partial<ParallelOptions> = {}): Promise<ParallelStage2Trainer> {
    const n = options.workers ?? 2;
    if (!Number.isInteger(n) || n < 1) throw new Error(`ParallelStage2Trainer: workers must be an integer ≥ 1 (got ${n})`);
    if (trainer.featureNet) throw new Error('ParallelStage2Trainer: a perceptual feature network is not supported with workers (set perceptualWeight 0)');
    const weights = Object.fromEntries(Object.entries(trainer.model.namedWeights()).map(([k, v]) => [k, toPlain(v)]));
    // Native convolutions (onnxruntime): every thread with the same count as this one, so the
    // gradients do not depend on the number of workers or cores.
    let convolutions: ParallelWorkerInit['convolutions'] = { engine: 'wasm' };
    const before = nativeConvolutionState();
    if (before.enabled) convolutions = { engine: 'onnxruntime', threads: before.threads! };
    const init: ParallelWorkerInit = { backend: options.backend ?? tf.getBackend(), config: trainer.model.config, weights, options: trainer.options, convolutions };
    const pool = Array.from({ length: n - 1 }, () => new GradWorker(init));
    try {
      await Promise.all(pool.map((w) => w.ready));
    } catch (e) {
      await Promise.all(pool.map((w) => w.stop()));
      throw e;
    }
    const par = new ParallelStage2Trainer(trainer, pool);
    if (before.enabled && before.threads !== nativeConvolutionState().threads) par.restoreConvThreads = before.threads;
    return par;
  }

  /**
   * One optimisation step at `step` on `batch` (`[B,H,W,·]` with B ≥ workers), split into
   * contiguous shards. Returns the loss terms averaged over shards, weighted by shard size.
   */
  async step(batch: Stage2Batch, step: number): Promise<Stage2Losses> {
    const B = batch.L.shape[0];
    if (B < this.workers) throw new Error(`ParallelStage2Trainer.step: batch ${B} is smaller than the ${this.workers} workers`);
    const sizes = shardSizes(B, this.workers);
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const shard = (t: tf.Tensor4D, i: number) => tf.slice(t, [starts[i]!, 0, 0, 0], [sizes[i]!, -1, -1, -1]);
    // Post the workers' shards first so that they run while this thread computes shard 0.
    const replies = this.pool.map((w, j) => {
      const reply = w.next();
      const [L, ab] = tf.tidy(() => [shard(batch.L, j + 1), shard(batch.ab, j + 1)]);
      const own = (t: tf.Tensor): Plain => ({ data: (t.dataSync() as Float32Array).slice(), shape: t.shape.slice() }); // transferable copies
      const msg: ParallelRequest = { kind: 'grads', L: own(L!), ab: own(ab!), step };
      tf.dispose([L!, ab!]);
      w.post(msg, [msg.L.data.buffer as ArrayBuffer, msg.ab.data.buffer as ArrayBuffer]);
      return reply;
    });
    const [L0, ab0] = tf.tidy(() => [shard(batch.L, 0), shard(batch.ab, 0)]) as [tf.Tensor4D, tf.Tensor4D];
    let local: { grads: Array<tf.Tensor | null>; losses: Stage2Losses };
    try {
      local = this.trainer.gradients({ L: L0, ab: ab0 }, step);
    } finally {
      tf.dispose([L0, ab0]);
    }
    let remote: Array<Extract<ParallelReply, { kind: 'grads' }>>;
    try {
      remote = (await Promise.all(replies)) as Array<Extract<ParallelReply, { kind: 'grads' }>>;
    } catch (e) {
      tf.dispose(local.grads.filter((g): g is tf.Tensor => g !== null));
      throw e;
    }
    const weightOf = (i: number) => sizes[i]! / B;
    // A gradient missing on one thread (the loss does not reach the variable) counts as zero
    // there; missing everywhere, the variable is not updated (as in a single-thread step).
    const shapes = this.trainer.model.trainableVariables().map((v) => v.shape);
    const averaged = local.grads.map((g, v) => {
      if (!g && remote.every((r) => !r.grads[v])) return null;
      return tf.tidy(() => {
        const parts: tf.Tensor[] = [];
        if (g) parts.push(tf.mul(g, weightOf(0)));
        remote.forEach((r, j) => {
          const d = r.grads[v];
          if (d) parts.push(tf.mul(tf.tensor(d, shapes[v], 'float32'), weightOf(j + 1)));
        });
        return parts.reduce((a, b) => tf.add(a, b));
      });
    });
    tf.dispose(local.grads.filter((g): g is tf.Tensor => g !== null));
    this.trainer.applyGradients(averaged, step);
    tf.dispose(averaged.filter((g): g is tf.Tensor => g !== null));
    // Batch-norm moving statistics: the shard-size-weighted mean of every thread's.
    const mine = this.trainer.model.namedWeights();
    const stats = tf.tidy(() =>
      Object.fromEntries(
        this.statNames.map((n) => {
          const m = mine[n]!;
          return [n, remote.reduce((acc, r, j) => tf.add(acc, tf.mul(tf.tensor(r.stats[n]!.data, m.shape, 'float32'), weightOf(j + 1))), tf.mul(m, weightOf(0)))];
        }),
      ),
    ) as Record<string, tf.Tensor>;
    // assign() keeps a reference to the data, so the averaged tensors can be freed right after.
    tf.tidy(() => this.trainer.model.setNamedWeights(stats, { only: (n) => n in stats }));
    tf.dispose(Object.values(stats));
    // Every thread continues from this thread's weights.
    const all = Object.entries(this.trainer.model.namedWeights()).filter(([n]) => !n.startsWith('spixnet.'));
    for (const w of this.pool) w.post({ kind: 'weights', weights: Object.fromEntries(all.map(([n, t]) => [n, toPlain(t)])) });
    const losses = { ...local.losses };
    for (const k of Object.keys(losses) as Array<keyof Stage2Losses>) losses[k] = remote.reduce((acc, r, j) => acc + r.losses[k] * weightOf(j + 1), local.losses[k] * weightOf(0));
    return losses;
  }

  /** Stops the worker threads (the trainer and its model stay usable). */
  async dispose(): Promise<void> {
    await Promise.all(this.pool.map((w) => w.stop()));
    // This thread has the cores to itself again.
    if (this.restoreConvThreads != null && nativeConvolutionState().enabled) enableNativeConvolutions({ threads: this.restoreConvThreads });
    this.restoreConvThreads = null;
  }
}
