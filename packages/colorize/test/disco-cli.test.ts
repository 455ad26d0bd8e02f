import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '@disco/superpixel/node';
import { describeCliError, PAD_MAX_TOKENS, runDiscoCli } from '../src/cli/disco.js';
import { makeImage } from './photos.js';

const lines: string[] = [];
const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
let dir = '';
let data = '';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-cli-'));
  data = path.join(dir, 'photos');
  fs.mkdirSync(data);
  for (let i = 0; i < 12; i++) await makeImage(path.join(data, `p${i}.png`), i);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const trainArgs = (out: string, extra: string[] = []) => ['train', '--config', 'tiny', '--data', data, '--out', out, '--steps', '8', '--batch-size', '2', '--perceptual', 'none', '--validate-every', '0', '--checkpoint-every', '3', '--backend', 'wasm', ...extra];

describe('disco train / colorize (CLI, wasm)', () => {
  it('an interrupted run resumed with --resume ends bit-identical to an uninterrupted one', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    await runDiscoCli(trainArgs(a), io);
    await runDiscoCli(trainArgs(b, ['--stop-at', '7']), io); // 12 images, batch 2: crosses the epoch boundary at step 6
    expect(fs.existsSync(path.join(b, 'model'))).toBe(false); // stopped before the end
    expect(JSON.parse(fs.readFileSync(path.join(b, 'checkpoint', 'state.json'), 'utf8')).step).toBe(7);
    await runDiscoCli(trainArgs(b, ['--resume']), io);
    const strip0 = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => { const { ms: _ms, ...rest } = JSON.parse(l); return rest; });
    expect(strip0(path.join(b, 'log.jsonl'))).toEqual(strip0(path.join(a, 'log.jsonl')));
    const wa = fs.readFileSync(path.join(a, 'model', 'weights.bin'));
    const wb = fs.readFileSync(path.join(b, 'model', 'weights.bin'));
    expect(wb.length).toBe(wa.length);
    expect(wb.equals(wa)).toBe(true);
    const strip = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => { const { ms: _ms, ...rest } = JSON.parse(l); return rest; });
    expect(strip(path.join(b, 'log.jsonl'))).toEqual(strip(path.join(a, 'log.jsonl')));
    expect(strip(path.join(a, 'log.jsonl')).map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const run = JSON.parse(fs.readFileSync(path.join(a, 'run.json'), 'utf8'));
    expect(run.backend).toBe('wasm');
    expect(run.config.seed).toBe(0);
    expect(run.run.gitCommit).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(fs.readdirSync(a).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('resumes bit-identically from a checkpoint taken on the last batch of an epoch', async () => {
    const a = path.join(dir, 'a');
    const perEpoch = JSON.parse(fs.readFileSync(path.join(a, 'run.json'), 'utf8')).data.batchesPerEpochAtMost as number;
    expect(perEpoch).toBeLessThan(8);
    const c = path.join(dir, 'c');
    await runDiscoCli(trainArgs(c, ['--stop-at', String(perEpoch)]), io);
    const st = JSON.parse(fs.readFileSync(path.join(c, 'checkpoint', 'state.json'), 'utf8'));
    expect([st.step, st.dataEpoch, st.dataIndex]).toEqual([perEpoch, 0, perEpoch]); // every batch of epoch 0 consumed
    await runDiscoCli(trainArgs(c, ['--resume']), io);
    expect(fs.readFileSync(path.join(c, 'model', 'weights.bin')).equals(fs.readFileSync(path.join(a, 'model', 'weights.bin')))).toBe(true);
  });

  it('colorizes good files at full resolution, three variants with --diverse, and reports a corrupt one by name', async () => {
    const out = path.join(dir, 'col');
    const good = path.join(data, 'p1.png');
    const bad = path.join(dir, 'broken.jpg');
    fs.writeFileSync(bad, 'not a jpeg');
    lines.length = 0;
    await runDiscoCli(['colorize', good, bad, '-o', out, '--model', path.join(dir, 'a', 'model'), '--diverse', '--show-anchors', '--backend', 'wasm'], io);
    expect(process.exitCode).toBe(2);
    process.exitCode = 0;
    for (const t of [0, 1, 2]) {
      const meta = await sharp(path.join(out, `p1_T${t}.png`)).metadata();
      expect([meta.width, meta.height]).toEqual([80, 72]);
    }
    expect(lines.some((l) => l.startsWith('colorize: ') && l.includes('broken.jpg'))).toBe(true);
    expect(lines.some((l) => l.includes('colorized 1/2 images'))).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'colorize.json'), 'utf8'));
    expect(report.results[1].error).toMatch(/broken\.jpg/);
  });

  it('user anchors from --anchors-file and pad mode', async () => {
    const out = path.join(dir, 'hint');
    const hints = path.join(dir, 'hints.json');
    fs.writeFileSync(hints, JSON.stringify({ '*': [{ row: 10, col: 12, ab: [50, 40] }] }));
    lines.length = 0;
    await runDiscoCli(['colorize', path.join(data, 'p2.png'), path.join(data, 'p2.png'), '-o', out, '--model', path.join(dir, 'a', 'model'), '--anchors-file', hints, '--mode', 'pad', '--backend', 'wasm'], io);
    expect(fs.existsSync(path.join(out, 'p2_2.png'))).toBe(true); // same name twice: suffixed, not overwritten
    expect(lines.filter((l) => l.startsWith('colorize: '))).toEqual([]);
    const meta = await sharp(path.join(out, 'p2.png')).metadata();
    expect([meta.width, meta.height]).toEqual([80, 72]);
    fs.writeFileSync(hints, JSON.stringify({ '*': [{ row: 'x' }] }));
    await expect(runDiscoCli(['colorize', path.join(data, 'p2.png'), '-o', out, '--model', path.join(dir, 'a', 'model'), '--anchors-file', hints], io)).rejects.toThrow(/--anchors-file: .*hints\.json: '\*'\[0\] must be/);
  });

  it('--oracle colors the anchors from the originals (matched by name, file and folder forms agree); the recipe flags reach the config', async () => {
    const run = path.join(dir, 'recipe');
    await runDiscoCli(trainArgs(run, ['--steps', '3', '--hint-encoding', 'soft', '--hint-broadcast', '--residual-refinement', '--decode-temperature', '0.38', '--spixnet', path.join(dir, 'a', 'model')]), io);
    const cfg = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')).config;
    expect(cfg.extensions).toEqual({ hintEncoding: 'soft', hintBroadcast: true, residualRefinement: true, decodeTemperature: 0.38, padding: 'same', anchorRules: 'distinct' });
    const grey = path.join(dir, 'grey');
    fs.mkdirSync(grey, { recursive: true });
    await sharp(path.join(data, 'p3.png')).grayscale().toFile(path.join(grey, 'p3.png'));
    const o1 = path.join(dir, 'oracle1');
    const o2 = path.join(dir, 'oracle2');
    await runDiscoCli(['colorize', grey, '-o', o1, '--model', path.join(run, 'model'), '--oracle', data, '--backend', 'wasm'], io);
    await runDiscoCli(['colorize', path.join(grey, 'p3.png'), '-o', o2, '--model', path.join(run, 'model'), '--oracle', path.join(data, 'p3.png'), '--backend', 'wasm'], io);
    const a = await sharp(path.join(o1, 'p3.png')).raw().toBuffer();
    expect(a.equals(await sharp(path.join(o2, 'p3.png')).raw().toBuffer())).toBe(true); // folder and file forms agree
    await expect(runDiscoCli(['colorize', path.join(data, 'p1.png'), path.join(data, 'p2.png'), '-o', o1, '--oracle', path.join(data, 'p1.png')], io)).rejects.toThrow(/--oracle: a single image serves a single input/);
    // --anchor-colors expected: a result of its own (anchor bins from the modeler's annealed mean); bad values named.
    const e1 = path.join(dir, 'expected');
    await runDiscoCli(['colorize', path.join(grey, 'p3.png'), '-o', e1, '--model', path.join(run, 'model'), '--anchor-colors', 'expected', '--workers', '1', '--backend', 'wasm'], io);
    expect(fs.existsSync(path.join(e1, 'p3.png'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(e1, 'colorize.json'), 'utf8')).anchorColors).toBe('expected');
    await expect(runDiscoCli(['colorize', path.join(grey, 'p3.png'), '-o', e1, '--anchor-colors', 'mean'], io)).rejects.toThrow("--anchor-colors must be mode or expected; got 'mean'");
    await expect(runDiscoCli(['colorize', path.join(data, 'p1.png'), '-o', o1, '--oracle', path.join(dir, 'none')], io)).rejects.toThrow(/--oracle: '.*none' does not exist/);
  });

  it('pad mode on an image whose sides are multiples of 16 (no padding needed) and at 16 px', async () => {
    const out = path.join(dir, 'pad16');
    const f64 = path.join(dir, 'sq64.png');
    await makeImage(f64, 4, 64, 48);
    lines.length = 0;
    await runDiscoCli(['colorize', f64, '-o', out, '--model', path.join(dir, 'a', 'model'), '--mode', 'pad', '--backend', 'wasm'], io);
    expect(lines.filter((l) => l.startsWith('colorize: '))).toEqual([]);
    const meta = await sharp(path.join(out, 'sq64.png')).metadata();
    expect([meta.width, meta.height]).toEqual([64, 48]);
  });

  it('a folder with a link loop colorizes each image once; an output folder inside the input folder is not read back', async () => {
    const src = path.join(dir, 'loopy');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.copyFileSync(path.join(data, 'p5.png'), path.join(src, 'sub', 'p5.png'));
    fs.symlinkSync(src, path.join(src, 'sub', 'back'));
    const out = path.join(src, 'out');
    for (const run of [1, 2]) {
      lines.length = 0;
      await runDiscoCli(['colorize', src, '-o', out, '--backend', 'wasm'], io);
      expect(lines.filter((l) => l.startsWith('colorized ')), `run ${run}`).toEqual([`colorized 1/1 images into ${out}`]);
    }
    expect(fs.readdirSync(out).sort()).toEqual(['colorize.json', 'colorize.jsonl', 'sub']); // the input's relative folders are kept
    expect(fs.readdirSync(path.join(out, 'sub'))).toEqual(['p5.png']);
  });

  it('--mode pad refuses an image above the token limit and one too small for the anchors, by name, and the batch goes on; tiny images work in resize mode', async () => {
    const out = path.join(dir, 'limits');
    const wide = path.join(dir, 'wide.png');
    await makeImage(wide, 1, 10000, 50);
    const tiny = path.join(dir, 'tiny16.png');
    await makeImage(tiny, 2, 16, 16);
    const one = path.join(dir, 'one.png');
    await makeImage(one, 3, 1, 1);
    lines.length = 0;
    await runDiscoCli(['colorize', wide, tiny, path.join(data, 'p1.png'), '-o', out, '--mode', 'pad', '--backend', 'wasm', '--workers', '1'], io); // one thread: the errors in input order
    process.exitCode = 0;
    const errs = lines.filter((l) => l.startsWith('colorize: '));
    expect(errs[0]).toBe(`colorize: ${wide}: --mode pad: 10000×50 px is 10000 superpixels, above the limit of ${PAD_MAX_TOKENS} (attention memory grows with their square); use --mode resize`);
    expect(errs[1]).toBe(`colorize: ${tiny}: --mode pad: 16×16 px gives 4 superpixels, fewer than the 8 anchors; use --mode resize or --anchors ≤ 4`);
    expect(lines).toContain(`colorized 1/3 images into ${out} (2 failed)`);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'colorize.json'), 'utf8')).results.map((r: { error?: string }) => !r.error)).toEqual([false, false, true]);
    lines.length = 0;
    await runDiscoCli(['colorize', wide, tiny, one, '-o', out, '--backend', 'wasm'], io);
    expect(lines).toContain(`colorized 3/3 images into ${out}`);
    expect((await sharp(path.join(out, 'wide.png')).metadata()).width).toBe(10000);
    expect((await sharp(path.join(out, 'one.png')).metadata()).width).toBe(1);
  });

  it('--mode foo prints one line and exits 1 (the message reaches the terminal)', async () => {
    const err = await runDiscoCli(['colorize', path.join(data, 'p1.png'), '-o', path.join(dir, 'm'), '--mode', 'foo'], io).then(
      () => null,
      (e: unknown) => e,
    );
    expect(describeCliError(err)).toEqual({ line: "disco: --mode must be resize or pad; got 'foo'", exitCode: 1 });
    expect(fs.existsSync(path.join(dir, 'm'))).toBe(false);
  });

  it('--help lists --version and says which convolution engine runs; --version prints the version', async () => {
    const lines: string[] = [];
    const cap: CliIo = { out: (l) => lines.push(l), err: (l) => lines.push(l) };
    const help = await runDiscoCli(['--help'], cap).then(
      () => null,
      (e: unknown) => e,
    );
    expect(describeCliError(help).exitCode).toBe(0);
    const text = lines.join('\n');
    expect(text).toMatch(/-V, --version +print the version/);
    expect(text).toMatch(/^convolutions: (onnxruntime-node \d+\.\d+\.\d+ \(native CPU engine; DISCO_CONV_THREADS threads per convolution, default 1\)|wasm \(.*\)\..*npm i onnxruntime-node@\^1\.30)$/m);
    lines.length = 0;
    await runDiscoCli(['--version'], cap).catch(() => undefined);
    expect(lines).toEqual([JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version]);
  });

  it('bad arguments fail with one line naming the argument', async () => {
    await expect(runDiscoCli(trainArgs(path.join(dir, 'x'), ['--ablation', 'no-colors']), io)).rejects.toThrow("--ablation: unknown 'no-colors'; valid: random-placement, no-anchor-branch, hard-superpixels, no-refinement");
    await expect(runDiscoCli(['train', '--data', path.join(dir, 'nowhere'), '--out', path.join(dir, 'y'), '--perceptual', 'none'], io)).rejects.toThrow(/nowhere/);
    await expect(runDiscoCli(trainArgs(path.join(dir, 'z'), ['--resume']), io)).rejects.toThrow(/--resume: no checkpoint in/);
    await expect(runDiscoCli(['colorize', 'x.png', '-o', dir, '--model', path.join(dir, 'nomodel')], io)).rejects.toThrow(/--model: '.*nomodel' does not exist; valid: tiny, tiny-pf \(embedded\), a model folder .*, or a published DISCO checkpoint file/);
    await expect(runDiscoCli(trainArgs(path.join(dir, 'w'), ['--perceptual', 'vgg']), io)).rejects.toThrow(/--perceptual: unknown network 'vgg'; valid: none, inception/);
    await expect(runDiscoCli(trainArgs(path.join(dir, 'v'), ['--arch', 'unet']), io)).rejects.toThrow("--arch: unknown 'unet'; valid: disco, regression, classification");
  });

  it('--arch trains a baseline by the same command and it colorizes', async () => {
    const run = path.join(dir, 'regression');
    await runDiscoCli(trainArgs(run, ['--steps', '2', '--arch', 'regression']), io);
    expect(JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')).config.extensions.arch).toBe('regression');
    const out = path.join(dir, 'regression-out');
    await runDiscoCli(['colorize', path.join(data, 'p1.png'), '-o', out, '--model', path.join(run, 'model'), '--workers', '1', '--backend', 'wasm'], io);
    expect(fs.existsSync(path.join(out, 'p1.png'))).toBe(true);
  });

  it('a diverging run stops at the first non-finite loss and keeps the last good checkpoint', async () => {
    const out = path.join(dir, 'nan');
    const err = await runDiscoCli(trainArgs(out, ['--lr', '1e30', '--steps', '30', '--checkpoint-every', '1']), io).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/non-finite loss at step \d+ .*last good checkpoint \(step \d+\) is kept/);
    const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'state.json'), 'utf8'));
    expect(Object.values(state.lastLosses ?? { total: 0 }).every((v) => Number.isFinite(v as number))).toBe(true);
  });
});
