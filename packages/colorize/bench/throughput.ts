/**
 * Benchmark: `disco colorize` throughput in images per second with 1 and 2 worker threads, on
 * synthetic 256×256 photos, with the embedded `tiny` model and the default embedded model (at their
 * 64² working size, `--mode resize`) and a randomly initialised `paper` model (256²). Wall time of the whole command,
 * model loading and worker start included. Side by side: PyTorch's rate for the same layer plans
 * (`torch_disco_cfg.py`, one image at a time at the same size, its faster thread count).
 *
 *   nx run colorize:bench-throughput [-- --images 48 --paper-images 16 --no-paper --no-torch]   → bench/throughput.json
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { collectRunInfo, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import { runDiscoCli } from '../src/cli/disco.js';
import { saveDiscoModel } from '../src/io/model_files.js';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { DEFAULT_MODEL } from '../src/model/embedded.js';
import { arg } from './rounds.js';
import { findTorchPython, torchBoth } from './torch.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const n = arg('--images', 48);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-throughput-'));
  const src = path.join(tmp, 'in');
  fs.mkdirSync(src);
  for (let k = 0; k < n; k++) {
    const px = Buffer.alloc(256 * 256 * 3);
    for (let i = 0; i < 256 * 256; i++) px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = ((i % 256) * (k + 1) + (i >> 8)) % 256;
    await sharp(px, { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(path.join(src, `img${String(k).padStart(3, '0')}.png`));
  }
  const backend = await setupBackendForCli('wasm');
  const py = process.argv.includes('--no-torch') ? null : findTorchPython();
  // Embedded models by name (`--model`): `tiny` has PyTorch's layer plans beside it; the default
  // model (`tiny-pf`, InceptionV3 features inside) has none, so it is timed for ours only.
  const models: { name: string; preset: 'tiny' | 'paper' | null; size: number; dir?: string; images: number }[] = [
    { name: 'tiny (embedded)', preset: 'tiny', size: 64, dir: 'tiny', images: n },
    { name: `${DEFAULT_MODEL} (embedded, the default)`, preset: null, size: 64, dir: DEFAULT_MODEL, images: n },
  ];
  if (!process.argv.includes('--no-paper')) {
    const m = DiscoModel.create(resolveDiscoConfig({}, 'paper'));
    const dir = path.join(tmp, 'paper');
    await saveDiscoModel(m, dir, { note: 'random initialisation, for timing only' });
    m.dispose();
    models.push({ name: 'paper (random weights)', preset: 'paper', size: 256, dir, images: Math.min(n, arg('--paper-images', 16)) });
  }
  const rows: object[] = [];
  for (const model of models) {
    const inputs = fs.readdirSync(src).sort().slice(0, model.images).map((f) => path.join(src, f));
    for (const workers of [1, 2]) {
      const out = path.join(tmp, `out-${rows.length}`);
      const t0 = performance.now();
      await runDiscoCli(['colorize', ...inputs, '-o', out, '--backend', 'wasm', '--workers', String(workers), ...(model.dir ? ['--model', model.dir] : [])], { out: () => {}, err: () => {} });
      const s = (performance.now() - t0) / 1000;
      const row = { model: model.name, workers, images: inputs.length, seconds: s, imagesPerSecond: inputs.length / s };
      rows.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
  }
  // PyTorch's rate for the same plans and sizes, right after ours (models with a PyTorch plan).
  const pytorch = py
    ? models.flatMap((m) => {
        if (m.preset == null) return [];
        const r = torchBoth(py, ['--preset', m.preset, '--no-train', '--infer-size', String(m.size), '--reps', m.preset === 'paper' ? '3' : '10'], (x) => x.inferSeconds);
        return [{ model: m.name, inferSize: m.size, framework: r.threads1.framework, imagesPerSecond: 1 / r.bestS, bestThreads: r.bestThreads, threads1S: r.threads1.inferSeconds, threads2S: r.threads2.inferSeconds }];
      })
    : null;
  const ratios = pytorch?.map((p) => {
    const best = Math.max(...(rows as Array<{ model: string; imagesPerSecond: number }>).filter((r) => r.model === p.model).map((r) => r.imagesPerSecond));
    return { model: p.model, oursImagesPerSecond: best, pytorchImagesPerSecond: p.imagesPerSecond, oursOverPytorch: best / p.imagesPerSecond };
  });
  console.log(`\n| model | ours, best of 1/2 workers (img/s) | PyTorch (img/s) | ours / PyTorch |\n|---|---:|---:|---:|`);
  for (const r of ratios ?? []) console.log(`| ${r.model} | ${r.oursImagesPerSecond.toFixed(2)} | ${r.pytorchImagesPerSecond.toFixed(2)} | ${r.oursOverPytorch.toFixed(2)}× |`);
  const loadavg = os.loadavg();
  writeJsonAtomic(path.join(here, 'throughput.json'), {
    benchmark: 'disco colorize throughput: 256×256 synthetic grey photos, --mode resize, wall time of the whole command (model load and worker start included)',
    date: new Date().toISOString(),
    backend: backend.name,
    convolutions: backend.convolutions ?? 'wasm (XNNPACK)',
    loadAverageAtEnd: loadavg,
    underLoad: process.argv.includes('--under-load'),
    run: collectRunInfo(),
    results: rows,
    pytorch,
    ratioToPytorch: ratios ?? null,
  });
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`throughput: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
