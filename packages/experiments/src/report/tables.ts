/**
 * The report's tables as plain data (header, rows of text cells, a row kind), rendered by
 * `markdown.ts` as pipe tables and by `html.ts` as HTML tables, so both show the same numbers.
 * Pure and browser-safe.
 */
import { METRICS, type GridResults, type MetricKey, type RunResult } from '../ablation/types.js';
import { anchorsOfVariant, runsOf, summarize, type AblationStats, type ClaimCheck, type Difference, type GridStats, type Summary, type Verdict } from './stats.js';

/** A row of a report table. */
export interface TableRow {
  cells: string[];
  /** `base`: the base variant; `reference`: grey / mean color; `variant`: a compared variant. */
  kind?: 'base' | 'variant' | 'reference';
  /** The row's verdict, for styling. */
  verdict?: Verdict;
}

/** A report table. */
export interface Table {
  /** Anchor-friendly id (`ablation-anchors`, `test-time-k`, `runs`). */
  id: string;
  title: string;
  header: string[];
  rows: TableRow[];
  /** Lines printed under the table. */
  notes: string[];
  /** Column alignment; default: the first column left, the rest right. */
  align?: Array<'left' | 'right'>;
}

/** A number with a precision that suits its size (4 significant digits, at most 4 decimals; thousands unchanged). */
export function formatNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  const decimals = Math.min(4, Math.max(0, digits - 1 - Math.floor(Math.log10(a))));
  return v.toFixed(decimals);
}

/** Decimals {@link formatNumber} uses for `v`. */
function decimalsOf(v: number, digits = 4): number {
  if (!Number.isFinite(v) || v === 0) return 2;
  return Math.min(4, Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(v)))));
}

const fixed = (v: number, d: number) => (Object.is(Number(v.toFixed(d)), -0) ? (0).toFixed(d) : v.toFixed(d));
const signed = (v: number, d: number) => (v > 0 ? `+${fixed(v, d)}` : fixed(v, d).replace('-', '−'));

/** `mean ± std` (or just the mean when n = 1), in the mean's precision. */
export function formatSummary(s: Summary): string {
  const d = decimalsOf(s.mean);
  return s.std === null ? fixed(s.mean, d) : `${fixed(s.mean, d)} ± ${fixed(s.std, d)}`;
}

/** `Δ +1.23 [0.45, 2.01]` (no brackets when there is no interval). */
export function formatDifference(diff: Difference, reference: number): string {
  const d = decimalsOf(Math.max(Math.abs(reference), Math.abs(diff.delta)) || 1);
  const iv = diff.lo === null || diff.hi === null ? '' : ` [${signed(diff.lo, d)}, ${signed(diff.hi, d)}]`;
  return `Δ ${signed(diff.delta, d)}${iv}`;
}

/** A duration in s, min or h. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

/** Column header of a metric with its better direction. */
export function metricHeader(m: MetricKey): string {
  return `${METRICS[m].label} ${METRICS[m].higherIsBetter ? '↑' : '↓'}`;
}

/** The paper's direction of a claim in words. */
export function describeClaim(c: ClaimCheck): string {
  const info = METRICS[c.expectation.metric];
  const side = c.sign > 0 ? 'higher' : 'lower';
  return `${c.expectation.base === 'better' ? 'base better' : 'variant better'} on ${info.label} (Δ ${side})`;
}

const VERDICT_MARK: Record<Verdict, string> = { reproduced: '✔ reproduced', contradicted: '✘ contradicted', inconclusive: '? inconclusive' };

/** A verdict with its mark. */
export function formatVerdict(v: Verdict): string {
  return VERDICT_MARK[v];
}

/** The table of one ablation: mean ± std per metric, Δ to base with its interval, the paper's direction and the verdict. */
export function ablationTable(results: GridResults, a: AblationStats): Table {
  const header = ['variant', 'n', ...a.metrics.map(metricHeader), "paper's direction", 'verdict'];
  const base = a.rows.find((r) => r.isBase);
  const rows: TableRow[] = a.rows.map((row) => {
    const claim = a.claims.find((c) => c.variant === row.variant);
    const cells = [
      `${row.label} (\`${row.variant}\`${row.isBase ? ', base' : ''})`,
      String(row.seeds.length),
      ...a.metrics.map((m) => {
        const s = row.metrics[m];
        if (!s) return '—';
        const text = formatSummary(s.summary);
        return s.diff ? `${text} (${formatDifference(s.diff, base?.metrics[m]?.summary.mean ?? s.summary.mean)})` : text;
      }),
      claim ? describeClaim(claim) : row.isBase ? '' : 'none stated',
      claim ? formatVerdict(claim.verdict) + (claim.note ? ` (${claim.note})` : '') : '',
    ];
    return { cells, kind: row.isBase ? 'base' : 'variant', ...(claim ? { verdict: claim.verdict } : {}) };
  });
  for (const [name, metrics] of Object.entries(results.references)) {
    rows.push({ cells: [`${name} (reference)`, '—', ...a.metrics.map((m) => (Number.isFinite(metrics[m]) ? formatNumber(metrics[m]!) : '—')), '', ''], kind: 'reference' });
  }
  const notes = a.claims.map((c) => `\`${c.variant}\`: ${c.expectation.claim}`);
  const align: Array<'left' | 'right'> = ['left', 'right', ...a.metrics.map(() => 'right' as const), 'left', 'left'];
  return { id: `ablation-${a.ablation.id}`, title: `${a.ablation.title} (\`${a.ablation.id}\`)`, header, rows, notes, align };
}

/** Test-time K of one base model against the models trained at each K; `null` without test-time K data. */
export function testTimeKTable(results: GridResults, stats: GridStats): Table | null {
  if (!stats.testTimeK.length) return null;
  const metrics = (Object.keys(METRICS) as MetricKey[]).filter((m) => stats.testTimeK.some((t) => t.metrics[m]));
  const trained = trainedKSummaries(results);
  const header = ['K', 'n', ...metrics.flatMap((m) => [`${metricHeader(m)} test-time K`, `${metricHeader(m)} trained at K`])];
  const rows: TableRow[] = stats.testTimeK.map((t) => ({
    cells: [
      String(t.K),
      String(Math.max(0, ...metrics.map((m) => t.metrics[m]?.n ?? 0))),
      ...metrics.flatMap((m) => {
        const tr = trained.get(t.K)?.[m];
        return [t.metrics[m] ? formatSummary(t.metrics[m]!) : '—', tr ? formatSummary(tr) : '—'];
      }),
    ],
  }));
  const baseK = stats.ablations.find((a) => a.ablation.id === 'anchors')?.ablation.base;
  const k = baseK ? anchorsOfVariant(results, baseK) : null;
  return {
    id: 'test-time-k',
    title: 'Test-time K',
    header,
    rows,
    notes: [`"test-time K": one model trained at K = ${k ?? 'the base K'} (per seed), scored with K anchors; "trained at K": the anchors ablation's model trained and scored at K.`],
  };
}

/** Per K of the anchors ablation (and its base): summaries of the models trained at that K. */
export function trainedKSummaries(results: GridResults): Map<number, Partial<Record<MetricKey, Summary>>> {
  const out = new Map<number, Partial<Record<MetricKey, Summary>>>();
  const anchors = results.ablations.find((a) => a.id === 'anchors');
  if (!anchors) return out;
  for (const id of [anchors.base, ...anchors.variants]) {
    const K = anchorsOfVariant(results, id);
    if (K === null) continue;
    const runs = runsOf(results, id);
    const metrics: Partial<Record<MetricKey, Summary>> = {};
    for (const m of Object.keys(METRICS) as MetricKey[]) {
      const vs = runs.map((r) => r.metrics[m]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (vs.length) metrics[m] = summarize(vs);
    }
    out.set(K, metrics);
  }
  return out;
}

/** A config flattened to dotted keys with scalar (or JSON) values. */
export function flattenConfig(config: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenConfig(v as Record<string, unknown>, key));
    else out[key] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** Config keys whose values are the same in every run (excluding `seed`) and the per-run rest. */
export function splitConfigs(runs: readonly RunResult[]): { common: Record<string, string>; perRun: Map<string, Record<string, string>> } {
  const flat = runs.map((r) => [r.id, flattenConfig(r.config)] as const);
  const keys = new Set(flat.flatMap(([, f]) => Object.keys(f)));
  const common: Record<string, string> = {};
  for (const k of keys) {
    const vals = new Set(flat.map(([, f]) => f[k]));
    if (vals.size === 1 && k !== 'seed' && flat.every(([, f]) => k in f)) common[k] = flat[0][1][k];
  }
  const perRun = new Map(flat.map(([id, f]) => [id, Object.fromEntries(Object.entries(f).filter(([k]) => !(k in common)))] as const));
  return { common, perRun };
}

/** Every run: variant, seed, the config keys that differ between runs, wall times, commit. */
export function runsTable(results: GridResults): Table {
  const runs = [...results.runs].sort((a, b) => (a.variant === b.variant ? a.seed - b.seed : a.variant < b.variant ? -1 : 1));
  const { common, perRun } = splitConfigs(runs);
  const rows: TableRow[] = runs.map((r) => ({
    cells: [
      `\`${r.id}\``,
      r.variant,
      String(r.seed),
      Object.entries(perRun.get(r.id) ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
      formatSeconds(r.wallS.train),
      formatSeconds(r.wallS.eval),
      r.provenance.gitCommit.slice(0, 10),
    ],
  }));
  const commonText = Object.entries(common)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return {
    id: 'runs',
    title: 'Runs',
    header: ['run', 'variant', 'seed', 'config (differs between runs)', 'train', 'eval', 'commit'],
    rows,
    notes: commonText ? [`Config shared by every run: ${commonText}.`] : [],
    align: ['left', 'left', 'right', 'left', 'right', 'right', 'left'],
  };
}

/** The grid's totals and provenance, as lines. */
export function provenanceLines(results: GridResults): string[] {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const train = results.runs.reduce((s, r) => s + r.wallS.train, 0);
  const evalS = results.runs.reduce((s, r) => s + r.wallS.eval, 0);
  const dates = uniq(results.runs.map((r) => r.provenance.date));
  const b = results.budget;
  return [
    `Budget \`${b.name}\`: ${b.steps} stage-2 steps, ${b.imageSize} px crops, batch ${b.batchSize}, learning rate ${b.learningRate}; seeds ${b.seeds.join(', ')}; ${b.heldoutImages} held-out photos scored at ≤ ${b.maxSide} px; checkpoint every ${b.checkpointEvery} steps; stage-1 SPixNet: ${b.spixnetSteps > 0 ? `${b.spixnetSteps} steps per seed` : "the embedded model's"}.`,
    `Results written ${results.created}; ${results.runs.length} runs of ${Object.keys(results.variants).length} variants; commit ${uniq(results.runs.map((r) => r.provenance.gitCommit)).join(', ') || '—'}; backend ${uniq(results.runs.map((r) => r.provenance.backend)).join(', ') || '—'}; machine ${uniq(results.runs.map((r) => r.provenance.machine)).join('; ') || '—'}.`,
    `Runs dated ${dates.length ? (dates.length === 1 ? dates[0] : `${dates[0]} … ${dates[dates.length - 1]}`) : '—'}; wall time summed over runs: ${formatSeconds(train)} training + ${formatSeconds(evalS)} evaluation.`,
  ];
}

/** How the intervals and verdicts were computed, as one line. */
export function methodLine(stats: GridStats): string {
  const o = stats.options;
  const pct = `${Math.round(o.level * 1000) / 10} %`;
  const how =
    o.method === 'welch'
      ? `${pct} Welch t interval on the per-seed values (Welch 1947; Welch–Satterthwaite df)`
      : o.method === 'paired'
        ? `${pct} paired t interval over the seeds both variants share`
        : `${pct} percentile bootstrap (${o.resamples} resamples, seed ${o.seed})`;
  return `Values are mean ± sample std over seeds; Δ = variant − base with a ${how}; no interval with fewer than 2 seeds. Verdict: "reproduced" when the interval excludes 0 on the paper's side, "contradicted" when it excludes 0 on the other side, else "inconclusive".`;
}

/** The small-n caveat for FID and KID. */
export function fidCaveat(results: GridResults): string {
  const n = results.budget.heldoutImages;
  return `FID and KID come from ${n} held-out photo${n === 1 ? '' : 's'} per run with the project's InceptionV3 features: FID from so few images is strongly biased upward and depends on n, so compare FID only between runs of this grid (same n, same network), never with published numbers; KID is unbiased but noisy at this n. Both are project-relative.`;
}
