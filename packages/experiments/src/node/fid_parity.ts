/**
 * Parity of the tfjs FID Inception network with the reference PyTorch code (Node): reads a fixture
 * folder in the format of `disco-fid-inception-parity-fixture/1` (fixture.json, weights.json +
 * explicit.bin, cases/*.json|bin, batch.json|bin), rebuilds the network from the rule weights (or a
 * weights file), runs every case from its RGB bytes and compares every recorded array stage by
 * stage, end to end and from the stored output of the stage before; then the batch's pool3 and
 * logits end to end, and FID and IS from the stored features. Tolerances come from fixture.json.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readRuleStateDict } from '@disco/runtime/node';
import { frechetInceptionDistance } from '../metrics/fid.js';
import { FidInception, FID_INCEPTION_STAGES, type FidInceptionOptions, type FidInceptionStage } from '../metrics/fid_inception.js';
import { fidInceptionInput } from '../metrics/fid_preprocess.js';
import { inceptionScore, softmaxRows } from '../metrics/inception_score.js';
import { loadFidInceptionStateDict } from './fid_weights.js';

/** One tolerance of fixture.json: `relToMax` (max |Δ| ≤ tol·max |stored|), `maxAbs` or `rel`. */
export interface ParityTolerance {
  /** max |port − stored| ≤ relToMax · max |stored| over the array. */
  relToMax?: number;
  /** max |port − stored| ≤ maxAbs. */
  maxAbs?: number;
  /** |port − stored| ≤ rel · |stored| (scalars). */
  rel?: number;
}

/** An array of a case or batch file, as its index describes it. */
interface ArraySpec {
  name: string;
  dtype: 'float32' | 'uint8';
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

/** The parts of fixture.json the parity reads. */
interface FixtureIndex {
  format?: string;
  seed?: number;
  weights?: { index?: string; explicit?: string };
  cases: Array<{ name: string; index: string; data: string; stored?: string[] }>;
  batch?: { index: string; data: string; fid: number; inceptionScoreMean: number; inceptionScoreStd: number };
  tolerances: Record<string, ParityTolerance | string>;
}

/** One compared quantity. */
export interface ParityRow {
  /** Case name (`syn64x64`, …) or `batch`. */
  case: string;
  /** Stored array (`input299`, `after_maxpool2`, …, `softmax`) or scalar (`fid`, `inceptionScoreMean`, `inceptionScoreStd`). */
  stage: string;
  /** How the port's value was obtained: from the case's RGB bytes (`end-to-end`), from the stored output of the stage before (`from <stage>`), or from the stored features (`from stored pool3/logits`). */
  mode: string;
  /** max |port − stored|. */
  maxAbsDiff: number;
  /** mean |port − stored|. */
  meanAbsDiff: number;
  /** max |stored|. */
  maxAbsRef: number;
  /** The tolerance's kind (`relToMax`, `maxAbs`, `rel`). */
  measure: keyof ParityTolerance;
  /** The measured value the tolerance bounds (`maxAbsDiff / maxAbsRef` for relToMax). */
  value: number;
  /** The fixture's tolerance. */
  tolerance: number;
  /** value ≤ tolerance. */
  pass: boolean;
}

/** Everything {@link runFidInceptionParity} measured. */
export interface ParityReport {
  /** The fixture folder. */
  fixture: string;
  /** Where the weights came from (`rule (seed 0), 566 entries sha256-checked` or the file and its sha256). */
  weights: string;
  /** Every comparison. */
  rows: ParityRow[];
  /** Every row within tolerance. */
  pass: boolean;
  /** Seconds: weights, network runs, total. */
  seconds: { weights: number; network: number; total: number };
}

/** Options of {@link runFidInceptionParity}. */
export interface ParityOptions {
  /** A weights file (PyTorch state dict, `.pth`) instead of the fixture's rule weights. */
  weights?: string;
  /** An already built network (tests); takes precedence over `weights`. Not disposed. */
  network?: FidInception;
  /** Network options (BatchNorm folding, …) when the parity builds it. */
  networkOptions?: Partial<FidInceptionOptions>;
  /** Only these cases (default: every case of fixture.json); `[]` runs none. */
  cases?: readonly string[];
  /** Also compare each stage fed the stored output of the stage before (default true). */
  fromStored?: boolean;
  /** Run the batch (pool3 and logits end to end; FID and IS from the stored features). Default true. */
  batch?: boolean;
  /** Run the batch's 12 images through the network (default true; false checks FID/IS from the stored features only). */
  batchEndToEnd?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

function fail(msg: string): never {
  throw new Error(`parity: ${msg}`);
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    fail(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message.split('\n')[0]}`);
  }
}

/** Reads the arrays of a case or batch index from its binary file, by name. */
function readArrays(dir: string, indexFile: string, dataFile: string): { meta: Record<string, unknown>; arrays: Map<string, { spec: ArraySpec; data: Float32Array | Uint8Array }> } {
  const meta = readJson<Record<string, unknown> & { arrays?: ArraySpec[] }>(path.join(dir, indexFile));
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.join(dir, dataFile));
  } catch (e) {
    fail(`${path.join(dir, dataFile)}: ${(e as Error).message.split('\n')[0]}`);
  }
  const arrays = new Map<string, { spec: ArraySpec; data: Float32Array | Uint8Array }>();
  for (const a of meta.arrays ?? []) {
    const numel = a.shape.reduce((x, y) => x * y, 1);
    const size = a.dtype === 'float32' ? 4 : 1;
    if (a.byteLength !== numel * size || a.byteOffset + a.byteLength > bytes.length) fail(`${indexFile}: array '${a.name}' [${a.shape.join(', ')}] does not fit ${dataFile} (${bytes.length} bytes)`);
    const copy = bytes.subarray(a.byteOffset, a.byteOffset + a.byteLength);
    const data = a.dtype === 'float32' ? new Float32Array(new Uint8Array(copy).buffer) : new Uint8Array(copy);
    arrays.set(a.name, { spec: a, data });
  }
  return { meta, arrays };
}

/** NCHW `[n, c, h, w]` → NHWC. */
function nchwToNhwc(x: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n!; b++) for (let k = 0; k < c!; k++) for (let i = 0; i < h! * w!; i++) out[(b * h! * w! + i) * c! + k] = x[(b * c! + k) * h! * w! + i]!;
  return out;
}

/** NHWC `[n, h, w, c]` → NCHW. */
function nhwcToNchw(x: Float32Array | Int32Array | Uint8Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n!; b++) for (let k = 0; k < c!; k++) for (let i = 0; i < h! * w!; i++) out[(b * c! + k) * h! * w! + i] = x[(b * h! * w! + i) * c! + k]!;
  return out;
}

function tolerance(tols: FixtureIndex['tolerances'], name: string): { measure: keyof ParityTolerance; tol: number } {
  const t = tols[name];
  if (t === undefined || typeof t === 'string') fail(`fixture.json has no tolerance for '${name}'`);
  for (const m of ['relToMax', 'maxAbs', 'rel'] as const) if (typeof t[m] === 'number') return { measure: m, tol: t[m] };
  fail(`fixture.json: tolerance of '${name}' has none of relToMax, maxAbs, rel`);
}

function compare(caseName: string, stage: string, mode: string, port: ArrayLike<number>, ref: ArrayLike<number>, tols: FixtureIndex['tolerances']): ParityRow {
  if (port.length !== ref.length) fail(`${caseName} ${stage}: the port has ${port.length} values, the fixture ${ref.length}`);
  let maxAbsDiff = 0;
  let sum = 0;
  let maxAbsRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(port[i]! - ref[i]!);
    if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? NaN : Math.max(maxAbsDiff, d);
    sum += d;
    maxAbsRef = Math.max(maxAbsRef, Math.abs(ref[i]!));
  }
  const { measure, tol } = tolerance(tols, stage);
  const value = measure === 'relToMax' || measure === 'rel' ? maxAbsDiff / maxAbsRef : maxAbsDiff;
  return { case: caseName, stage, mode, maxAbsDiff, meanAbsDiff: sum / ref.length, maxAbsRef, measure, value, tolerance: tol, pass: value <= tol };
}

/** Network inputs `[n, 299, 299, 3]` from `n` RGB images stored `[n, h, w, 3]` (or `[h, w, 3]`). */
function inputsFromRgb(rgb: Uint8Array, shape: number[]): { data: Float32Array; n: number } {
  const [n, h, w] = shape.length === 4 ? shape : [1, ...shape];
  const per = h! * w! * 3;
  const data = new Float32Array(n! * 299 * 299 * 3);
  for (let b = 0; b < n!; b++) data.set(fidInceptionInput({ width: w!, height: h!, data: rgb.subarray(b * per, (b + 1) * per) }), b * 299 * 299 * 3);
  return { data, n: n! };
}

/** Values of a stage output as the fixture stores it (4-D outputs NHWC → NCHW). */
async function stored(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  return t.rank === 4 ? nhwcToNchw(v, t.shape) : v;
}

/**
 * Runs the parity of the tfjs FID Inception network with a fixture folder (see the module
 * comment). Rows: per case, `input299` from the RGB bytes, every stored stage end to end, and with
 * `fromStored` every stored stage fed the stored output of the closest stored stage before it; the
 * batch's `pool3` and `logits` end to end, `fid`, `inceptionScoreMean`, `inceptionScoreStd` from
 * the stored features (and from the port's features, mode `end-to-end`). Every tolerance is read
 * from fixture.json.
 *
 * @example
 * ```ts
 * const r = await runFidInceptionParity('test/fixtures/fid-inception');
 * process.stdout.write(formatParityTable(r)); // r.pass: every row within tolerance
 * ```
 */
export async function runFidInceptionParity(dir: string, options: ParityOptions = {}): Promise<ParityReport> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const fx = readJson<FixtureIndex>(path.join(dir, 'fixture.json'));
  if (!Array.isArray(fx.cases) || fx.tolerances === undefined) fail(`${path.join(dir, 'fixture.json')}: not a FID Inception parity fixture (needs cases and tolerances)`);
  let network = options.network;
  let weights: string;
  const tw = performance.now();
  if (network !== undefined) {
    weights = 'a network given by the caller';
  } else if (options.weights !== undefined) {
    const sd = await loadFidInceptionStateDict(options.weights);
    weights = `${options.weights} (sha256 ${sd.sha256.slice(0, 12)})`;
    network = FidInception.fromStateDict(sd.stateDict, options.networkOptions);
  } else {
    const sd = await readRuleStateDict(dir, { verify: true });
    weights = `rule weights of ${path.join(dir, 'weights.json')} (seed ${String(fx.seed)}), ${sd.size} entries, every sha256 checked`;
    network = FidInception.fromStateDict(sd, options.networkOptions);
  }
  const weightSeconds = (performance.now() - tw) / 1000;
  log(`weights: ${weights} (${weightSeconds.toFixed(1)} s)`);
  const rows: ParityRow[] = [];
  let netSeconds = 0;
  const timed = <T>(f: () => T): T => {
    const t = performance.now();
    const r = f();
    netSeconds += (performance.now() - t) / 1000;
    return r;
  };
  try {
    const wanted = options.cases;
    for (const c of fx.cases) {
      if (wanted !== undefined && !wanted.includes(c.name)) continue;
      const { arrays } = readArrays(dir, c.index, c.data);
      const rgb = arrays.get('rgb_in');
      if (rgb === undefined || rgb.spec.dtype !== 'uint8') fail(`${c.index}: no uint8 rgb_in`);
      const { data: input } = inputsFromRgb(rgb.data as Uint8Array, rgb.spec.shape);
      const storedStages = FID_INCEPTION_STAGES.filter((s) => arrays.has(s));
      const ref = (s: string) => arrays.get(s)!.data as Float32Array;
      if (arrays.has('input299')) rows.push(compare(c.name, 'input299', 'end-to-end', nhwcToNchw(input, [1, 299, 299, 3]), ref('input299'), fx.tolerances));
      const last = storedStages[storedStages.length - 1];
      if (last === undefined || last === 'input299') continue;
      // End to end: from the RGB bytes to the last stored stage, every stored stage compared.
      const x = tf.tensor4d(input, [1, 299, 299, 3]);
      const out = timed(() => network.run(x, 'input299', last));
      const ours: Partial<Record<FidInceptionStage, Float32Array>> = {};
      for (const s of storedStages) {
        if (s === 'input299') continue;
        ours[s] = await stored(out[s]!);
        rows.push(compare(c.name, s, 'end-to-end', ours[s], ref(s), fx.tolerances));
      }
      tf.dispose([x, ...Object.values(out)]);
      if (options.fromStored === false) continue;
      // From the stored input of each stage (the closest stored stage before it).
      for (let k = 1; k < storedStages.length; k++) {
        const s = storedStages[k]!;
        const p = storedStages[k - 1]!;
        const pin = ref(p);
        const pshape = arrays.get(p)!.spec.shape;
        const mode = `from stored ${p}`;
        if (p === 'input299' && rows.some((r) => r.case === c.name && r.stage === 'input299' && r.maxAbsDiff === 0)) {
          // Our input299 equals the stored one bit for bit: feeding it gives the end-to-end values.
          rows.push({ ...compare(c.name, s, mode, ours[s]!, ref(s), fx.tolerances) });
          continue;
        }
        const inT = pshape.length === 4 ? tf.tensor4d(nchwToNhwc(pin, pshape), [pshape[0]!, pshape[2]!, pshape[3]!, pshape[1]!]) : tf.tensor(pin, pshape);
        const res = timed(() => network.run(inT, p, s));
        rows.push(compare(c.name, s, mode, await stored(res[s]!), ref(s), fx.tolerances));
        tf.dispose([inT, ...Object.values(res)]);
      }
      log(`${c.name}: ${rows.filter((r) => r.case === c.name && r.pass).length}/${rows.filter((r) => r.case === c.name).length} within tolerance`);
    }
    if (options.batch !== false && fx.batch !== undefined) rows.push(...(await batchRows(dir, fx, network, options.batchEndToEnd !== false, timed)));
  } finally {
    if (options.network === undefined) network.dispose();
  }
  return { fixture: dir, weights, rows, pass: rows.every((r) => r.pass), seconds: { weights: weightSeconds, network: netSeconds, total: (performance.now() - t0) / 1000 } };
}

interface BatchMeta {
  fid?: { halves?: [number, number][] };
  inceptionScore?: { splits?: number; splitRanges?: [number, number][] };
}

/** FID between two row ranges and IS over splits of a feature/logit pair. */
function batchScores(pool3: Float32Array, logits: Float32Array, n: number, meta: BatchMeta): { fid: number; isMean: number; isStd: number } {
  const d = pool3.length / n;
  const classes = logits.length / n;
  const halves = meta.fid?.halves ?? [
    [0, Math.floor(n / 2)],
    [Math.floor(n / 2), n],
  ];
  const rowsOf = ([a, b]: [number, number]) => ({ rows: b - a, cols: d, data: pool3.subarray(a * d, b * d) });
  const fid = frechetInceptionDistance(rowsOf(halves[0]!), rowsOf(halves[1]!)).fid;
  // IS over the batch's split ranges as batch.json gives them (default: 10 splits ⌊kn/s⌋ … ⌊(k+1)n/s⌋):
  // each split's score is inceptionScore of its rows with one split; mean and population std.
  const splits = meta.inceptionScore?.splits ?? 10;
  const ranges = meta.inceptionScore?.splitRanges ?? Array.from({ length: splits }, (_, k): [number, number] => [Math.floor((k * n) / splits), Math.floor(((k + 1) * n) / splits)]);
  const probs = softmaxRows({ rows: n, cols: classes, data: logits });
  const scores = ranges.map(([a, b]) => inceptionScore({ rows: b - a, cols: classes, data: probs.subarray(a * classes, b * classes) }, { splits: 1 }).mean);
  const mean = scores.reduce((x, y) => x + y, 0) / scores.length;
  const is = { mean, std: Math.sqrt(scores.reduce((x, y) => x + (y - mean) ** 2, 0) / scores.length) };
  return { fid, isMean: is.mean, isStd: is.std };
}

async function batchRows(dir: string, fx: FixtureIndex, network: FidInception, endToEnd: boolean, timed: <T>(f: () => T) => T): Promise<ParityRow[]> {
  const b = fx.batch!;
  const { meta, arrays } = readArrays(dir, b.index, b.data);
  const get = (name: string) => {
    const a = arrays.get(name);
    if (a === undefined) fail(`${b.index}: no array '${name}'`);
    return a;
  };
  const rgb = get('rgb_in');
  const pool3 = get('pool3').data as Float32Array;
  const logits = get('logits').data as Float32Array;
  const n = rgb.spec.shape[0]!;
  const rows: ParityRow[] = [];
  const scalar = (stage: string, mode: string, v: number, ref: number) => compare('batch', stage, mode, [v], [ref], fx.tolerances);
  const s = batchScores(pool3, logits, n, meta as BatchMeta);
  const fromStored = 'from stored pool3/logits';
  rows.push(scalar('fid', fromStored, s.fid, b.fid), scalar('inceptionScoreMean', fromStored, s.isMean, b.inceptionScoreMean), scalar('inceptionScoreStd', fromStored, s.isStd, b.inceptionScoreStd));
  if (endToEnd) {
    const { data } = inputsFromRgb(rgb.data as Uint8Array, rgb.spec.shape);
    const x = tf.tensor4d(data, [n, 299, 299, 3]);
    const out = timed(() => network.predict(x));
    const p = (await out.pool3.data()) as Float32Array;
    const l = (await out.logits.data()) as Float32Array;
    tf.dispose([x, out.pool3, out.logits]);
    rows.push(compare('batch', 'pool3', 'end-to-end', p, pool3, fx.tolerances), compare('batch', 'logits', 'end-to-end', l, logits, fx.tolerances));
    const e = batchScores(p, l, n, meta as BatchMeta);
    rows.push(scalar('fid', 'end-to-end', e.fid, b.fid), scalar('inceptionScoreMean', 'end-to-end', e.isMean, b.inceptionScoreMean), scalar('inceptionScoreStd', 'end-to-end', e.isStd, b.inceptionScoreStd));
  }
  return rows;
}

/**
 * The parity report as a text table: case, stage, mode, max and mean |Δ|, the measured value
 * against the fixture's tolerance, pass/FAIL; a last line with the verdict.
 *
 * @example
 * ```ts
 * process.stdout.write(formatParityTable(await runFidInceptionParity(dir)));
 * ```
 */
export function formatParityTable(report: ParityReport): string {
  const head = ['case', 'stage', 'mode', 'max |Δ|', 'mean |Δ|', 'max |ref|', 'measured', 'tolerance', ''];
  const e = (v: number) => (v === 0 ? '0' : v.toExponential(2));
  const body = report.rows.map((r) => [r.case, r.stage, r.mode, e(r.maxAbsDiff), e(r.meanAbsDiff), r.maxAbsRef.toPrecision(4), e(r.value), `${r.measure} ${e(r.tolerance)}`, r.pass ? 'pass' : 'FAIL']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 3 && i <= 7 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  const failed = report.rows.filter((r) => !r.pass).length;
  return [
    `weights: ${report.weights}`,
    line(head),
    ...body.map(line),
    report.pass ? `PASS: all ${report.rows.length} comparisons within the fixture's tolerances` : `FAIL: ${failed} of ${report.rows.length} comparisons outside the fixture's tolerances`,
    '',
  ].join('\n');
}
