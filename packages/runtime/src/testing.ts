/**
 * `@disco/runtime/testing`: helpers for DISCO's tests (and yours). They depend on Vitest only
 * through the `describe` function you pass in, so they work with any runner.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '@disco/random';
import { selectBackend, type BackendName } from './backend.js';

/** Backends the op tests run on here: always `cpu`, and `wasm`. */
export const TEST_BACKENDS: readonly BackendName[] = Object.freeze(['cpu', 'wasm']);

/** Options of {@link expectClose}. */
export interface CloseOptions {
  /** Relative tolerance, scaled by `max|expected|` over the whole tensor. Default 1e-5. */
  rtol?: number;
  /** Absolute tolerance added to the relative one. Default 1e-6. */
  atol?: number;
  /** Prefix of the error message. */
  what?: string;
}

type Numeric = tf.Tensor | ArrayLike<number> | number;

function toArray(x: Numeric): { values: ArrayLike<number>; shape: number[] | null } {
  if (typeof x === 'number') return { values: [x], shape: [] };
  if (x instanceof tf.Tensor) return { values: x.dataSync() as ArrayLike<number>, shape: x.shape };
  return { values: x, shape: null };
}

/**
 * Throws unless `actual` and `expected` agree: same shape (when both are tensors) and
 * `|a − e| ≤ atol + rtol · max|expected|` elementwise. Returns the largest error found.
 */
export function expectClose(actual: Numeric, expected: Numeric, options: CloseOptions = {}): number {
  const { rtol = 1e-5, atol = 1e-6, what = 'values' } = options;
  const a = toArray(actual);
  const e = toArray(expected);
  if (a.shape && e.shape && !tf.util.arraysEqual(a.shape, e.shape)) {
    throw new Error(`${what}: shape [${a.shape}] != expected [${e.shape}]`);
  }
  if (a.values.length !== e.values.length) {
    throw new Error(`${what}: ${a.values.length} elements != expected ${e.values.length}`);
  }
  let scale = 0;
  for (let i = 0; i < e.values.length; i++) scale = Math.max(scale, Math.abs(e.values[i]!));
  const tol = atol + rtol * scale;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < e.values.length; i++) {
    const d = Math.abs(a.values[i]! - e.values[i]!);
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      worstAt = i;
    }
  }
  if (!(worst <= tol)) {
    throw new Error(
      `${what}: max |diff| ${worst.toExponential(3)} at index ${worstAt} (actual ${a.values[worstAt]}, expected ${e.values[worstAt]}) exceeds ${tol.toExponential(3)} (rtol ${rtol}, atol ${atol}, scale ${scale.toExponential(3)})`,
    );
  }
  return worst;
}

/** Largest relative error `max|a − e| / max|e|` (0 when both are all zero). */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i]! - expected[i]!));
    den = Math.max(den, Math.abs(expected[i]!));
  }
  if (num === 0) return 0;
  return den === 0 ? Infinity : num / den;
}

/** Options of {@link checkGradients}. */
export interface GradCheckOptions {
  /** Step of the central difference. Default 1e-2 (float32 arithmetic). */
  eps?: number;
  /** Relative tolerance against the largest numerical gradient entry. Default 2e-2. */
  rtol?: number;
  /** Absolute tolerance. Default 1e-3. */
  atol?: number;
  /** Check at most this many entries per input (evenly spread). Default all. */
  maxEntries?: number;
}

/**
 * Central-difference gradient check of a scalar function of several tensors.
 *
 * Compares `tf.grads(f)` with `(f(x + eps·e_i) − f(x − eps·e_i)) / 2eps` for each checked entry
 * and throws on a mismatch. Returns the largest absolute difference per input.
 */
export function checkGradients(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[], options: GradCheckOptions = {}): number[] {
  const { eps = 1e-2, rtol = 2e-2, atol = 1e-3, maxEntries = Infinity } = options;
  const analytic = tf.tidy(() => tf.grads(f)(inputs).map((g) => g.dataSync().slice()));
  const worst: number[] = [];
  inputs.forEach((x, k) => {
    const base = x.dataSync().slice();
    const n = base.length;
    const step = n <= maxEntries ? 1 : Math.ceil(n / maxEntries);
    const numeric: number[] = [];
    const picked: number[] = [];
    for (let i = 0; i < n; i += step) {
      const evalAt = (delta: number): number =>
        tf.tidy(() => {
          const v = base.slice();
          v[i] = v[i]! + delta;
          const args = inputs.map((t, j) => (j === k ? tf.tensor(v, x.shape, x.dtype) : t));
          return f(...args).dataSync()[0]!;
        });
      numeric.push((evalAt(eps) - evalAt(-eps)) / (2 * eps));
      picked.push(analytic[k]![i]!);
    }
    worst.push(expectClose(picked, numeric, { rtol, atol, what: `gradient of input ${k}` }));
  });
  return worst;
}

/**
 * Runs `fn` once to warm up (caches, lazily created variables), then again, and throws if the
 * second run changed `tf.memory().numTensors`. Returns the tensor count.
 */
export async function expectNoLeaks(fn: () => unknown | Promise<unknown>, what = 'function'): Promise<number> {
  await disposeResult(await fn());
  const before = tf.memory().numTensors;
  await disposeResult(await fn());
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`${what} leaked ${after - before} tensor(s) (${before} → ${after})`);
  return after;
}

async function disposeResult(r: unknown): Promise<void> {
  tf.dispose(r as tf.TensorContainer);
}

/** A `describe`-like function (Vitest's, Jest's, Mocha's). */
export type DescribeFn = (name: string, fn: () => void) => void;
/** A `beforeAll`-like hook registration function. */
export type HookFn = (fn: () => unknown) => void;

/**
 * Declares one suite per backend (`name [cpu]`, `name [wasm]`) and activates the backend before
 * its tests. Use it for every op test.
 *
 * @example
 * ```ts
 * describeBackends(describe, beforeAll, 'pool', (backend) => {
 *   it('matches average pooling', () => { ... });
 * });
 * ```
 */
export function describeBackends(
  describe: DescribeFn,
  beforeAll: HookFn,
  name: string,
  body: (backend: BackendName) => void,
  backends: readonly BackendName[] = TEST_BACKENDS,
): void {
  for (const backend of backends) {
    describe(`${name} [${backend}]`, () => {
      beforeAll(async () => {
        await selectBackend({ backend });
      });
      body(backend);
    });
  }
}

/** Deterministic pseudo-random numbers (mulberry32) for test fixtures; no tfjs state involved. */
export function seededRandom(seed: number): () => number {
  return mulberry32(seed);
}

/** A tensor of uniform values in [lo, hi) from {@link seededRandom}. */
export function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const rnd = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rnd();
  return tf.tensor(v, shape);
}
