/**
 * report.md and report.html without a browser: number formatting by hand, the tables' content
 * on the synthetic grid, the one-seed and no-test-time-K cases, escaping of hostile labels in
 * both formats, the embedded JSON, and `writeReport`'s files (atomic, images inlined or linked).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chartSpecs, gridStats, renderHtml, renderMarkdown, welchInterval } from '../src/index.js';
import { imageSourceResolver, writeReport } from '../src/node.js';
import { formatDifference, formatNumber, formatSeconds, formatSummary, splitConfigs } from '../src/report/tables.js';
import { syntheticGrid, writeSyntheticGrid } from './report-fixtures.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-report-render-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('formatting', () => {
  it('numbers, summaries, differences, durations', () => {
    expect(formatNumber(120.94)).toBe('120.9');
    expect(formatNumber(0.049671)).toBe('0.0497');
    expect(formatNumber(11.823)).toBe('11.82');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(1234.5)).toBe('1235');
    expect(formatSummary({ n: 3, mean: 120.94, std: 1.712, values: [] })).toBe('120.9 ± 1.7');
    expect(formatSummary({ n: 1, mean: 7.25, std: null, values: [7.25] })).toBe('7.250');
    expect(formatDifference({ delta: 39.04, lo: 32.01, hi: 46.06, level: 0.95, method: 'welch', df: 3.1, n: [3, 3] }, 120.9)).toBe('Δ +39.0 [+32.0, +46.1]');
    expect(formatDifference({ delta: -0.0402, lo: null, hi: null, level: 0.95, method: 'welch', df: null, n: [1, 3] }, 11.8)).toBe('Δ −0.04');
    expect(formatSeconds(45)).toBe('45 s');
    expect(formatSeconds(600)).toBe('10.0 min');
    expect(formatSeconds(7200)).toBe('2.00 h');
  });

  it('splits configs into the shared part and per-run differences', () => {
    const g = syntheticGrid({ seeds: [0, 1] });
    const { common, perRun } = splitConfigs(g.runs);
    expect(common).toMatchObject({ steps: '2000', imageSize: '64', batchSize: '4' });
    expect(common.seed).toBeUndefined();
    expect(perRun.get('k1-s0')).toMatchObject({ anchors: '1', seed: '0' });
  });
});

describe('report.md', () => {
  const grid = syntheticGrid({ seeds: [0, 1, 2] });
  const md = renderMarkdown(grid);

  it('has the header, the caveat, a table per ablation, test-time K, the legend and every run', () => {
    expect(md).toMatch(/^# DISCO ablation report\n/);
    expect(md).toContain('Budget `smoke`: 2000 stage-2 steps, 64 px crops, batch 4');
    expect(md).toContain('27 runs of 9 variants; commit abc1234; backend wasm');
    expect(md).toContain('95 % Welch t interval');
    expect(md).toContain('> **Small-n caveat.** FID and KID come from 12 held-out photos');
    for (const t of ['## Number of anchors K (`anchors`)', '## Anchor branch (`branch`)', '## Soft versus hard superpixels (`superpixels`)', '## Refinement network (`refinement`)', '## Anchor placement: clustering versus random (`clustering`)', '## Test-time K', '## Metrics', '## Runs'])
      expect(md).toContain(t);
    expect(md).toContain('| **DISCO, K = 8 (`k8`, base)** | 3 |');
    expect(md).toContain('| *grey (reference)* | — | 210.0 |');
    expect(md).toContain('5 reproduced, 1 contradicted, 1 inconclusive.');
    expect(md.match(/^\| `[a-z0-9-]+-s\d` \|/gm)).toHaveLength(27);
    expect(md).toContain('Config shared by every run: steps=2000, imageSize=64, batchSize=4, learningRate=0.0002.');
  });

  it('prints the same Δ and interval as the statistics', () => {
    const fid = (v: string) => grid.runs.filter((r) => r.variant === v).map((r) => r.metrics.fid!);
    const d = welchInterval(fid('k1'), fid('k8'));
    const base = fid('k8').reduce((s, x) => s + x, 0) / 3;
    const text = formatDifference(d, base);
    expect(md).toContain(`- **anchors / k1**: ✔ reproduced — FID ${text};`);
    expect(md).toMatch(new RegExp(`\\| K = 1 \\(\`k1\`\\) \\| 3 \\| [0-9.]+ ± [0-9.]+ \\(${text.replace(/[[\]+.]/g, '\\$&')}\\) \\|`));
  });

  it('with one seed: values without ± and intervals, every claim inconclusive', () => {
    const one = renderMarkdown(syntheticGrid({ seeds: [4] }));
    expect(one).toContain('0 reproduced, 0 contradicted, 7 inconclusive.');
    expect(one.split('\n').filter((l) => l.startsWith('| ') && l.includes(' ± '))).toEqual([]);
    expect(one).toContain('? inconclusive (n = 1 vs 1: at least 2 seeds per side are needed for an interval)');
  });

  it('without test-time K there is no such section; pipes in labels are escaped', () => {
    const g = syntheticGrid({ seeds: [0, 1] });
    delete g.testTimeK;
    g.variants.k1.label = 'K | one';
    const out = renderMarkdown(g);
    expect(out).not.toContain('## Test-time K');
    expect(out).toContain('K \\| one (`k1`)');
  });
});

describe('incomplete grids', () => {
  it('a variant without runs, a NaN metric and no curves render without failing', () => {
    const g = syntheticGrid({ seeds: [0, 1] });
    g.runs = g.runs.filter((r) => r.variant !== 'k2');
    g.runs[0].metrics.fid = NaN;
    for (const r of g.runs) r.curve = [];
    g.references.grey.kid = NaN;
    const md = renderMarkdown(g);
    expect(md).toContain('| K = 2 (`k2`) | 0 | — |');
    expect(md).toContain('? inconclusive (FID missing for this variant)');
    expect(md).not.toContain('NaN');
    const stats = gridStats(g);
    expect(stats.ablations[0].rows[0].metrics.fid!.summary.n).toBe(1);
    const { charts } = chartSpecs(g, stats);
    expect(charts.some((c) => c.id.startsWith('curve-'))).toBe(false);
    const bars = charts.find((c) => c.id === 'bar-kid')!.data as Array<{ index: string; value: number }>;
    expect(bars.every((b) => Number.isFinite(b.value))).toBe(true);
    expect(bars.some((b) => b.index.endsWith(' grey'))).toBe(false);
    const html = renderHtml(g, { tfvisScript: '' });
    expect(html).toContain('No training curves recorded.');
  });
});

describe('report.html', () => {
  it('embeds the data as parseable JSON and escapes hostile text', () => {
    const g = syntheticGrid({ seeds: [0, 1] });
    g.variants.k2.label = '</script><script>alert(1)</script>';
    g.ablations[0].expectations.k2.claim = '<b>bold</b> & "quoted"';
    const html = renderHtml(g, { tfvisScript: 'window.tfvis = undefined;' });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;');
    const json = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)![1];
    const data = JSON.parse(json);
    expect(data.results).toEqual(g);
    expect(data.charts.map((c: { id: string }) => c.id)).toContain('bar-fid');
    // Only the three inline scripts, no external resources.
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('charts: bars and per-seed points per metric, K curves, training curves', () => {
    const g = syntheticGrid({ seeds: [0, 1, 2] });
    const { charts } = chartSpecs(g, gridStats(g));
    const ids = charts.map((c) => c.id);
    expect(ids.filter((i) => i.startsWith('bar-'))).toHaveLength(11);
    expect(ids.filter((i) => i.startsWith('seeds-'))).toHaveLength(11);
    expect(ids.filter((i) => i.startsWith('k-'))).toEqual(['k-fid', 'k-abError', 'k-auc', 'k-colorfulness']);
    expect(ids.filter((i) => i.startsWith('curve-'))).toEqual(['curve-total', 'curve-abL1', 'curve-ceModeler', 'curve-ceGenerator']);
    const bar = charts.find((c) => c.id === 'bar-fid')!.data as Array<{ index: string; value: number }>;
    // 9 variants then the 2 references, labels numbered so vega-lite's alphabetical order is the table order.
    expect(bar.map((b) => b.index)).toEqual(['01 k8', '02 k1', '03 k2', '04 k4', '05 k16', '06 no-branch', '07 hard', '08 no-refinement', '09 random', '10 grey', '11 mean color']);
    const k8 = g.runs.filter((r) => r.variant === 'k8').map((r) => r.metrics.fid!);
    expect(bar[0].value).toBeCloseTo(k8.reduce((s, x) => s + x, 0) / 3, 12);
    const k = charts.find((c) => c.id === 'k-fid')!.data as { values: Array<Array<{ x: number }>>; series: string[] };
    expect(k.series).toEqual(['trained at K', 'test-time K (trained at 8)']);
    expect(k.values[0].map((p) => p.x)).toEqual([1, 2, 4, 8, 16]);
  });
});

describe('writeReport', () => {
  it('writes the three files atomically and inlines small images', async () => {
    const dir = path.join(tmp, 'grid');
    const g = await writeSyntheticGrid(dir, { seeds: [0, 1], photos: 2 });
    const files = writeReport(dir, g);
    expect(files).toEqual({ json: path.join(dir, 'results.json'), md: path.join(dir, 'report.md'), html: path.join(dir, 'report.html') });
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp') || f.startsWith('.'))).toEqual([]);
    expect(JSON.parse(fs.readFileSync(files.json, 'utf8'))).toEqual(g);
    expect(fs.readFileSync(files.md, 'utf8')).toBe(renderMarkdown(g));
    const html = fs.readFileSync(files.html, 'utf8');
    expect(html).toContain('tfvis');
    expect(html.length).toBeGreaterThan(1_000_000); // the inlined bundle
    expect(html).toContain('src="data:image/png;base64,');
    // Written again (e.g. after more runs finished): replaced, not appended.
    g.runs = g.runs.filter((r) => r.seed === 0);
    writeReport(dir, g);
    expect(JSON.parse(fs.readFileSync(files.json, 'utf8')).runs).toHaveLength(9);
  });

  it('links images over the size limit, missing ones, and once the budget is spent', () => {
    const dir = path.join(tmp, 'img');
    fs.mkdirSync(path.join(dir, 'a b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a b', 'small.png'), Buffer.alloc(10, 1));
    fs.writeFileSync(path.join(dir, 'big.png'), Buffer.alloc(100, 1));
    const src = imageSourceResolver(dir, { inlineImageBytes: 50, inlineTotalBytes: 15 });
    expect(src('a b/small.png')).toBe(`data:image/png;base64,${Buffer.alloc(10, 1).toString('base64')}`);
    expect(src('big.png')).toBe('big.png');
    expect(src('missing.png')).toBe('missing.png');
    fs.writeFileSync(path.join(dir, 'second.png'), Buffer.alloc(10, 2));
    expect(src('second.png')).toBe('second.png'); // 10 + 10 > 15
    expect(imageSourceResolver(dir, { inlineImageBytes: 0 })('a b/small.png')).toBe('a%20b/small.png');
  });
});
