/**
 * The browser entry point outside Node: `src/index.ts` bundled by esbuild for the browser must not
 * reach for Node (no `require`, `process`, `Buffer`, `node:` imports) and must read the zip and
 * legacy fixtures (1) in a bare `node:vm` context holding only the JavaScript built-ins plus
 * TextDecoder/TextEncoder, and (2) in headless Chromium (Debian's `chromium` driven by
 * playwright-core, as the demo's tests do; skipped, saying so, when no Chromium is installed).
 */
import * as fs from 'node:fs';
import * as vm from 'node:vm';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';

const entry = new URL('../src/index.ts', import.meta.url).pathname;
const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

/** Runs in the page / vm: reads both fixtures with the bundled `pth` global and summarises them. */
function probe(files: Record<string, string>): unknown {
  const lib = (globalThis as unknown as { pth: typeof import('../src/index.js') }).pth;
  const out: Record<string, unknown> = {};
  for (const [name, b64] of Object.entries(files)) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const ckpt = lib.readPth(bytes, { source: name }) as Map<string, unknown>;
    const sd = lib.stateDictOf(ckpt, name);
    out[name] = {
      epoch: ckpt.get('epoch'),
      bestLoss: ckpt.get('best_loss'),
      keys: [...sd.keys()].length,
      half: Array.from(sd.get('extra.half')!.toFloat32()),
      transposed: Array.from(sd.get('extra.transposed')!.toFloat32()),
      steps: String(sd.get('bn.num_batches_tracked')!.toBigInt64()[0]),
      shared: sd.get('extra.slice_a')!.storage === sd.get('extra.slice_b')!.storage,
      noCopy: sd.get('conv.weight')!.storage.bytes.buffer === bytes.buffer,
    };
  }
  let error = '';
  try {
    lib.readPth(new Uint8Array([1, 2, 3]), { source: 'bad.pth' });
  } catch (e) {
    error = (e as Error).message;
  }
  out.error = error;
  return out;
}

const expected = {
  epoch: 7,
  bestLoss: 0.25,
  keys: 15,
  half: [-0.7001953125, -0.36669921875, -0.0333251953125, 0.300048828125, 0.63330078125, 0.966796875],
  transposed: [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11],
  steps: '2',
  shared: true,
  noCopy: true,
};
const files = Object.fromEntries(['container_zip.pth', 'container_legacy.pth'].map((f) => [f, Buffer.from(fixture(f)).toString('base64')]));
const want = { 'container_zip.pth': expected, 'container_legacy.pth': expected, error: 'bad.pth: not a PyTorch checkpoint (neither a zip archive nor a pickle)' };

let bundle = '';
beforeAll(async () => {
  const result = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'iife', globalName: 'pth', write: false, target: 'es2022', logLevel: 'silent' });
  bundle = result.outputFiles[0]!.text;
});

describe('browser bundle of @disco/pth', () => {
  it('uses nothing from Node', () => {
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\.|["']node:/);
  });

  it('reads both fixtures in a bare JavaScript context (no Node globals)', () => {
    const context = vm.createContext({ TextDecoder, TextEncoder, atob });
    vm.runInContext(bundle, context);
    context.files = files;
    expect(vm.runInContext(`(${probe.toString()})(files)`, context)).toEqual(want);
  });

  const executable = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'].find(
    (c): c is string => !!c && fs.existsSync(c),
  );
  if (!executable) console.warn('pth browser test SKIPPED: no Chromium executable found (set CHROMIUM_PATH, or `apt-get install -y chromium`)');
  it.skipIf(!executable)('reads both fixtures in headless Chromium', async () => {
    const browser = await chromium.launch({ executablePath: executable!, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.addScriptTag({ content: bundle });
      const got = await page.evaluate(`(${probe.toString()})(${JSON.stringify(files)})`);
      expect(got).toEqual(want);
    } finally {
      await browser.close();
    }
  });
});
