/**
 * `report.md` of an ablation grid (Xia et al. 2022, §5): budget and provenance, the method of
 * the intervals, the small-n FID caveat, one table per ablation (mean ± std, Δ to base with its
 * interval, the paper's direction, the verdict, the grey and mean-color reference rows), the
 * test-time-K table, a verdict summary, the metric legend and every run. Pure and browser-safe.
 */
import { METRICS, type GridResults, type MetricKey } from '../ablation/types.js';
import { gridStats, type GridStats, type IntervalOptions } from './stats.js';
import { ablationTable, fidCaveat, formatDifference, formatVerdict, methodLine, provenanceLines, runsTable, testTimeKTable, type Table } from './tables.js';

/** Escapes a cell for a pipe table (pipes and newlines). */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** One table as Markdown: title, pipe table (base row bold, reference rows italic), notes. */
export function markdownTable(t: Table, level = 2): string[] {
  const out = [`${'#'.repeat(level)} ${t.title}`, '', `| ${t.header.map(cell).join(' | ')} |`, `| ${t.header.map((_, i) => ((t.align?.[i] ?? (i === 0 ? 'left' : 'right')) === 'left' ? '---' : '---:')).join(' | ')} |`];
  for (const row of t.rows) {
    const cells = row.cells.map(cell);
    if (row.kind === 'base') cells[0] = `**${cells[0]}**`;
    if (row.kind === 'reference') cells[0] = `*${cells[0]}*`;
    out.push(`| ${cells.join(' | ')} |`);
  }
  if (t.notes.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  out.push('');
  return out;
}

/** Every claim of the grid in one list: verdict, Δ of the claimed metric and its interval. */
function verdictSummary(stats: GridStats): string[] {
  const lines: string[] = [];
  const counts = { reproduced: 0, contradicted: 0, inconclusive: 0 };
  for (const a of stats.ablations) {
    for (const c of a.claims) {
      counts[c.verdict]++;
      const m = c.expectation.metric;
      const base = a.rows.find((r) => r.isBase)?.metrics[m]?.summary.mean ?? 0;
      const diff = c.diff ? formatDifference(c.diff, base) : 'no value';
      lines.push(`- **${a.ablation.id} / ${c.variant}**: ${formatVerdict(c.verdict)} — ${METRICS[m].label} ${diff}${c.note ? ` (${c.note})` : ''}; paper: ${c.expectation.claim}`);
    }
  }
  if (!lines.length) return [];
  return ['## Verdicts', '', `${counts.reproduced} reproduced, ${counts.contradicted} contradicted, ${counts.inconclusive} inconclusive.`, '', ...lines, ''];
}

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions extends IntervalOptions {
  /** Report title; default "DISCO ablation report". */
  title?: string;
  /** Precomputed statistics (else computed from `results` with the interval options). */
  stats?: GridStats;
}

/** The whole `report.md` of a grid. */
export function renderMarkdown(results: GridResults, options: MarkdownOptions = {}): string {
  const stats = options.stats ?? gridStats(results, options);
  const out: string[] = [`# ${options.title ?? 'DISCO ablation report'}`, '', ...provenanceLines(results).flatMap((l) => [l, '']), methodLine(stats), '', `> **Small-n caveat.** ${fidCaveat(results)}`, ''];
  out.push(...verdictSummary(stats));
  for (const a of stats.ablations) out.push(...markdownTable(ablationTable(results, a)));
  const ttk = testTimeKTable(results, stats);
  if (ttk) out.push(...markdownTable(ttk));
  out.push('## Metrics', '');
  for (const m of Object.keys(METRICS) as MetricKey[]) out.push(`- **${METRICS[m].label}** (${METRICS[m].higherIsBetter ? 'higher is better' : 'lower is better'}): ${METRICS[m].description}`);
  out.push('');
  out.push(...markdownTable(runsTable(results)));
  if (results.samplePhotos.length) out.push('Sample colorizations of the same held-out photos per run: see `report.html`.', '');
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
