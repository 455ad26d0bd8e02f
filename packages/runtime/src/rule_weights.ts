/**
 * Weights given by a seeded rule instead of stored numbers (format `disco-weights-rule/1`): the
 * parity fixtures of the published DISCO model and of the FID Inception network define every
 * parameter as `Math.fround(offset + scale · (2u − 1))` over a window of one mulberry32 stream, and
 * store only the buffers no rule can give (BatchNorm statistics, spectral-norm vectors) in an
 * explicit little-endian float32 file. Regenerating them gives a PyTorch state dict (official key
 * names, PyTorch layouts) without shipping hundreds of megabytes.
 */
import { uniformDraws } from '@disco/random';

/**
 * One tensor of a PyTorch state dict: its key, PyTorch shape (row-major) and dtype, and its values
 * as float32. The checkpoint reader's tensors (`@disco/pth`) have the same shape, so code that
 * converts a state dict takes either.
 */
export interface StateTensor {
  /** The state-dict key, e.g. `repnet.conv1_2.0.weight_orig`. */
  readonly key: string;
  /** PyTorch shape, row-major (`[]` for a scalar). */
  readonly shape: readonly number[];
  /** Element type of the source. */
  readonly dtype: 'float32' | 'int64';
  /** The values in row-major order of `shape`, as float32 (a fresh array). */
  toFloat32(): Float32Array;
}

/** One entry of a rule index (`weights.json` `entries`); fields the regenerator reads. */
interface RuleEntry {
  key: string;
  shape: number[];
  dtype: 'float32' | 'int64';
  numel: number;
  kind: 'rule' | 'explicit' | 'zero';
  drawOffset?: number;
  offset?: number;
  scale?: number;
  byteOffset?: number;
  byteLength?: number;
  sha256?: string;
}

/** A {@link StateTensor} regenerated from a rule index; `bytes` holds its little-endian value (float32, or int64 zeros). */
export interface RuleStateTensor extends StateTensor {
  /** The value as little-endian bytes, as hashed by the index's `sha256` field. */
  readonly bytes: Uint8Array;
  /** The index's sha256 of {@link bytes} (hex), when given. */
  readonly sha256: string | undefined;
}

function fail(message: string): never {
  throw new Error(`ruleStateDict: ${message}`);
}

function entriesOf(index: unknown): RuleEntry[] {
  const o = index as { format?: unknown; seed?: unknown; entries?: unknown };
  if (o === null || typeof o !== 'object' || !Array.isArray(o.entries)) fail('the index has no `entries` array (not a weights.json of format disco-weights-rule/1)');
  if (o.format !== undefined && o.format !== 'disco-weights-rule/1') fail(`unsupported index format '${String(o.format)}' (expected disco-weights-rule/1)`);
  return o.entries as RuleEntry[];
}

function floatTensor(key: string, shape: number[], values: Float32Array, sha256: string | undefined): RuleStateTensor {
  return {
    key,
    shape,
    dtype: 'float32',
    sha256,
    bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    toFloat32: () => values.slice(),
  };
}

/**
 * Regenerates the state dict a rule index defines (see the fixtures' README, section 1): each
 * `rule` entry takes `numel` draws of the mulberry32 stream of the index's `seed`, starting at its
 * `drawOffset`, one per element in row-major order, `value = Math.fround(offset + scale·(2u − 1))`
 * computed in float64 and rounded once; each `explicit` entry is read from `explicit` at its
 * `byteOffset`; each `zero` entry is an int64 zero tensor. Keys in index order. The values are not
 * checked against the index's sha256 here (hashing is asynchronous in browsers): see
 * `readRuleStateDict` in `@disco/runtime/node`, which does.
 *
 * @param index The parsed `weights.json`: `{ seed, entries: [{ key, shape, dtype, numel, kind, … }] }`.
 * @param explicit The bytes of `explicit.bin` (little-endian float32).
 * @returns Tensors by key, in index order.
 *
 * @example
 * ```ts
 * const sd = ruleStateDict(JSON.parse(weightsJson), explicitBytes);
 * sd.get('segnet.net.conv0a.0.weight')!.shape; // [16, 1, 3, 3]
 * ```
 */
export function ruleStateDict(index: unknown, explicit: Uint8Array): Map<string, RuleStateTensor> {
  const entries = entriesOf(index);
  const seed = (index as { seed?: unknown }).seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) fail(`the index's seed must be an integer (got ${String(seed)})`);
  const view = new DataView(explicit.buffer, explicit.byteOffset, explicit.byteLength);
  const out = new Map<string, RuleStateTensor>();
  for (const e of entries) {
    const numel = e.shape.reduce((a, b) => a * b, 1);
    if (numel !== e.numel) fail(`entry '${e.key}': numel ${e.numel} does not match its shape [${e.shape}]`);
    if (out.has(e.key)) fail(`entry '${e.key}' appears twice`);
    if (e.kind === 'rule') {
      if (e.dtype !== 'float32') fail(`entry '${e.key}': a rule entry must be float32 (got ${e.dtype})`);
      const { drawOffset, offset, scale } = e;
      if (!Number.isSafeInteger(drawOffset) || typeof offset !== 'number' || typeof scale !== 'number') fail(`entry '${e.key}': a rule entry needs drawOffset, offset and scale`);
      const u = uniformDraws(seed, drawOffset!, numel);
      const v = new Float32Array(numel);
      for (let i = 0; i < numel; i++) v[i] = offset + scale * (2 * u[i]! - 1); // float64, one rounding on store
      out.set(e.key, floatTensor(e.key, e.shape, v, e.sha256));
    } else if (e.kind === 'explicit') {
      const { byteOffset, byteLength } = e;
      if (!Number.isSafeInteger(byteOffset) || byteLength !== 4 * numel) fail(`entry '${e.key}': an explicit entry needs byteOffset and byteLength = 4·numel`);
      if (byteOffset! + byteLength! > explicit.byteLength) fail(`entry '${e.key}': bytes ${byteOffset}–${byteOffset! + byteLength!} lie beyond the explicit file (${explicit.byteLength} bytes)`);
      const v = new Float32Array(numel);
      for (let i = 0; i < numel; i++) v[i] = view.getFloat32(byteOffset! + 4 * i, true);
      out.set(e.key, floatTensor(e.key, e.shape, v, e.sha256));
    } else if (e.kind === 'zero') {
      const bytes = new Uint8Array((e.dtype === 'int64' ? 8 : 4) * numel);
      out.set(e.key, { key: e.key, shape: e.shape, dtype: e.dtype, sha256: e.sha256, bytes, toFloat32: () => new Float32Array(numel) });
    } else {
      fail(`entry '${e.key}': unknown kind '${String((e as { kind: unknown }).kind)}'`);
    }
  }
  return out;
}
