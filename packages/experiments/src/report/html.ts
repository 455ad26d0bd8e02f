/**
 * `report.html` of an ablation grid: one self-contained page that works from `file://` with no
 * network. The tfjs-vis UMD bundle (which carries its own tfjs-core, vega and vega-lite) is
 * inlined in a script tag; the data is embedded as JSON (`<script type="application/json"
 * id="report-data">`); sample PNGs are inlined as data URIs or referenced relative to the page.
 *
 * Charts (tfjs-vis `render.*`, drawn on canvas by vega):
 * - per metric a bar chart of the mean per variant (`barchart`, which has no error bars) beside a
 *   per-seed strip plot (`scatterplot`: every seed's value, the mean and the mean ± 1 std ends);
 * - the metric-versus-K chart (`scatterplot` on an ordinal K axis): models trained at K and the
 *   base model at test-time K;
 * - training curves per variant (`linechart`), the seed mean resampled on a common step grid.
 * tfjs-vis 1.5 `linechart` places the i-th point of every series at x = i (it ignores the given
 * x), so the training curves are resampled on a shared step grid and the x title gives its
 * spacing, and the K chart is a scatterplot, whose x values are kept.
 *
 * Pure: the caller passes the bundle text and the image sources (see `writeReport`).
 */
import { METRICS, type CurvePoint, type GridResults, type MetricKey } from '../ablation/types.js';
import { anchorsOfVariant, gridStats, runsOf, type GridStats, type IntervalOptions } from './stats.js';
import { ablationTable, fidCaveat, formatDifference, formatVerdict, methodLine, metricHeader, provenanceLines, runsTable, testTimeKTable, trainedKSummaries, type Table } from './tables.js';

/** One chart the page draws with tfjs-vis. */
export interface ChartSpec {
  /** Container element id. */
  id: string;
  /** `tfvis.render.barchart`, `.scatterplot` or `.linechart`. */
  kind: 'bar' | 'scatter' | 'line';
  /** The render function's data argument. */
  data: unknown;
  /** The render function's options. */
  options: Record<string, unknown>;
}

/** Options of {@link renderHtml}. */
export interface HtmlOptions extends IntervalOptions {
  /** The tfjs-vis browser bundle (`dist/tfjs-vis.umd.min.js`), inlined; see `loadTfvisBundle`. */
  tfvisScript: string;
  /** Maps a path relative to the grid folder to an `<img src>` (a data URI or a relative URL); default: the path, URL-encoded. */
  imageSource?: (relativePath: string) => string;
  /** Page title; default "DISCO ablation report". */
  title?: string;
  /** Precomputed statistics. */
  stats?: GridStats;
}

/** HTML-escapes text. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Inline-code backticks of the shared table text as `<code>`. */
const inline = (s: string) => escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>');

/** JSON safe inside a `<script>` element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Script text safe inside a `<script>` element (a closing tag or comment opener would end or confuse it). */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** Tableau 10: variant colors, in grid order. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#17becf', '#bcbd22', '#8c564b'];
const REFERENCE_COLORS = ['#9e9e9e', '#c8b99a', '#bdbdbd', '#d7ccc8'];

/** Variants in display order: each ablation's base, then its variants, each once. */
export function variantOrder(results: GridResults): string[] {
  const seen = new Set<string>();
  for (const a of results.ablations) for (const v of [a.base, ...a.variants]) seen.add(v);
  for (const r of results.runs) seen.add(r.variant);
  return [...seen].filter((v) => results.runs.some((r) => r.variant === v));
}

/**
 * Category labels that sort in display order (vega-lite sorts ordinal and nominal axes
 * alphabetically): a zero-padded position before the id.
 */
function categoryLabels(ids: string[]): Map<string, string> {
  const w = String(ids.length).length;
  return new Map(ids.map((id, i) => [id, `${String(i + 1).padStart(w, '0')} ${id}`]));
}

/** Colors for a nominal scale: vega-lite maps its range onto the domain sorted ascending, so the colors go in that order. */
const sortedColors = (pairs: Array<[string, string]>) => [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((p) => p[1]);

/** A round grid step near `x` (1, 2 or 5 × 10^k). */
function niceStep(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Linear interpolation of a curve's `key` at `step`; `null` outside its range. */
function curveAt(curve: readonly CurvePoint[], key: keyof CurvePoint, step: number): number | null {
  if (!curve.length || step < curve[0].step || step > curve[curve.length - 1].step) return null;
  let i = 0;
  while (i + 1 < curve.length && curve[i + 1].step < step) i++;
  const a = curve[i];
  const b = curve[Math.min(i + 1, curve.length - 1)];
  if (b.step === a.step || step <= a.step) return a[key];
  const t = (step - a.step) / (b.step - a.step);
  return a[key] + t * (b[key] - a[key]);
}

const CURVE_KEYS: Array<{ key: Exclude<keyof CurvePoint, 'step'>; label: string }> = [
  { key: 'total', label: 'total loss' },
  { key: 'abL1', label: 'ab L1' },
  { key: 'ceModeler', label: 'CE, anchor color modeler' },
  { key: 'ceGenerator', label: 'CE, generator' },
];

/** The chart specs of a report (exported for tests). */
export function chartSpecs(results: GridResults, stats: GridStats): { charts: ChartSpec[]; sections: Record<string, string[]> } {
  const charts: ChartSpec[] = [];
  const sections: Record<string, string[]> = { metrics: [], k: [], curves: [] };
  const order = variantOrder(results);
  const labels = categoryLabels([...order, ...Object.keys(results.references)]);
  const color = new Map(order.map((v, i) => [v, PALETTE[i % PALETTE.length]]));
  Object.keys(results.references).forEach((r, i) => color.set(r, REFERENCE_COLORS[i % REFERENCE_COLORS.length]));
  const metrics = (Object.keys(METRICS) as MetricKey[]).filter((m) => results.runs.some((r) => Number.isFinite(r.metrics[m])));

  for (const m of metrics) {
    const bars: Array<{ index: string; value: number; id: string }> = [];
    const seedSeries = new Map<string, Array<{ x: string; y: number }>>();
    const meanPts: Array<{ x: string; y: number }> = [];
    const stdPts: Array<{ x: string; y: number }> = [];
    for (const v of order) {
      const runs = runsOf(results, v).filter((r) => Number.isFinite(r.metrics[m]));
      if (!runs.length) continue;
      const vals = runs.map((r) => r.metrics[m]!);
      const mean = vals.reduce((s, x) => s + x, 0) / vals.length;
      const x = labels.get(v)!;
      bars.push({ index: x, value: mean, id: v });
      for (const r of runs) {
        const name = `seed ${r.seed}`;
        if (!seedSeries.has(name)) seedSeries.set(name, []);
        seedSeries.get(name)!.push({ x, y: r.metrics[m]! });
      }
      meanPts.push({ x, y: mean });
      if (vals.length >= 2) {
        const sd = Math.sqrt(vals.reduce((s, y) => s + (y - mean) ** 2, 0) / (vals.length - 1));
        stdPts.push({ x, y: mean - sd }, { x, y: mean + sd });
      }
    }
    for (const [name, ref] of Object.entries(results.references)) if (Number.isFinite(ref[m])) bars.push({ index: labels.get(name)!, value: ref[m]!, id: name });
    if (!bars.length) continue;
    const title = `${METRICS[m].label} (${METRICS[m].higherIsBetter ? 'higher' : 'lower'} is better)`;
    charts.push({
      id: `bar-${m}`,
      kind: 'bar',
      data: bars.map(({ index, value }) => ({ index, value })),
      options: { width: 310, height: 230, xLabel: '', yLabel: `${METRICS[m].label}, mean over seeds`, color: sortedColors(bars.map((b) => [b.index, color.get(b.id)!])), fontSize: 11 },
    });
    const series = [...seedSeries.keys()].sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    const values = series.map((s) => seedSeries.get(s)!);
    const names = [...series];
    values.push(meanPts);
    names.push('mean');
    if (stdPts.length) {
      values.push(stdPts);
      names.push('mean ± 1 std');
    }
    const ys = values.flat().map((p) => p.y);
    const lo = Math.min(...ys);
    const hi = Math.max(...ys);
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
    const seedColors: Array<[string, string]> = names.map((n, i) => [n, n === 'mean' ? '#000000' : n === 'mean ± 1 std' ? '#9e9e9e' : ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'][i % 6]]);
    charts.push({
      id: `seeds-${m}`,
      kind: 'scatter',
      data: { values, series: names },
      options: { width: 310, height: 230, xType: 'nominal', xLabel: '', yLabel: `${METRICS[m].label}, per seed`, yAxisDomain: [lo - pad, hi + pad], seriesColors: sortedColors(seedColors), fontSize: 11 },
    });
    sections.metrics.push(`<div class="card"><h3>${escapeHtml(title)}</h3><p class="desc">${escapeHtml(METRICS[m].description)}</p><div class="pair"><div class="chart" id="bar-${m}" data-chart="bar"></div><div class="chart" id="seeds-${m}" data-chart="scatter"></div></div></div>`);
  }

  // Metric versus K: trained at K (anchors ablation) and test-time K of the base model. A
  // scatterplot with an ordinal x axis: tfjs-vis' linechart would put the points at their index.
  const trained = trainedKSummaries(results);
  const ttkMetrics = (Object.keys(METRICS) as MetricKey[]).filter((m) => stats.testTimeK.some((t) => t.metrics[m]));
  const kMetrics = ttkMetrics.length ? ttkMetrics : (Object.keys(METRICS) as MetricKey[]).filter((m) => [...trained.values()].filter((s) => s[m]).length >= 2);
  const ks = [...new Set([...trained.keys(), ...stats.testTimeK.map((t) => t.K)])].sort((a, b) => a - b);
  if (ks.length >= 2) {
    const baseId = results.ablations.find((a) => a.id === 'anchors')?.base;
    const baseK = baseId ? anchorsOfVariant(results, baseId) : null;
    for (const m of kMetrics) {
      const pts = (get: (K: number) => number | undefined) => ks.flatMap((K) => (typeof get(K) === 'number' ? [{ x: K, y: get(K)! }] : []));
      const trainedPts = pts((K) => trained.get(K)?.[m]?.mean);
      const ttkPts = pts((K) => stats.testTimeK.find((t) => t.K === K)?.metrics[m]?.mean);
      const values: Array<Array<{ x: number; y: number }>> = [];
      const series: string[] = [];
      const colors: Array<[string, string]> = [];
      if (trainedPts.length) {
        values.push(trainedPts);
        series.push('trained at K');
        colors.push(['trained at K', '#4e79a7']);
      }
      if (ttkPts.length) {
        const name = `test-time K (trained at ${baseK ?? 'base K'})`;
        values.push(ttkPts);
        series.push(name);
        colors.push([name, '#e15759']);
      }
      if (!values.length) continue;
      const ys = values.flat().map((p) => p.y);
      const lo = Math.min(...ys);
      const hi = Math.max(...ys);
      const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
      charts.push({
        id: `k-${m}`,
        kind: 'scatter',
        data: { values, series },
        options: { width: 400, height: 230, xType: 'ordinal', xLabel: 'anchors K', yLabel: `${METRICS[m].label}, mean over seeds`, yAxisDomain: [lo - pad, hi + pad], seriesColors: sortedColors(colors), fontSize: 11 },
      });
      sections.k.push(`<div class="card"><h3>${escapeHtml(metricHeader(m))} versus K</h3><div class="chart k" id="k-${m}" data-chart="scatter"></div></div>`);
    }
  }

  // Training curves: the seed mean per variant on a shared step grid.
  const maxStep = Math.max(0, ...results.runs.flatMap((r) => r.curve.map((p) => p.step)));
  if (maxStep > 0) {
    const dx = niceStep(maxStep / 60);
    const grid = Array.from({ length: Math.floor(maxStep / dx) + 1 }, (_, i) => i * dx);
    const withCurves = order.filter((v) => runsOf(results, v).some((r) => r.curve.length >= 2));
    for (const { key, label } of CURVE_KEYS) {
      const values = withCurves.map((v) => {
        const runs = runsOf(results, v).filter((r) => r.curve.length >= 2);
        return grid.map((step, i) => {
          const ys = runs.map((r) => curveAt(r.curve, key, step)).filter((y): y is number => y !== null && Number.isFinite(y));
          return { x: i, y: ys.length ? ys.reduce((s, y) => s + y, 0) / ys.length : null };
        });
      });
      if (!values.length) continue;
      charts.push({
        id: `curve-${key}`,
        kind: 'line',
        data: { values, series: withCurves },
        options: { width: 560, height: 260, xLabel: `training step (×${dx})`, yLabel: label, zoomToFit: true, seriesColors: sortedColors(withCurves.map((v) => [v, color.get(v)!])), fontSize: 11 },
      });
      sections.curves.push(`<div class="card"><h3>${escapeHtml(label)}</h3><div class="chart wide" id="curve-${key}" data-chart="line"></div></div>`);
    }
  }
  return { charts, sections };
}

/** A shared table as HTML. */
function htmlTable(t: Table, level = 2): string {
  const left = (i: number) => ((t.align?.[i] ?? (i === 0 ? 'left' : 'right')) === 'left' ? ' class="l"' : '');
  const head = t.header.map((h, i) => `<th${left(i)}>${inline(h)}</th>`).join('');
  const body = t.rows
    .map((r) => {
      const cls = [r.kind ?? '', r.verdict ? `v-${r.verdict}` : ''].filter(Boolean).join(' ');
      return `<tr${cls ? ` class="${cls}"` : ''}>${r.cells.map((c, i) => `<td${left(i)}>${inline(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const notes = t.notes.length ? `<ul class="notes">${t.notes.map((n) => `<li>${inline(n)}</li>`).join('')}</ul>` : '';
  return `<section id="${escapeHtml(t.id)}"><h${level}>${inline(t.title)}</h${level}><div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>${notes}</section>`;
}

/** The sample grid: one row per held-out photo, ground truth and grey, then each variant's first seed (oracle anchors below, when present). */
function sampleGrid(results: GridResults, src: (p: string) => string): string {
  if (!results.samplePhotos.length) return '';
  const order = variantOrder(results);
  const first = new Map(order.map((v) => [v, runsOf(results, v)[0]]));
  const head = ['photo', 'ground truth', 'grey input', ...order.map((v) => `${v}${first.get(v) ? ` (seed ${first.get(v)!.seed})` : ''}`)];
  const img = (p: string | undefined, alt: string) => (p ? `<img src="${escapeHtml(src(p))}" alt="${escapeHtml(alt)}" loading="eager">` : '<span class="missing">—</span>');
  const rows = results.samplePhotos.map((photo) => {
    const cells = order.map((v) => {
      const s = first.get(v)?.samples.find((x) => x.photo === photo.name);
      return `<td>${img(s?.predicted, `${v}: ${photo.name}`)}${s?.oracle ? `<div class="oracle">${img(s.oracle, `${v} oracle: ${photo.name}`)}<span>oracle anchors</span></div>` : ''}</td>`;
    });
    return `<tr><th>${escapeHtml(photo.name)}</th><td>${img(photo.truth, `truth: ${photo.name}`)}</td><td>${img(photo.grey, `grey: ${photo.name}`)}</td>${cells.join('')}</tr>`;
  });
  return `<section id="samples"><h2>Sample colorizations</h2><p>The same held-out photos for every variant (its first seed): predicted anchors on top, anchors colored from the ground truth (oracle) below where the variant has anchors.</p><div class="scroll"><table class="samples"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div></section>`;
}

/** Every run's resolved config and wall time. */
function runConfigs(results: GridResults): string {
  const items = [...results.runs]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map(
      (r) =>
        `<details><summary><code>${escapeHtml(r.id)}</code> — train ${escapeHtml(String(Math.round(r.wallS.train)))} s, eval ${escapeHtml(String(Math.round(r.wallS.eval)))} s, ${escapeHtml(r.provenance.backend)}, ${escapeHtml(r.provenance.gitCommit.slice(0, 10))}, ${escapeHtml(r.provenance.date)}</summary><pre>${escapeHtml(JSON.stringify({ dir: r.dir, config: r.config, provenance: r.provenance, wallS: r.wallS }, null, 2))}</pre></details>`,
    );
  return `<section id="configs"><h2>Config of every run</h2>${items.join('\n')}</section>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;background:#fafafa}
main{max-width:1500px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:14px;margin:0 0 2px}
p{margin:4px 0}.caveat{background:#fff4d6;border-left:4px solid #e0a800;padding:6px 10px}.method{color:#444}
nav a{margin-right:12px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;background:#fff;font-size:12.5px}th,td{border:1px solid #e1e4e8;padding:3px 6px;text-align:right;white-space:nowrap}
th.l,td.l{text-align:left}thead th{background:#f0f2f5;position:sticky;top:0}
tr.base td{font-weight:600;background:#f3f7fc}tr.reference td{color:#777;font-style:italic;background:#f7f7f7}
tr.v-reproduced td:last-child{color:#1a7f37;font-weight:600}tr.v-contradicted td:last-child{color:#c62828;font-weight:600}tr.v-inconclusive td:last-child{color:#777}
ul.notes{color:#555;font-size:12.5px;margin:4px 0 0 0}
.verdicts li.reproduced b{color:#1a7f37}.verdicts li.contradicted b{color:#c62828}.verdicts li.inconclusive b{color:#777}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:8px 10px;max-width:660px}
.desc{color:#666;font-size:12px;max-width:880px}.pair{display:flex;gap:12px}
.chart{width:310px;height:260px}.chart.k{width:400px}.chart.wide{width:560px;height:290px}
table.samples td,table.samples th{text-align:center;vertical-align:top}table.samples th{white-space:normal;max-width:100px}table.samples img{display:block;width:96px;image-rendering:auto}
.oracle{margin-top:4px}.oracle span{font-size:10px;color:#777}
details{background:#fff;border:1px solid #e1e4e8;margin:3px 0;padding:2px 8px}pre{font-size:11.5px;margin:4px 0}
#status{font-size:12px;color:#777}
`;

/** The in-page renderer: reads the embedded specs and draws each chart with tfjs-vis. */
const PAGE_SCRIPT = `
(async function () {
  var status = document.getElementById('status');
  var data = JSON.parse(document.getElementById('report-data').textContent);
  if (typeof tfvis === 'undefined') {
    status.textContent = 'tfjs-vis did not load: charts unavailable.';
    document.body.dataset.state = 'error';
    console.error('tfjs-vis did not load');
    return;
  }
  var failed = 0;
  // tfjs-vis waits for an animation frame before each bar chart. A headless browser dumping the
  // page after a virtual-time budget (the README's screenshot command) does not count a pending
  // frame as work: on a loaded machine it took the page for idle and dumped it half drawn. While
  // drawing, frames are therefore asked for as timers, which virtual time waits for.
  var raf = window.requestAnimationFrame;
  window.requestAnimationFrame = function (cb) { return setTimeout(function () { cb(performance.now()); }, 0); };
  for (var i = 0; i < data.charts.length; i++) {
    var c = data.charts[i];
    var el = document.getElementById(c.id);
    try {
      if (c.kind === 'bar') await tfvis.render.barchart(el, c.data, c.options);
      else if (c.kind === 'scatter') await tfvis.render.scatterplot(el, c.data, c.options);
      else await tfvis.render.linechart(el, c.data, c.options);
      el.dataset.rendered = 'true';
    } catch (e) {
      failed++;
      el.dataset.rendered = 'error';
      el.textContent = 'chart failed: ' + e;
      console.error('chart ' + c.id + ' failed: ' + e);
    }
  }
  window.requestAnimationFrame = raf;
  status.textContent = data.charts.length + ' charts drawn with tfjs-vis ' + (tfvis.version_vis || '') + (failed ? ', ' + failed + ' failed' : '') + '.';
  document.body.dataset.state = failed ? 'error' : 'ready';
})();
`;

/** The whole self-contained `report.html` of a grid. */
export function renderHtml(results: GridResults, options: HtmlOptions): string {
  const stats = options.stats ?? gridStats(results, options);
  const src = options.imageSource ?? ((p: string) => p.split('/').map(encodeURIComponent).join('/'));
  const title = options.title ?? 'DISCO ablation report';
  const { charts, sections } = chartSpecs(results, stats);
  const verdicts = stats.ablations.flatMap((a) =>
    a.claims.map((c) => {
      const base = a.rows.find((r) => r.isBase)?.metrics[c.expectation.metric]?.summary.mean ?? 0;
      return `<li class="${c.verdict}"><b>${escapeHtml(formatVerdict(c.verdict))}</b> — <code>${escapeHtml(a.ablation.id)}</code> / <code>${escapeHtml(c.variant)}</code>: ${escapeHtml(METRICS[c.expectation.metric].label)} ${escapeHtml(c.diff ? formatDifference(c.diff, base) : 'no value')}${c.note ? ` (${escapeHtml(c.note)})` : ''}. Paper: ${escapeHtml(c.expectation.claim)}</li>`;
    }),
  );
  const ttk = testTimeKTable(results, stats);
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    ...provenanceLines(results).map((l) => `<p>${inline(l)}</p>`),
    `<p class="method">${inline(methodLine(stats))}</p>`,
    `<p class="caveat"><b>Small-n caveat.</b> ${inline(fidCaveat(results))}</p>`,
    `<p id="status">drawing charts…</p>`,
    `<nav><a href="#verdicts">verdicts</a>${stats.ablations.map((a) => `<a href="#ablation-${escapeHtml(a.ablation.id)}">${escapeHtml(a.ablation.id)}</a>`).join('')}<a href="#metric-charts">metric charts</a>${sections.k.length ? '<a href="#k-charts">metric versus K</a>' : ''}<a href="#curves">training curves</a><a href="#samples">samples</a><a href="#runs">runs</a><a href="#configs">configs</a></nav>`,
    verdicts.length ? `<section id="verdicts"><h2>Verdicts</h2><ul class="verdicts">${verdicts.join('')}</ul></section>` : '',
    ...stats.ablations.map((a) => htmlTable(ablationTable(results, a))),
    ttk ? htmlTable(ttk) : '',
    `<section id="metric-charts"><h2>Metrics per variant</h2><p>Left: mean over seeds (tfjs-vis bar charts have no error bars). Right: every seed's value, the mean and the ends of mean ± 1 sample std. Reference rows (grey, mean color) are single values. Variants are numbered in table order.</p><div class="cards">${sections.metrics.join('')}</div></section>`,
    sections.k.length
      ? `<section id="k-charts"><h2>Metric versus K</h2><p>"trained at K": one model per K (the anchors ablation), mean over seeds; "test-time K": the base model scored with K anchors, mean over seeds. Points, not lines: the K axis is ordinal (equally spaced), labelled with the true K.</p><div class="cards">${sections.k.join('')}</div></section>`
      : '',
    `<section id="curves"><h2>Training curves</h2><p>Stage-2 training loss per variant, mean over seeds, linearly interpolated on a shared step grid.</p><div class="cards">${sections.curves.join('') || '<p>No training curves recorded.</p>'}</div></section>`,
    sampleGrid(results, src),
    htmlTable(runsTable(results)),
    runConfigs(results),
  ];
  const data = { format: 'disco-ablation-report-data-v1', charts, results };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body data-state="loading">
<main>
${body.filter(Boolean).join('\n')}
</main>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>/* @tensorflow/tfjs-vis (Apache-2.0; bundled licenses: tfjs-vis.umd.min.js.LICENSE.txt of the npm package) */
${scriptText(options.tfvisScript)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
