/**
 * Parity with the published DISCO model: reads a fixture folder made by running the authors'
 * PyTorch inference path (format `disco-official-parity-fixture/1`: `fixture.json`,
 * `weights.json` + `explicit.bin`, `cases/<case>.json` + `.bin`), runs this model on every case's
 * recorded input with the recorded k-means start, and compares every recorded stage: fed the
 * stored input of that stage (`stage` rows, which localise a mismatch) and chained from the input
 * alone (`chain` rows, what a user gets). Tolerances come from the fixture.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { kmeansPublished } from '@disco/anchors';
import { superpixelSizes } from '@disco/superpixel';
import { normalizedLabToRgb, NUM_AB_BINS } from '@disco/color';
import { readRuleStateDict } from '@disco/runtime/node';
import type { DiscoModel } from '../model/disco.js';
import { OFFICIAL_CONFIG, officialModel } from '../model/official.js';

/** One recorded array of a case, in the reference's layout. */
export interface FixtureArray {
  /** Array name, e.g. `modeler_logits`. */
  name: string;
  /** Element type. */
  dtype: 'float32' | 'int32' | 'uint8';
  /** Shape in the reference's layout (NCHW maps, sequence-first tokens). */
  shape: number[];
  /** The values, row-major. */
  data: Float32Array | Int32Array | Uint8Array;
  /** Which variants T the leading (or batch) axis holds, for per-variant arrays. */
  variants: number[] | null;
}

/** One case of a fixture: an image and everything recorded for it. */
export interface ParityCase {
  /** Case name, e.g. `syn256x256`. */
  name: string;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Token grid h × w. */
  grid: [number, number];
  /** Recorded arrays by name. */
  arrays: Map<string, FixtureArray>;
  /**
   * Tokens whose bin is decided by float rounding in the reference (not compared there): exact
   * Lab-distance ties of T = 1 / T = 2, and probability ties among the 11 most probable bins (all T).
   */
  exactTies: { T1: number[]; T2: number[]; rank: number[] };
}

/** A tolerance of the fixture: absolute bounds, or a rule in words for discrete or special arrays. */
export type ParityTolerance = { maxAbs: number; meanAbs?: number } | string;

/** A fixture folder, read and checked. */
export interface ParityFixture {
  /** The folder. */
  dir: string;
  /** Tolerances by array name (`fixture.json` `tolerances`). */
  tolerances: Record<string, ParityTolerance>;
  /** Number of anchors K of the recorded configuration. */
  anchors: number;
  /** The cases, in the fixture's order. */
  cases: ParityCase[];
}

/** One compared stage. */
export interface ParityRow {
  /** Case name. */
  case: string;
  /** Recorded array compared. */
  stage: string;
  /** Variant T for per-variant arrays, else null. */
  variant: number | null;
  /** `stage`: fed the stored input of this stage; `chain`: computed from the input alone. */
  mode: 'stage' | 'chain';
  /** Largest absolute difference (continuous arrays; bytes for `rgb_out`). */
  maxAbs: number | null;
  /** Mean absolute difference. */
  meanAbs: number | null;
  /** Differing entries of a discrete array (bins, assignments, mask). */
  mismatches: number | null;
  /** The bound applied, in words. */
  tolerance: string;
  /** Whether the stage is within its tolerance. */
  pass: boolean;
}

function fail(dir: string, why: string): never {
  throw new Error(`${dir}: ${why}`);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * Reads a parity fixture folder: `fixture.json` (its `files` sizes and sha256 are checked, so a
 * damaged copy fails with one line naming the file), the tolerances and every case's arrays.
 *
 * @param dir A folder in the format of the published-DISCO parity fixture.
 *
 * @example
 * ```ts
 * const fixture = await readParityFixture('test/fixtures/official-disco');
 * fixture.cases.map((c) => c.name); // ['syn64x64', 'syn96x80', 'syn128x192', 'syn256x256']
 * ```
 */
export async function readParityFixture(dir: string): Promise<ParityFixture> {
  const index = (await readJson(path.join(dir, 'fixture.json'))) as {
    format?: string;
    tolerances?: Record<string, ParityTolerance>;
    configuration?: { n_clusters?: number };
    cases?: { name: string; index: string; data: string }[];
    files?: Record<string, { bytes: number; sha256: string }>;
  };
  if (!index || typeof index !== 'object' || !Array.isArray(index.cases)) fail(path.join(dir, 'fixture.json'), "no 'cases' list (not a DISCO parity fixture)");
  if (index.format !== undefined && !String(index.format).startsWith('disco-official-parity-fixture/')) fail(path.join(dir, 'fixture.json'), `unsupported format '${index.format}'`);
  for (const [name, info] of Object.entries(index.files ?? {})) {
    const file = path.join(dir, name);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      fail(file, 'missing (listed in fixture.json)');
    }
    if (bytes.length !== info.bytes) fail(file, `${bytes.length} bytes, fixture.json lists ${info.bytes}`);
    if (createHash('sha256').update(bytes).digest('hex') !== info.sha256) fail(file, 'sha256 differs from fixture.json (damaged or edited)');
  }
  const cases: ParityCase[] = [];
  for (const c of index.cases!) {
    const jsonFile = path.join(dir, c.index);
    const meta = (await readJson(jsonFile)) as {
      name: string;
      height: number;
      width: number;
      tokenGrid: [number, number];
      checks?: { exactTies?: { T1?: { tokens?: number[] }; T2?: { tokens?: number[] }; rankTiesInTop11?: { tokens?: number[] } } };
      arrays: { name: string; dtype: FixtureArray['dtype']; shape: number[]; byteOffset: number; byteLength: number; variants?: number[] }[];
    };
    const bin = await readFile(path.join(dir, c.data));
    const arrays = new Map<string, FixtureArray>();
    for (const a of meta.arrays) {
      if (a.byteOffset + a.byteLength > bin.length) fail(path.join(dir, c.data), `array '${a.name}' lies beyond the end of the file`);
      const buf = bin.buffer.slice(bin.byteOffset + a.byteOffset, bin.byteOffset + a.byteOffset + a.byteLength);
      const data = a.dtype === 'float32' ? new Float32Array(buf) : a.dtype === 'int32' ? new Int32Array(buf) : a.dtype === 'uint8' ? new Uint8Array(buf) : fail(jsonFile, `array '${a.name}': unsupported dtype '${String(a.dtype)}'`);
      if (data.length !== a.shape.reduce((x, y) => x * y, 1)) fail(jsonFile, `array '${a.name}': ${data.length} values for shape [${a.shape}]`);
      arrays.set(a.name, { name: a.name, dtype: a.dtype, shape: a.shape, data, variants: a.variants ?? null });
    }
    const ties = meta.checks?.exactTies;
    cases.push({ name: meta.name, height: meta.height, width: meta.width, grid: meta.tokenGrid, arrays, exactTies: { T1: ties?.T1?.tokens ?? [], T2: ties?.T2?.tokens ?? [], rank: ties?.rankTiesInTop11?.tokens ?? [] } });
  }
  return { dir, tolerances: index.tolerances ?? {}, anchors: index.configuration?.n_clusters ?? OFFICIAL_CONFIG.anchors, cases };
}

/**
 * The published model with a fixture's weights, regenerated from its rule (`weights.json` +
 * `explicit.bin`, each entry's sha256 checked) and converted by {@link officialToNamedWeights},
 * the path every user's checkpoint takes (a checkpoint file goes through `loadDiscoModel`).
 *
 * @param dir The fixture folder.
 */
export async function parityModel(dir: string): Promise<DiscoModel> {
  return officialModel(await readRuleStateDict(dir), path.join(dir, 'weights.json'));
}

/** Gives the event loop a turn. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Max and mean |a − b| over two equally long arrays. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; meanAbs: number } {
  if (a.length !== b.length) throw new Error(`parity: comparing ${a.length} values with ${b.length}`);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
    sum += d;
  }
  return { maxAbs: max, meanAbs: a.length ? sum / a.length : 0 };
}

/** `data[t]` of an array whose leading axis holds the variants `variants` (null if T is not stored). */
function leading(a: FixtureArray, T: number): Float32Array | Int32Array | Uint8Array | null {
  const i = (a.variants ?? [0]).indexOf(T);
  if (i < 0) return null;
  const n = a.data.length / a.shape[0]!;
  return a.data.subarray(i * n, (i + 1) * n);
}

/** Column T of a sequence-first `[n, T, C]` array, as `[n, C]` (null if T is not stored). */
function column(a: FixtureArray, T: number): Float32Array | null {
  const i = (a.variants ?? [0]).indexOf(T);
  if (i < 0) return null;
  const [n, Tn, C] = a.shape as [number, number, number];
  const out = new Float32Array(n * C);
  for (let t = 0; t < n; t++) out.set((a.data as Float32Array).subarray((t * Tn + i) * C, (t * Tn + i + 1) * C), t * C);
  return out;
}

/** An NHWC tensor's values in NCHW order. */
function nchw(x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
}

/**
 * Runs the model on every case of a fixture and compares every recorded stage (see the module
 * comment): the tensors, the k-means clusters and centres, the anchors, the anchor bins of T = 0, 1, 2
 * (exact; every token except the fixture's listed exact ties), the generator, the refinement
 * before its tanh, ab, and the output bytes (truncated as the reference writes them).
 *
 * @param model The published model, e.g. from {@link parityModel}.
 * @param fixture From {@link readParityFixture}.
 * @param options `onRow`: called with each row as it is computed (progress).
 * @returns One row per case, stage, variant and mode. The event loop gets a turn between
 *   stages (a 256² case takes tens of seconds), so progress and timers keep running.
 */
export async function runParity(model: DiscoModel, fixture: ParityFixture, options: { onRow?: (row: ParityRow) => void } = {}): Promise<ParityRow[]> {
  const rows: ParityRow[] = [];
  const tol = (stage: string): ParityTolerance => fixture.tolerances[stage] ?? 'exact';
  const push = (row: ParityRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  const numeric = (c: ParityCase, stage: string, variant: number | null, mode: ParityRow['mode'], ours: ArrayLike<number>, theirs: ArrayLike<number>) => {
    const t = tol(stage);
    const { maxAbs, meanAbs } = diff(ours, theirs);
    let pass: boolean;
    let words: string;
    if (typeof t === 'object') {
      pass = maxAbs <= t.maxAbs && (t.meanAbs === undefined || meanAbs <= t.meanAbs);
      words = `max ≤ ${t.maxAbs}${t.meanAbs !== undefined ? `, mean ≤ ${t.meanAbs}` : ''}`;
    } else {
      // rgb_out: ±1 per byte (truncation after the float conversion).
      pass = maxAbs <= 1;
      words = '±1 per byte';
    }
    push({ case: c.name, stage, variant, mode, maxAbs, meanAbs, mismatches: null, tolerance: words, pass });
  };
  const discrete = (c: ParityCase, stage: string, variant: number | null, mode: ParityRow['mode'], ours: ArrayLike<number>, theirs: ArrayLike<number>, skip: ReadonlySet<number> = new Set()) => {
    let mismatches = 0;
    for (let i = 0; i < theirs.length; i++) if (!skip.has(i) && ours[i] !== theirs[i]) mismatches++;
    push({ case: c.name, stage, variant, mode, maxAbs: null, meanAbs: null, mismatches, tolerance: skip.size ? `exact (${skip.size} listed ties skipped)` : 'exact', pass: mismatches === 0 });
  };

  for (const c of fixture.cases) {
    const A = (name: string): FixtureArray => c.arrays.get(name) ?? fail(fixture.dir, `case ${c.name} has no array '${name}'`);
    const { height: H, width: W } = c;
    const [h, w] = c.grid;
    const n = h * w;
    const d = model.config.backbone.outChannels;
    const K = fixture.anchors;
    const variants = A('anchor_bins').variants ?? [0];
    const init = [Array.from(A('kmeans_init_idx').data)];
    const allTokens = tf.tensor2d(Int32Array.from({ length: n }, (_, i) => i), [1, n], 'int32');
    const L = tf.tensor4d(A('input_L').data as Float32Array, [1, H, W, 1]);
    const storedAffinity = tf.tidy(() => tf.transpose(tf.tensor4d(A('affinity').data as Float32Array, [1, 9, H, W]), [0, 2, 3, 1]) as tf.Tensor4D);
    const storedTokens = tf.tensor3d(A('tokens').data as Float32Array, [1, n, d]);
    const storedSizes = tf.tensor4d(A('spixel_sizes').data as Float32Array, [1, h, w, 1]);
    const storedFeats = tf.tensor4d(A('modeler_feats').data as Float32Array, [1, h, w, d]);
    const storedLogits = tf.tidy(() => tf.reshape(tf.transpose(tf.tensor4d(A('modeler_logits').data as Float32Array, [1, NUM_AB_BINS, h, w]), [0, 2, 3, 1]), [1, n, NUM_AB_BINS]) as tf.Tensor3D);
    const storedMask = tf.tensor4d(Float32Array.from(A('anchor_mask').data), [1, h, w, 1]);
    const ties = (T: number) => new Set([...c.exactTies.rank, ...(T === 1 ? c.exactTies.T1 : T === 2 ? c.exactTies.T2 : [])]);
    const onehot = (bins: ArrayLike<number>) => tf.tidy(() => tf.reshape(tf.oneHot(tf.tensor1d(Int32Array.from(bins), 'int32'), NUM_AB_BINS), [1, h, w, NUM_AB_BINS]) as tf.Tensor4D);
    const rgbBytes = (ab: tf.Tensor4D) => tf.tidy(() => tf.floor(tf.mul(tf.clipByValue(normalizedLabToRgb(L, ab), 0, 1), 255)).dataSync());

    // ---- stage by stage: each stage from the stored input of that stage ----
    const sizes = superpixelSizes(storedAffinity, model.config.cellSize);
    discrete(c, 'spixel_sizes', null, 'stage', Array.from(sizes.dataSync(), (v) => Math.round(v * 256)), Array.from(A('spixel_sizes').data, (v) => Math.round(v * 256)));
    sizes.dispose();
    const tok = model.tokens(L, storedAffinity);
    numeric(c, 'tokens', null, 'stage', tok.dataSync(), A('tokens').data);
    tok.dispose();
    numeric(c, 'pos', null, 'stage', model.position(h, w).dataSync(), A('pos').data);
    const mod = model.modelColors(storedTokens, h, w);
    numeric(c, 'modeler_feats', null, 'stage', mod.features.dataSync(), A('modeler_feats').data);
    numeric(c, 'modeler_logits', null, 'stage', nchw(mod.logits), A('modeler_logits').data);
    tf.dispose([mod.features, mod.logits]);
    const loc = model.locate(storedFeats, storedSizes, { k: K, kmeansInit: init });
    discrete(c, 'kmeans_assign', null, 'stage', loc.assignments!.dataSync(), A('kmeans_assign').data);
    if (model.extensions.anchorRules === 'published') {
      // The centres after the last update (the locator keeps only the assignments).
      const km = kmeansPublished(tf.reshape(storedFeats, [1, n, d]) as tf.Tensor3D, { k: K }, init);
      numeric(c, 'kmeans_centers', null, 'stage', km.centroids.dataSync(), A('kmeans_centers').data);
      tf.dispose([km.assignments, km.centroids]);
    }
    discrete(c, 'anchor_mask', null, 'stage', loc.mask.dataSync(), A('anchor_mask').data);
    tf.dispose([loc.indices, loc.mask, loc.assignments!]);
    for (const T of variants) {
      await turn();
      const bins = model.sampleColors(storedLogits, allTokens, T as 0 | 1 | 2);
      discrete(c, 'anchor_bins', T, 'stage', bins.dataSync(), leading(A('anchor_bins'), T)!, ties(T));
      bins.dispose();
      const storedBins = leading(A('anchor_bins'), T)!;
      const hint = onehot(storedBins);
      const gin = column(A('generator_in'), T);
      if (gin) {
        const x = model.embedHints(storedTokens, storedMask, hint);
        numeric(c, 'generator_in', T, 'stage', x.dataSync(), gin);
        x.dispose();
        const gen = model.generate(storedTokens, storedMask, hint);
        numeric(c, 'generator_feats', T, 'stage', gen.features.dataSync(), column(A('generator_feats'), T)!);
        numeric(c, 'generator_logits', T, 'stage', nchw(gen.logits), leading(A('generator_logits'), T)!);
        tf.dispose([gen.features, gen.logits]);
        const stored = { features: tf.tensor3d(column(A('generator_feats'), T)!, [1, n, d]), logits: tf.tidy(() => tf.transpose(tf.tensor4d(leading(A('generator_logits'), T) as Float32Array, [1, NUM_AB_BINS, h, w]), [0, 2, 3, 1]) as tf.Tensor4D) };
        const pre = model.decode(L, storedAffinity, stored, { preactivation: true });
        numeric(c, 'refine_preact', T, 'stage', nchw(pre), leading(A('refine_preact'), T)!);
        const ab = model.decode(L, storedAffinity, stored);
        numeric(c, 'ab', T, 'stage', nchw(ab), leading(A('ab'), T)!);
        tf.dispose([pre, ab, stored.features, stored.logits]);
      }
      hint.dispose();
    }

    // ---- chained: from input_L alone (and the recorded k-means start) ----
    await turn();
    const assoc = model.superpixels(L);
    numeric(c, 'affinity', null, 'chain', nchw(assoc), A('affinity').data);
    const tokens4 = model.tokens(L, assoc);
    const tokens = tf.reshape(tokens4, [1, n, d]) as tf.Tensor3D;
    numeric(c, 'tokens', null, 'chain', tokens.dataSync(), A('tokens').data);
    const modeled = model.modelColors(tokens, h, w);
    numeric(c, 'modeler_feats', null, 'chain', modeled.features.dataSync(), A('modeler_feats').data);
    numeric(c, 'modeler_logits', null, 'chain', nchw(modeled.logits), A('modeler_logits').data);
    const ownSizes = superpixelSizes(assoc, model.config.cellSize) as tf.Tensor4D;
    const feats4 = tf.reshape(modeled.features, [1, h, w, d]) as tf.Tensor4D;
    const located = model.locate(feats4, ownSizes, { k: K, kmeansInit: init });
    discrete(c, 'kmeans_assign', null, 'chain', located.assignments!.dataSync(), A('kmeans_assign').data);
    discrete(c, 'anchor_mask', null, 'chain', located.mask.dataSync(), A('anchor_mask').data);
    const logits3 = tf.reshape(modeled.logits, [1, n, NUM_AB_BINS]) as tf.Tensor3D;
    for (const T of variants) {
      await turn();
      const bins = model.sampleColors(logits3, allTokens, T as 0 | 1 | 2);
      const binData = bins.dataSync();
      discrete(c, 'anchor_bins', T, 'chain', binData, leading(A('anchor_bins'), T)!, ties(T));
      const hint = onehot(binData);
      bins.dispose();
      const gen = model.generate(tokens, located.mask, hint);
      const genFeats = column(A('generator_feats'), T);
      if (genFeats) {
        numeric(c, 'generator_feats', T, 'chain', gen.features.dataSync(), genFeats);
        numeric(c, 'generator_logits', T, 'chain', nchw(gen.logits), leading(A('generator_logits'), T)!);
      }
      const ab = model.decode(L, assoc, gen);
      numeric(c, 'ab', T, 'chain', nchw(ab), leading(A('ab'), T)!);
      const rgb = leading(A('rgb_out'), T);
      if (rgb) numeric(c, 'rgb_out', T, 'chain', rgbBytes(ab), rgb);
      tf.dispose([hint, gen.features, gen.logits, ab]);
    }
    tf.dispose([assoc, tokens4, tokens, modeled.features, modeled.logits, ownSizes, feats4, logits3, located.indices, located.mask, located.assignments!]);
    tf.dispose([allTokens, L, storedAffinity, storedTokens, storedSizes, storedFeats, storedLogits, storedMask]);
  }
  return rows;
}

/**
 * The parity rows as a Markdown table (case, stage, T, mode, max |Δ|, mean |Δ| or mismatches,
 * tolerance, pass), one line each.
 *
 * @example
 * ```ts
 * console.log(formatParityTable(await runParity(model, fixture)));
 * ```
 */
export function formatParityTable(rows: readonly ParityRow[]): string {
  const num = (v: number | null) => (v === null ? '' : v === 0 ? '0' : v.toExponential(2));
  const lines = ['| case | stage | T | mode | max abs diff | mean abs diff / mismatches | tolerance | pass |', '|---|---|---|---|---:|---:|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.case} | ${r.stage} | ${r.variant ?? ''} | ${r.mode} | ${num(r.maxAbs)} | ${r.mismatches !== null ? `${r.mismatches} differ` : num(r.meanAbs)} | ${r.tolerance} | ${r.pass ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}
