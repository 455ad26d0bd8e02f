/**
 * The ablation report in a real browser: a synthetic grid (all five ablations, 3 seeds, sample
 * PNGs written by sharp) goes through `writeReport`, and headless Chromium (Debian's `chromium`,
 * driven by playwright-core; no browser download) opens `report.html` from a file:// URL with
 * every non-file request blocked. Checks: the page says every chart drew, each chart container
 * holds a vega canvas with non-background pixels, every sample image decoded, the tables are
 * there, and the console has no errors or warnings. A full-page screenshot goes to
 * test-output/report.png.
 *
 * Skips (saying so) only when no Chromium executable is found.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../src/node.js';
import { writeSyntheticGrid } from './report-fixtures.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const outputDir = path.resolve(here, '../test-output');

/** A Chromium executable: $CHROMIUM_PATH, else the usual install locations. */
function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'];
  return candidates.find((c): c is string => !!c && fs.existsSync(c)) ?? null;
}

const executable = findChromium();
if (!executable) console.warn('report browser test SKIPPED: no Chromium executable found (set CHROMIUM_PATH, or `apt-get install -y chromium`)');

describe.skipIf(!executable)('report.html in headless Chromium', () => {
  let tmp: string;
  let browser: Browser;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-report-'));
    fs.mkdirSync(outputDir, { recursive: true });
    browser = await chromium.launch({ executablePath: executable!, headless: true, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a plain headless screenshot command waits for the charts with --virtual-time-budget (the README\'s command; DOM dumped instead of pixels)', async () => {
    const dir = path.join(tmp, 'cli');
    const results = await writeSyntheticGrid(dir, { seeds: [0, 1] });
    const files = writeReport(dir, results, {});
    const { execFile } = await import('node:child_process');
    const dom = await new Promise<string>((resolve, reject) =>
      execFile(executable!, ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=120000', '--dump-dom', pathToFileURL(files.html).href], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    expect(dom).toMatch(/<body data-state="ready">/);
    expect(dom).toMatch(/<p id="status">\d+ charts drawn with tfjs-vis/);
    expect(dom).not.toContain('drawing charts');
  });

  it('draws every chart when animation frames never come (a starved compositor, as a loaded machine gives a headless dump)', async () => {
    const dir = path.join(tmp, 'no-frames');
    const files = writeReport(dir, await writeSyntheticGrid(dir, { seeds: [0, 1] }), {});
    const page = await browser.newPage();
    await page.addInitScript(() => {
      window.requestAnimationFrame = () => 0; // never calls back
    });
    await page.goto(pathToFileURL(files.html).href);
    await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    const rendered = await page.$$eval('[data-chart]', (els) => els.map((el) => (el as HTMLElement).dataset.rendered));
    expect(rendered.length).toBeGreaterThan(20);
    expect(rendered.every((r) => r === 'true')).toBe(true);
    // The page's own frames are given back once the charts are drawn.
    expect(await page.evaluate(() => window.requestAnimationFrame(() => {}))).toBe(0);
    await page.close();
  });

  for (const inline of [true, false]) {
    it(`draws every chart and image, no console errors (images ${inline ? 'inlined' : 'linked'})`, async () => {
      const dir = path.join(tmp, inline ? 'inline' : 'linked');
      const results = await writeSyntheticGrid(dir, { seeds: [0, 1, 2] });
      const files = writeReport(dir, results, inline ? { title: 'DISCO ablation report — synthetic example (made-up numbers)' } : { inlineImageBytes: 0 });
      expect(fs.readdirSync(dir).sort()).toEqual(['photos', 'report.html', 'report.md', 'results.json', 'runs']);
      expect(JSON.parse(fs.readFileSync(files.json, 'utf8'))).toEqual(results);
      const html = fs.readFileSync(files.html, 'utf8');
      expect(/<script[^>]+src=|<link[^>]+href=/.test(html)).toBe(false);
      if (inline) expect(html).toContain('data:image/png;base64,');
      else expect(html).toContain('src="runs/k8-s0/samples/photo-1.png"');

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      const external: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
        external.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(files.html).href);
      await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
      expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');

      const charts = await page.$$eval('[data-chart]', (els) =>
        els.map((el) => {
          const canvas = el.querySelector('canvas');
          let marks = 0;
          if (canvas && canvas.width > 0 && canvas.height > 0) {
            const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            // Colored (non-grey) pixels: bars, points and lines, not axes, grid or text.
            for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) marks++;
          }
          return { id: el.id, kind: (el as HTMLElement).dataset.chart, rendered: (el as HTMLElement).dataset.rendered, canvas: !!canvas, marks };
        }),
      );
      // 11 metrics × (bars + per-seed points) + metric versus K for the 4 test-time metrics + 4 training curves.
      expect(charts.filter((c) => c.kind === 'bar')).toHaveLength(11);
      expect(charts.filter((c) => c.id.startsWith('seeds-'))).toHaveLength(11);
      expect(charts.filter((c) => c.id.startsWith('k-'))).toHaveLength(4); // the 4 test-time-K metrics of the fixture
      expect(charts.filter((c) => c.id.startsWith('curve-'))).toHaveLength(4);
      for (const c of charts) {
        expect(c, c.id).toMatchObject({ rendered: 'true', canvas: true });
        expect(c.marks, `${c.id} has colored marks`).toBeGreaterThan(50);
      }

      const images = await page.$$eval('#samples img', (els) => els.map((e) => ({ alt: (e as HTMLImageElement).alt, ok: (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth > 0 })));
      // 3 photos × (truth + grey + 9 variants + 8 oracle images).
      expect(images).toHaveLength(3 * (2 + 9 + 8));
      expect(images.filter((i) => !i.ok)).toEqual([]);

      const tables = await page.$$eval('section[id^="ablation-"] table', (ts) => ts.length);
      expect(tables).toBe(5);
      expect(await page.$$eval('#runs tbody tr', (rs) => rs.length)).toBe(27);
      expect(await page.$$eval('#configs details', (ds) => ds.length)).toBe(27);
      expect(await page.textContent('#verdicts')).toContain('contradicted');

      expect(problems).toEqual([]);
      expect(external).toEqual([]);
      await page.screenshot({ path: path.join(outputDir, `report${inline ? '' : '-linked'}.png`), fullPage: true });
      if (inline) {
        // The top of the page and the chart section, for a quick look.
        await page.screenshot({ path: path.join(outputDir, 'report-top.png') });
        await page.locator('#metric-charts').screenshot({ path: path.join(outputDir, 'report-charts.png') });
      }
      await page.close();
    });
  }
});
