/**
 * The demo in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core;
 * no browser download) loads the freshly built static folder from a local server on 127.0.0.1,
 * opens a photo, waits for the colorization, drags an anchor and sets it to a saturated red,
 * checks that the colors move toward red near that anchor and much less far away, checks the
 * palette, edits with the keyboard, exports the anchors and checks that `disco colorize
 * --anchors-file` gives the same image; the page runs the CLI's default model (tiny-pf, its frozen
 * InceptionV3 served by the same local server). No console errors allowed. Screenshots go to
 * test-output/.
 *
 * Skips (saying so) only when no Chromium executable is found; `.ci/run` installs one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { rgbToNormalizedLab } from '@disco/color';
import { resolveModelArg, runDiscoCli } from '@disco/colorize/node';
import { readImage, writeImage } from '@disco/images';
import { selectBackend } from '@disco/runtime';
import { serveStatic, type StaticServer } from './static-server.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const demoRoot = path.resolve(here, '..');
const outputDir = path.join(demoRoot, 'test-output');
const GREY = path.resolve(demoRoot, '../colorize/demo/grey/astronaut.jpg');

/** A Chromium executable: $CHROMIUM_PATH, else the usual install locations. */
function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'];
  return candidates.find((c): c is string => !!c && fs.existsSync(c)) ?? null;
}

const executable = findChromium();
if (!executable) {
  console.warn('demo browser tests SKIPPED: no Chromium executable found (set CHROMIUM_PATH, or `apt-get install -y chromium`; .ci/run installs it)');
}

/** sRGB bytes → Lab (D65), float64, independent of the package's tfjs conversion. */
function lab(r: number, g: number, b: number): [number, number, number] {
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const X = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const Y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const Z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}

interface Pixels {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  channels: number;
}

/** An image file's RGB bytes (through the CLI's own reader). */
async function readPng(file: string): Promise<Pixels> {
  const rgb = await readImage(file);
  const v = await rgb.data();
  const [height, width] = rgb.shape;
  rgb.dispose();
  return { width, height, data: Uint8Array.from(v, (x) => Math.round(x * 255)), channels: 3 };
}

/** The result canvas's pixels, RGBA. */
async function resultPixels(page: Page): Promise<Pixels> {
  const { width, height, data } = await page.evaluate(() => {
    const c = document.getElementById('result') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    return { width: c.width, height: c.height, data: Array.from(d) };
  });
  return { width, height, data: Uint8ClampedArray.from(data), channels: 4 };
}

/** Waits until the page has painted more than `after` results and is idle. */
async function waitForRender(page: Page, after: number): Promise<number> {
  await page.waitForFunction((n) => Number(document.body.dataset.renders ?? 0) > n && document.body.dataset.state === 'ready', after, { timeout: 60_000 });
  return Number(await page.evaluate(() => document.body.dataset.renders));
}

const renders = (page: Page) => page.evaluate(() => Number(document.body.dataset.renders ?? 0));

interface AnchorPos {
  row: number;
  col: number;
}
const anchorsOf = (page: Page): Promise<AnchorPos[]> =>
  page.$$eval('.anchor', (els) => els.map((e) => ({ row: Number((e as HTMLElement).dataset.row), col: Number((e as HTMLElement).dataset.col) })));

describe.skipIf(!executable)('demo in headless Chromium', () => {
  let tmp: string;
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];
  const timings: Record<string, number> = {};
  let autoResult: { backend: string; pixels: Pixels } | null = null;

  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' }); // this process: image files and the CLI
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-demo-'));
    fs.mkdirSync(outputDir, { recursive: true });
    let t = performance.now();
    // The static folder the `build` target makes, built fresh into a temporary directory.
    await build({ configFile: path.join(demoRoot, 'vite.config.ts'), logLevel: 'warn', build: { outDir: path.join(tmp, 'site'), emptyOutDir: true } });
    timings.buildMs = performance.now() - t;
    server = await serveStatic(path.join(tmp, 'site'), 4 * 60_000);
    // A lossless test photo (the grey demo image as PNG): the browser and the CLI then decode
    // the very same pixels.
    const grey = await readImage(GREY);
    await writeImage(path.join(tmp, 'astronaut.png'), grey);
    grey.dispose();
    t = performance.now();
    browser = await chromium.launch({ executablePath: executable!, headless: true, args: ['--no-sandbox'] });
    timings.launchMs = performance.now() - t;
    page = await browser.newPage({ viewport: { width: 1200, height: 1100 }, acceptDownloads: true });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    console.info(`demo browser test timings (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  it('opens a photo from the file picker and colorizes it; palette of the modeler top 6; dragging an anchor and setting it to red moves nearby colors toward red, far ones much less; the exported anchors give the same image from the CLI', async () => {
    const t0 = performance.now();
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 60_000 });
    timings.startMs = performance.now() - t0;
    const backend = await page.evaluate(() => document.body.dataset.backend);
    expect(['webgpu', 'webgl', 'wasm', 'cpu']).toContain(backend);

    // Open the photo through the file input.
    let n = await renders(page);
    let t = performance.now();
    await page.setInputFiles('#file', path.join(tmp, 'astronaut.png'));
    n = await waitForRender(page, n);
    timings.firstColorizationMs = performance.now() - t;
    timings.firstColorizationPageMs = Number(await page.evaluate(() => document.body.dataset.firstMs));
    // The page runs the CLI's default model (tiny-pf), its frozen InceptionV3 fetched from the local server only.
    const cliDefault = path.basename(resolveModelArg(undefined));
    expect(await page.evaluate(() => document.body.dataset.model)).toBe(cliDefault);
    expect(await page.textContent('body')).toContain(`model ${cliDefault}: `);
    if (cliDefault === 'tiny-pf') {
      expect(requests.filter((u) => /\/nsfw-inception\/(model\.json|group1-shard[1-6]of6\.bin)$/.test(u))).toHaveLength(7);
    }
    expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    const initial = await anchorsOf(page);
    expect(initial.length).toBeGreaterThanOrEqual(2);
    expect(await page.$$eval('#diverse figure canvas', (c) => c.length)).toBe(3);

    // The palette: the modeler's 6 most probable bins at the selected anchor, most probable first.
    await page.click('.anchor >> nth=0');
    const probs = await page.$$eval('.swatch', (els) => els.map((e) => parseFloat(e.textContent ?? '')));
    expect(probs).toHaveLength(6);
    for (let k = 1; k < probs.length; k++) expect(probs[k]!).toBeLessThanOrEqual(probs[k - 1]! + 1e-9);
    expect(probs[0]!).toBeGreaterThan(0);

    // Drag anchor 0 by one and a half superpixels toward the image centre, into a superpixel no
    // other anchor holds (the model grid is 8×8 cells over the image: 32 px here).
    const img = await resultPixels(page);
    const cell = img.width / 8;
    const a0 = initial[0]!;
    const taken = new Set(initial.slice(1).map((a) => `${Math.floor(a.row / cell)},${Math.floor(a.col / cell)}`));
    const dir = (v: number, size: number) => (v < size / 2 ? 1 : -1);
    let target: AnchorPos | null = null;
    for (const k of [1.5, 2.5, 0.5, 3.5]) {
      const cand = { row: a0.row + dir(a0.row, img.height) * k * cell, col: a0.col + dir(a0.col, img.width) * k * cell };
      if (!taken.has(`${Math.floor(cand.row / cell)},${Math.floor(cand.col / cell)}`)) {
        target = cand;
        break;
      }
    }
    expect(target, 'a free superpixel near anchor 0').not.toBeNull();
    const box = (await page.locator('#anchors').boundingBox())!;
    const toScreen = (p: AnchorPos) => ({ x: box.x + ((p.col + 0.5) / img.width) * box.width, y: box.y + ((p.row + 0.5) / img.height) * box.height });
    const from = toScreen(a0);
    const to = toScreen(target!);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 8 });
    await page.mouse.up();
    n = await waitForRender(page, n);
    const moved = (await anchorsOf(page))[0]!;
    expect(Math.abs(moved.row - target!.row)).toBeLessThanOrEqual(2);
    expect(Math.abs(moved.col - target!.col)).toBeLessThanOrEqual(2);
    const beforeRed = await resultPixels(page);

    // Set its color to a saturated red with the free color picker.
    t = performance.now();
    await page.locator('#picker').fill('#ff0000');
    n = await waitForRender(page, n);
    timings.redEditMs = performance.now() - t;
    timings.redEditPageMs = Number(await page.evaluate(() => document.body.dataset.editMs));
    const afterRed = await resultPixels(page);
    const red = lab(255, 0, 0);
    let nearToward = 0;
    let nearChange = 0;
    let nearN = 0;
    let farChange = 0;
    let farN = 0;
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width; x++) {
        const i = (y * img.width + x) * 4;
        const p = lab(beforeRed.data[i]!, beforeRed.data[i + 1]!, beforeRed.data[i + 2]!);
        const q = lab(afterRed.data[i]!, afterRed.data[i + 1]!, afterRed.data[i + 2]!);
        const change = Math.hypot(q[1] - p[1], q[2] - p[2]);
        const d = Math.hypot(y - moved.row, x - moved.col);
        if (d <= cell / 2) {
          nearToward += Math.hypot(p[1] - red[1], p[2] - red[2]) - Math.hypot(q[1] - red[1], q[2] - red[2]);
          nearChange += change;
          nearN++;
        } else if (d >= 3 * cell) {
          farChange += change;
          farN++;
        }
      }
    const toward = nearToward / nearN;
    const near = nearChange / nearN;
    const far = farChange / farN;
    console.info(`red anchor: near pixels ${toward.toFixed(2)} ab closer to red (mean change ${near.toFixed(2)}), far pixels mean change ${far.toFixed(2)}`);
    expect(toward, 'near pixels move toward red (mean ab distance to red decreases, Lab units)').toBeGreaterThan(1);
    expect(near, 'near pixels change at least twice as much as far ones').toBeGreaterThan(2 * far);

    // Keyboard: Enter selects the focused anchor, Shift+ArrowDown moves it one superpixel; Delete
    // removes one.
    await page.focus('.anchor >> nth=1');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('.anchor >> nth=1', 'aria-pressed')).toBe('true');
    expect(await page.textContent('#anchor-info')).toMatch(/^Anchor 2: /);
    const k0 = (await anchorsOf(page))[1]!;
    await page.keyboard.press(k0.row < img.height / 2 ? 'Shift+ArrowDown' : 'Shift+ArrowUp');
    n = await waitForRender(page, n);
    const k1 = (await anchorsOf(page))[1]!;
    expect(Math.abs(k1.row - k0.row)).toBeCloseTo(cell, 0);
    const count = (await anchorsOf(page)).length;
    await page.focus(`.anchor >> nth=${count - 1}`);
    await page.keyboard.press('Delete');
    n = await waitForRender(page, n);
    expect((await anchorsOf(page)).length).toBe(count - 1);
    const tensorsA = Number(await page.evaluate(() => document.body.dataset.tensors));
    await page.click('.anchor >> nth=0');
    await page.click('.swatch >> nth=0');
    n = await waitForRender(page, n);
    expect(Number(await page.evaluate(() => document.body.dataset.tensors)), 'no tensors leak per edit').toBe(tensorsA);
    await page.locator('#picker').fill('#ff0000');
    await waitForRender(page, n);

    // The comparison slider: 35 % of the width shows the grey input.
    await page.selectOption('#compare-with', 'grey');
    await page.locator('#compare').fill('35');
    await page.mouse.move(0, 0); // no hover highlight in the screenshot
    expect(await page.$eval('#before', (c) => (c as HTMLCanvasElement).style.clipPath)).toBe('inset(0px 65% 0px 0px)');
    await page.screenshot({ path: path.join(outputDir, 'demo.png'), fullPage: true });

    // Export the anchors and download the PNG.
    const [hintsDl] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const hintsFile = path.join(tmp, 'hints.json');
    await hintsDl.saveAs(hintsFile);
    const hints = JSON.parse(fs.readFileSync(hintsFile, 'utf8')) as Record<string, Array<{ row: number; col: number; ab: [number, number] }>>;
    expect(Object.keys(hints)).toEqual(['astronaut.png']);
    const list = hints['astronaut.png']!;
    expect(list).toHaveLength(count - 1);
    expect(list[0]!.ab[0]).toBeGreaterThan(70); // a saturated red: a ≈ 80, b ≈ 67
    expect(list[0]!.ab[1]).toBeGreaterThan(55);
    const [pngDl] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const browserPng = path.join(tmp, 'browser.png');
    await pngDl.saveAs(browserPng);
    const edited = await resultPixels(page);

    // Reset gives the model's own anchors back; importing the exported file restores the edit.
    await page.click('#reset');
    n = await waitForRender(page, n);
    expect(await anchorsOf(page)).toEqual(initial);
    await page.setInputFiles('#import', hintsFile);
    n = await waitForRender(page, n);
    expect((await anchorsOf(page)).length).toBe(count - 1);
    expect(Array.from((await resultPixels(page)).data)).toEqual(Array.from(edited.data));

    // The CLI with that JSON: the same image within a stated tolerance.
    t = performance.now();
    const lines: string[] = [];
    await runDiscoCli(['colorize', path.join(tmp, 'astronaut.png'), '-o', path.join(tmp, 'cli'), '--anchors-file', hintsFile, '--backend', 'wasm'], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    timings.cliMs = performance.now() - t;
    expect(lines.join('\n')).toMatch(/colorized 1\/1 images/);
    const a = await readPng(browserPng);
    const b = await readPng(path.join(tmp, 'cli', 'astronaut.png'));
    expect([a.width, a.height]).toEqual([b.width, b.height]);
    let maxDiff = 0;
    let sum = 0;
    for (let i = 0; i < a.data.length; i++) {
      const d = Math.abs(a.data[i]! - b.data[i]!);
      maxDiff = Math.max(maxDiff, d);
      sum += d;
    }
    const mean = sum / a.data.length;
    console.info(`browser (${backend}) vs CLI (wasm): max |Δ| ${maxDiff}/255, mean |Δ| ${mean.toFixed(4)}/255`);
    // Same backend kind: float rounding only. A GPU backend computes in its own precision.
    const tol = backend === 'wasm' || backend === 'cpu' ? { max: 2, mean: 0.05 } : { max: 12, mean: 1 };
    expect(maxDiff, 'largest channel difference, of 255').toBeLessThanOrEqual(tol.max);
    expect(mean, 'mean channel difference, of 255').toBeLessThanOrEqual(tol.mean);

    // Phone width: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(outputDir, 'demo-phone.png'), fullPage: true });

    expect(server.failed, 'requests the static server could not answer').toEqual([]);
    expect(problems).toEqual([]);
  });

  it('?demo=1 opens the first bundled photo and colorizes it at once, and says which backend it fell back to', async () => {
    const p = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const errors: string[] = [];
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(`${server.url}?demo=1`);
    await waitForRender(p, 0);
    expect(await p.textContent('#status')).toMatch(/^astronaut\.jpg: colorized in /);
    const facts = (await p.textContent('#facts')) ?? '';
    const backend = await p.evaluate(() => document.body.dataset.backend);
    expect(facts).toContain(`backend ${backend}`);
    if (backend !== 'webgpu') expect(facts).toMatch(/fell back from webgpu \(/);
    autoResult = { backend: backend!, pixels: await resultPixels(p) };

    // "Edit from T = 1" shows that result and takes its anchors.
    let n = await renders(p);
    await p.click('#diverse button[data-variant="1"]');
    n = await waitForRender(p, n);
    const t1 = await p.$eval('#diverse figure:nth-child(2) canvas', (c) => {
      const cv = c as HTMLCanvasElement;
      return Array.from(cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data);
    });
    expect(Array.from((await resultPixels(p)).data)).toEqual(t1);
    expect(await p.getAttribute('#diverse button[data-variant="1"]', 'aria-pressed')).toBe('true');

    // Drag and drop of a file (a bundled color photo) opens it.
    const bytes = fs.readFileSync(path.join(demoRoot, 'photos', 'coffee-color.jpg')).toString('base64');
    const dt = await p.evaluateHandle((b64) => {
      const d = new DataTransfer();
      d.items.add(new File([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))], 'coffee-color.jpg', { type: 'image/jpeg' }));
      return d;
    }, bytes);
    await p.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
    await waitForRender(p, n);
    expect(await p.textContent('#status')).toMatch(/^coffee-color\.jpg: colorized in /);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('?backend=webgl (forced, even where only a software rasteriser serves it) gives the same colorization within GPU precision', async () => {
    const p = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const errors: string[] = [];
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    p.on('pageerror', (e) => errors.push(e.message));
    const t = performance.now();
    await p.goto(`${server.url}?demo=1&backend=webgl`);
    await p.waitForFunction(() => Number(document.body.dataset.renders ?? 0) > 0 && document.body.dataset.state === 'ready', null, { timeout: 100_000 });
    timings.webglFirstColorizationMs = performance.now() - t;
    expect(await p.evaluate(() => document.body.dataset.backend)).toBe('webgl');
    const a = await resultPixels(p);
    const b = autoResult!.pixels;
    let maxDiff = 0;
    let sum = 0;
    for (let i = 0; i < a.data.length; i++) {
      const d = Math.abs(a.data[i]! - b.data[i]!);
      maxDiff = Math.max(maxDiff, d);
      sum += d;
    }
    console.info(`webgl vs ${autoResult!.backend}: max |Δ| ${maxDiff}/255, mean |Δ| ${(sum / a.data.length).toFixed(4)}/255`);
    expect(maxDiff).toBeLessThanOrEqual(12);
    expect(sum / a.data.length).toBeLessThanOrEqual(1);
    expect(errors).toEqual([]);
    await p.close();
  });
  it('a photo larger than the working size (2000×1200 → 1280×768) downloads at its full resolution, with its own lightness', async () => {
    const big = path.join(tmp, 'big.png');
    const src = await readImage(path.join(tmp, 'astronaut.png'));
    const up = tf.tidy(() => tf.clipByValue(tf.image.resizeBilinear(src, [1200, 2000], false, true), 0, 1) as tf.Tensor3D);
    await writeImage(big, up);
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 60_000 });
    const n = await renders(page);
    await page.setInputFiles('#file', big);
    await waitForRender(page, n);
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#download')]);
    const file = path.join(tmp, 'big_disco.png');
    await dl.saveAs(file);
    const out = await readImage(file);
    expect(out.shape).toEqual([1200, 2000, 3]);
    // The lightness is the file's (within 8-bit rounding and gamut clamping), not an upsampled copy.
    const dL = tf.tidy(() => {
      const a = rgbToNormalizedLab(tf.expandDims(out, 0) as tf.Tensor4D).L;
      const b = rgbToNormalizedLab(tf.expandDims(up, 0) as tf.Tensor4D).L;
      return tf.mean(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    });
    expect(dL).toBeLessThan(0.02);
    expect(await page.textContent('#status')).toMatch(/big_disco\.png: 2000×1200, the file's full resolution\./);
    tf.dispose([src, up, out]);
  });
});
