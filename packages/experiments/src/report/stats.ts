/**
 * Statistics of the ablation report: mean ± sample standard deviation over seeds, the difference
 * of each variant to the base with a 95 % interval (Welch's t interval by default, a paired t or
 * a percentile bootstrap on request), and a verdict per paper claim. Pure float64, browser-safe.
 *
 * References: Welch, "The generalization of 'Student's' problem when several different population
 * variances are involved", Biometrika 1947 (the interval and its Welch–Satterthwaite degrees of
 * freedom); Efron & Tibshirani, "An Introduction to the Bootstrap", 1993 (percentile interval);
 * Press et al., "Numerical Recipes", 3rd ed., §6.1 and §6.4 (log-gamma and the continued fraction
 * of the regularized incomplete beta function behind the t distribution).
 */
import { METRICS, type Ablation, type GridResults, type MetricKey, type PaperExpectation, type RunResult } from '../ablation/types.js';
import { mulberry32 } from '@disco/random';

// ---------------------------------------------------------------------------------------------
// Student's t distribution
// ---------------------------------------------------------------------------------------------

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ≈ 1e-15 relative). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0 (got ${x})`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b), 0 ≤ x ≤ 1, a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new RangeError(`regularizedIncompleteBeta: a, b must be > 0 (got ${a}, ${b})`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedIncompleteBeta: x must be in [0, 1] (got ${x})`);
  if (x === 0 || x === 1) return x;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const front = Math.exp(lnFront);
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` > 0 degrees of freedom (df need not be an integer). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf: df must be > 0 (got ${df})`);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` > 0 degrees of freedom (non-integer df allowed, as
 * Welch's interval needs): the t with P(T ≤ t) = p, found by bracketing and bisection on
 * {@link studentTCdf} to ≈ 1e-12 relative. `df = Infinity` gives the normal quantile.
 *
 * @example studentTQuantile(0.975, 2) // 4.302652729…
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1) (got ${p})`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0 (got ${df})`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (!Number.isFinite(df)) return normalQuantile(p);
  // F is increasing; bracket [lo, hi] with F(lo) < p ≤ F(hi), then bisect.
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Standard normal quantile (Acklam's rational approximation refined by two Halley steps). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1) (got ${p})`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  let x: number;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - pl) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // Two Halley steps on Φ(x) − p, Φ from the complementary error function.
  for (let i = 0; i < 2; i++) {
    const e = 0.5 * erfc(-x / Math.SQRT2) - p;
    const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
    x = x - u / (1 + (x * u) / 2);
  }
  return x;
}

/** Regularized lower incomplete gamma P(a, x) (series for x < a + 1, Lentz continued fraction otherwise; Numerical Recipes §6.2). */
function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const lnFront = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let ap = a;
    let sum = 1 / a;
    let del = sum;
    for (let n = 0; n < 1000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return sum * Math.exp(lnFront);
  }
  const TINY = 1e-300;
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return 1 - Math.exp(lnFront) * h;
}

/** Complementary error function, erfc(x) = 1 − P(1/2, x²) for x ≥ 0. */
function erfc(x: number): number {
  const r = 1 - gammaP(0.5, x * x);
  return x >= 0 ? r : 2 - r;
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
