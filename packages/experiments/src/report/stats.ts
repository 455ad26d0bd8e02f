/**
 * Statistics of the ablation report: mean ± sample standard deviation over seeds, the difference
 * of each variant to the base with a 95 % interval (Welch's t interval by default, a paired t or
 * a percentile bootstrap on request), and a verdict per paper claim. Pure float64, browser-safe.
 *
 * References: Welch, "The generalization of 'Student's' problem when several different population
 * variances are involved", Biometrika 1947 (the interval and its Welch–Satterthwaite degrees of
 * freedom); Efron & Tibshirani, "An Introduction to the Bootstrap", 1993 (percentile interval).
 * The t and normal distributions are stdlib's (`@stdlib/stats-base-dists-*`).
 */
import normalQuantileOf from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { METRICS, type Ablation, type GridResults, type MetricKey, type PaperExpectation, type RunResult } from '../ablation/types.js';
import { mulberry32 } from '@disco/random';

// ---------------------------------------------------------------------------------------------
// Student's t distribution
// ---------------------------------------------------------------------------------------------

/** P(T ≤ t) for Student's t with `df` > 0 degrees of freedom (df need not be an integer). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf: df must be > 0 (got ${df})`);
  return tCdf(t, df);
}

/**
 * The p-quantile of Student's t with `df` > 0 degrees of freedom (non-integer df allowed, as
 * Welch's interval needs): the t with P(T ≤ t) = p. `df = Infinity` gives the normal quantile.
 *
 * @example studentTQuantile(0.975, 2) // 4.302652729…
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1) (got ${p})`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0 (got ${df})`);
  if (!Number.isFinite(df)) return normalQuantile(p);
  return tQuantile(p, df);
}

/** Standard normal quantile: the x with Φ(x) = p. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1) (got ${p})`);
  return normalQuantileOf(p, 0, 1);
}

// ---------------------------------------------------------------------------------------------
// Summaries and intervals
// ---------------------------------------------------------------------------------------------

/** Mean and sample standard deviation of one variant's per-seed values. */
export interface Summary {
  /** Number of values (seeds). */
  n: number;
  /** Arithmetic mean (NaN when n = 0). */
  mean: number;
  /** Sample standard deviation (divisor n − 1); `null` when n < 2. */
  std: number | null;
  /** The values, in seed order. */
  values: number[];
}

/** Mean ± sample std of `values` (non-finite values are an error: a metric is absent, never NaN). */
export function summarize(values: readonly number[]): Summary {
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`summarize: non-finite value ${v}`);
  const n = values.length;
  const mean = n ? values.reduce((s, v) => s + v, 0) / n : NaN;
  const std = n >= 2 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : null;
  return { n, mean, std, values: [...values] };
}

/** How the interval of a difference is computed. */
export type IntervalMethod = 'welch' | 'paired' | 'bootstrap';

/** The difference variant − base of one metric, with its interval. */
export interface Difference {
  /** mean(variant) − mean(base) (for `paired`: the mean of the per-seed differences over the shared seeds). */
  delta: number;
  /** Lower and upper end of the interval; `null` when too few seeds for one. */
  lo: number | null;
  /** Upper end of the interval; `null` when too few seeds for one. */
  hi: number | null;
  /** Confidence level of the interval (0.95). */
  level: number;
  /** How the interval was computed. */
  method: IntervalMethod;
  /** Degrees of freedom of the t interval (Welch–Satterthwaite, or pairs − 1); `null` for the bootstrap or without an interval. */
  df: number | null;
  /** Seeds of the variant and of the base that entered (for `paired`: the shared seeds, twice). */
  n: [number, number];
  /** Why there is no interval, when there is none. */
  note?: string;
}

/** Options of the difference intervals. */
export interface IntervalOptions {
  /** Default `'welch'`. `'paired'` pairs runs by seed (the seed fixes the stage-1 network and data order, so pairs share variance). */
  method?: IntervalMethod;
  /** Confidence level, default 0.95. */
  level?: number;
  /** Bootstrap resamples, default 10 000. */
  resamples?: number;
  /** Bootstrap seed, default 0. */
  seed?: number;
}

/**
 * Welch's t interval for mean(a) − mean(b): `Δ ± t_{(1+level)/2, ν} · se` with
 * `se² = s_a²/n_a + s_b²/n_b` and `ν = se⁴ / ((s_a²/n_a)²/(n_a−1) + (s_b²/n_b)²/(n_b−1))`.
 * No interval when either side has fewer than 2 values. When both samples have zero spread the
 * interval is the point `[Δ, Δ]` with ν = n_a + n_b − 2 (no variance was observed).
 */
export function welchInterval(a: readonly number[], b: readonly number[], level = 0.95): Difference {
  const sa = summarize(a);
  const sb = summarize(b);
  const delta = sa.mean - sb.mean;
  const base = { delta, level, method: 'welch' as const, n: [sa.n, sb.n] as [number, number] };
  if (sa.n < 2 || sb.n < 2) return { ...base, lo: null, hi: null, df: null, note: `n = ${sa.n} vs ${sb.n}: at least 2 seeds per side are needed for an interval` };
  const va = sa.std! ** 2 / sa.n;
  const vb = sb.std! ** 2 / sb.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { ...base, lo: delta, hi: delta, df: sa.n + sb.n - 2, note: 'no spread over seeds on either side' };
  const df = (va + vb) ** 2 / (va ** 2 / (sa.n - 1) + vb ** 2 / (sb.n - 1));
  const h = studentTQuantile((1 + level) / 2, df) * se;
  return { ...base, lo: delta - h, hi: delta + h, df };
}

/**
 * Paired t interval over the seeds both sides share: `d̄ ± t_{(1+level)/2, m−1} · s_d / √m` for
 * the per-seed differences `d = a[seed] − b[seed]`. No interval with fewer than 2 shared seeds.
 */
export function pairedInterval(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>, level = 0.95): Difference {
  const d: number[] = [];
  for (const [seed, v] of [...a].sort((x, y) => x[0] - y[0])) if (b.has(seed)) d.push(v - b.get(seed)!);
  const s = summarize(d);
  const base = { delta: s.mean, level, method: 'paired' as const, n: [s.n, s.n] as [number, number] };
  if (s.n < 2) return { ...base, lo: null, hi: null, df: null, note: `${s.n} shared seed(s): at least 2 pairs are needed for an interval` };
  const h = (studentTQuantile((1 + level) / 2, s.n - 1) * s.std!) / Math.sqrt(s.n);
  return { ...base, lo: s.mean - h, hi: s.mean + h, df: s.n - 1 };
}


/** The q-quantile of sorted values (linear interpolation between order statistics, "type 7"). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  return i + 1 < sorted.length ? sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/**
 * Percentile bootstrap interval for mean(a) − mean(b): each side resampled with replacement,
 * independently, `resamples` times (seeded). With 2–3 seeds per side the bootstrap distribution
 * has few distinct values and the interval is too narrow; prefer Welch for such grids.
 */
export function bootstrapInterval(a: readonly number[], b: readonly number[], options: { level?: number; resamples?: number; seed?: number } = {}): Difference {
  const level = options.level ?? 0.95;
  const resamples = options.resamples ?? 10_000;
  const sa = summarize(a);
  const sb = summarize(b);
  const delta = sa.mean - sb.mean;
  const base = { delta, level, method: 'bootstrap' as const, df: null, n: [sa.n, sb.n] as [number, number] };
  if (sa.n < 2 || sb.n < 2) return { ...base, lo: null, hi: null, note: `n = ${sa.n} vs ${sb.n}: at least 2 seeds per side are needed for an interval` };
  const rand = mulberry32(options.seed ?? 0);
  const mean = (v: readonly number[]) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[Math.floor(rand() * v.length)];
    return s / v.length;
  };
  const deltas = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) deltas[r] = mean(a) - mean(b);
  const sorted = Array.from(deltas).sort((x, y) => x - y);
  return { ...base, lo: quantileSorted(sorted, (1 - level) / 2), hi: quantileSorted(sorted, (1 + level) / 2) };
}

// ---------------------------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------------------------

/** Whether the grid agrees with the paper's claim. */
export type Verdict = 'reproduced' | 'contradicted' | 'inconclusive';

/**
 * The sign the paper expects of Δ = variant − base: `base: 'better'` on a higher-is-better metric
 * means the variant scores lower (−1); on a lower-is-better metric higher (+1); `'worse'` flips it.
 */
export function expectedSign(expectation: PaperExpectation): 1 | -1 {
  const higher = METRICS[expectation.metric].higherIsBetter;
  const variantLower = (expectation.base === 'better') === higher;
  return variantLower ? -1 : 1;
}

/**
 * `'reproduced'` when the interval excludes 0 on the paper's side, `'contradicted'` when it
 * excludes 0 on the other side, `'inconclusive'` when it contains 0 or there is no interval.
 */
export function verdictOf(diff: Difference, sign: 1 | -1): Verdict {
  if (diff.lo === null || diff.hi === null) return 'inconclusive';
  if (diff.lo > 0 || diff.hi < 0) {
    const observed = diff.lo > 0 ? 1 : -1;
    return observed === sign ? 'reproduced' : 'contradicted';
  }
  // A point interval at 0, or an interval straddling 0.
  return 'inconclusive';
}

// ---------------------------------------------------------------------------------------------
// Grid statistics
// ---------------------------------------------------------------------------------------------

/** One metric of one variant. */
export interface MetricStats {
  /** Mean, std and n over seeds. */
  summary: Summary;
  /** Seeds of the values in {@link Summary.values}, same order. */
  seeds: number[];
  /** Variant − base; absent for the base itself and when the base lacks the metric. */
  diff?: Difference;
}

/** One row of an ablation table. */
export interface VariantStats {
  /** Variant id. */
  variant: string;
  /** Human label. */
  label: string;
  /** Whether this row is the ablation's base. */
  isBase: boolean;
  /** Run ids, in seed order. */
  runs: string[];
  /** Seeds with a finished run. */
  seeds: number[];
  /** Per-metric statistics (absent when no run has the metric). */
  metrics: Partial<Record<MetricKey, MetricStats>>;
}

/** The paper's claim for one variant, checked. */
export interface ClaimCheck {
  /** The compared variant's id. */
  variant: string;
  /** The paper's claim about it. */
  expectation: PaperExpectation;
  /** Sign of Δ the paper expects. */
  sign: 1 | -1;
  /** `null` when the variant or the base lacks the metric. */
  diff: Difference | null;
  /** Reproduced, contradicted or inconclusive. */
  verdict: Verdict;
  /** Why the verdict is inconclusive without an interval. */
  note?: string;
}

/** Everything the report shows of one ablation. */
export interface AblationStats {
  /** The ablation these rows belong to. */
  ablation: Ablation;
  /** The base first, then the compared variants in display order. */
  rows: VariantStats[];
  /** One check per compared variant that has a paper expectation. */
  claims: ClaimCheck[];
  /** Metrics that any row has, in {@link METRICS} order. */
  metrics: MetricKey[];
}

/** Test-time K: per K the metrics of the base model over seeds. */
export interface TestTimeKStats {
  /** Anchors at test time. */
  K: number;
  /** Metric summaries over seeds at this K. */
  metrics: Partial<Record<MetricKey, Summary>>;
}

/** Statistics of a whole grid. */
export interface GridStats {
  /** One entry per ablation of the grid. */
  ablations: AblationStats[];
  /** The base model at test-time K (empty when not evaluated). */
  testTimeK: TestTimeKStats[];
  /** Options the intervals were computed with (resolved). */
  options: Required<IntervalOptions>;
}

/** Resolved interval options. */
export function resolveIntervalOptions(options: IntervalOptions = {}): Required<IntervalOptions> {
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1) (got ${level})`);
  return { method: options.method ?? 'welch', level, resamples: options.resamples ?? 10_000, seed: options.seed ?? 0 };
}

const METRIC_ORDER = Object.keys(METRICS) as MetricKey[];

/** The runs of a variant, in seed order. */
export function runsOf(results: GridResults, variant: string): RunResult[] {
  return results.runs.filter((r) => r.variant === variant).sort((a, b) => a.seed - b.seed);
}

function metricValues(runs: readonly RunResult[], metric: MetricKey): { values: number[]; seeds: number[] } {
  const values: number[] = [];
  const seeds: number[] = [];
  for (const r of runs) {
    const v = r.metrics[metric];
    if (typeof v === 'number' && Number.isFinite(v)) {
      values.push(v);
      seeds.push(r.seed);
    }
  }
  return { values, seeds };
}

/** The difference of two per-seed samples with the chosen method. */
export function difference(variant: { values: number[]; seeds: number[] }, base: { values: number[]; seeds: number[] }, options: Required<IntervalOptions>): Difference {
  if (options.method === 'paired') {
    const m = (s: { values: number[]; seeds: number[] }) => new Map(s.seeds.map((seed, i) => [seed, s.values[i]]));
    return pairedInterval(m(variant), m(base), options.level);
  }
  if (options.method === 'bootstrap') return bootstrapInterval(variant.values, base.values, options);
  return welchInterval(variant.values, base.values, options.level);
}

/** Rows, differences and claim checks of one ablation. */
export function ablationStats(results: GridResults, ablation: Ablation, options: IntervalOptions = {}): AblationStats {
  const opts = resolveIntervalOptions(options);
  const baseRuns = runsOf(results, ablation.base);
  const baseValues = new Map(METRIC_ORDER.map((m) => [m, metricValues(baseRuns, m)]));
  const present = new Set<MetricKey>();
  const rows: VariantStats[] = [ablation.base, ...ablation.variants].map((id) => {
    const runs = runsOf(results, id);
    const isBase = id === ablation.base;
    const metrics: Partial<Record<MetricKey, MetricStats>> = {};
    for (const m of METRIC_ORDER) {
      const vs = metricValues(runs, m);
      if (!vs.values.length) continue;
      present.add(m);
      const stats: MetricStats = { summary: summarize(vs.values), seeds: vs.seeds };
      const bv = baseValues.get(m)!;
      if (!isBase && bv.values.length) stats.diff = difference(vs, bv, opts);
      metrics[m] = stats;
    }
    return { variant: id, label: results.variants[id]?.label ?? id, isBase, runs: runs.map((r) => r.id), seeds: runs.map((r) => r.seed), metrics };
  });
  const claims: ClaimCheck[] = [];
  for (const row of rows) {
    const expectation = ablation.expectations[row.variant];
    if (row.isBase || !expectation) continue;
    const sign = expectedSign(expectation);
    const diff = row.metrics[expectation.metric]?.diff ?? null;
    if (!diff) {
      claims.push({ variant: row.variant, expectation, sign, diff: null, verdict: 'inconclusive', note: `${METRICS[expectation.metric].label} missing for ${row.metrics[expectation.metric] ? 'the base' : 'this variant'}` });
      continue;
    }
    const verdict = verdictOf(diff, sign);
    claims.push({ variant: row.variant, expectation, sign, diff, verdict, ...(diff.note && diff.lo === null ? { note: diff.note } : {}) });
  }
  return { ablation, rows, claims, metrics: METRIC_ORDER.filter((m) => present.has(m)) };
}

/** Test-time K summaries (K ascending). */
export function testTimeKStats(results: GridResults): TestTimeKStats[] {
  const byK = new Map<number, Array<{ seed: number; metrics: Partial<Record<MetricKey, number>> }>>();
  for (const e of results.testTimeK ?? []) {
    if (!byK.has(e.K)) byK.set(e.K, []);
    byK.get(e.K)!.push(e);
  }
  return [...byK.keys()]
    .sort((a, b) => a - b)
    .map((K) => {
      const entries = byK.get(K)!.sort((a, b) => a.seed - b.seed);
      const metrics: Partial<Record<MetricKey, Summary>> = {};
      for (const m of METRIC_ORDER) {
        const vs = entries.map((e) => e.metrics[m]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        if (vs.length) metrics[m] = summarize(vs);
      }
      return { K, metrics };
    });
}

/** Statistics of every ablation of a grid, and of its test-time K curve. */
export function gridStats(results: GridResults, options: IntervalOptions = {}): GridStats {
  const opts = resolveIntervalOptions(options);
  return { ablations: results.ablations.map((a) => ablationStats(results, a, opts)), testTimeK: testTimeKStats(results), options: opts };
}

/**
 * Anchors K a variant trains with: `Variant.anchors` when the grid states it, else the
 * override, else the runs' resolved config (`config.anchors` or `config.model.anchors`).
 */
export function anchorsOfVariant(results: GridResults, variant: string): number | null {
  const v = results.variants[variant];
  if (typeof v?.anchors === 'number') return v.anchors;
  if (typeof v?.overrides.anchors === 'number') return v.overrides.anchors;
  for (const r of runsOf(results, variant)) {
    const c = r.config as { anchors?: unknown; model?: { anchors?: unknown } };
    if (typeof c.anchors === 'number') return c.anchors;
    if (typeof c.model?.anchors === 'number') return c.model.anchors;
  }
  return null;
}
