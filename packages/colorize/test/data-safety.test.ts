// Issue 27: `disco` never loses a user's data and never describes stale results as fresh.
import * as fs from 'node:fs';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultyFileSystem, type FileSystem } from '@disco/runtime/node';
import { runDiscoCli } from '../src/cli/disco.js';
import { makeImage } from './photos.js';

let dir = '';

function capture() {
  const lines: string[] = [];
  return { lines, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
}

async function grey(file: string, w = 40, h = 36, k = 3): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = (i * k) % 251;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

const colorize = async (args: string[], io: ReturnType<typeof capture> & { fs?: FileSystem } = capture()) => {
  let error: Error | null = null;
  try {
    await runDiscoCli(['colorize', '--backend', 'wasm', '--workers', '1', ...args], io);
  } catch (e) {
    error = e as Error;
  }
  return { ...io, error };
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-safety-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('1: an output path equal to an input path is refused before any work', () => {
  it('-o the photo’s folder, -o . from it, a list file and a link to the folder: one line naming both, the input untouched', async () => {
    const d = path.join(dir, 'd1');
    await grey(path.join(d, 'a.png'));
    const before = fs.readFileSync(path.join(d, 'a.png'));
    fs.writeFileSync(path.join(d, 'list.txt'), 'a.png\n');
    fs.symlinkSync(d, path.join(dir, 'd1-link'));
    const cwd = process.cwd();
    const runs: string[][] = [[path.join(d, 'a.png'), '-o', d], [path.join(d, 'list.txt'), '-o', d], [path.join(d, 'a.png'), '-o', path.join(dir, 'd1-link')]];
    for (const args of runs) {
      const r = await colorize(args);
      expect(r.error?.message, args.join(' ')).toMatch(/^colorize: the output ".*a\.png" would overwrite the input ".*a\.png"; choose another -o$/);
      expect(r.lines.some((l) => l.startsWith('colorized'))).toBe(false);
    }
    process.chdir(d);
    try {
      const r = await colorize(['a.png', '-o', '.']);
      expect(r.error?.message).toMatch(/would overwrite the input/);
    } finally {
      process.chdir(cwd);
    }
    expect(fs.readFileSync(path.join(d, 'a.png')).equals(before)).toBe(true);
    expect(fs.readdirSync(d).sort()).toEqual(['a.png', 'list.txt']);
  });
});

describe('2, 3, 8: a training run folder is never wiped or mixed by accident', () => {
  let photos = '';
  const trainArgs = (out: string, extra: string[] = []) => ['train', '--config', 'tiny', '--data', photos, '--out', out, '--steps', '4', '--batch-size', '2', '--perceptual', 'none', '--validate-every', '0', '--checkpoint-every', '2', '--backend', 'wasm', ...extra];
  const run = async (argv: string[]) => {
    const io = capture();
    try {
      await runDiscoCli(argv, io);
      return { ...io, error: null as Error | null };
    } catch (e) {
      return { ...io, error: e as Error };
    }
  };
  const snapshot = (d: string) => Object.fromEntries(['checkpoint/weights.bin', 'checkpoint/state.json', 'log.jsonl', 'model/weights.bin'].map((f) => [f, fs.readFileSync(path.join(d, f)).toString('base64')]));
  let finished = '';
  beforeAll(async () => {
    photos = path.join(dir, 'photos');
    fs.mkdirSync(photos);
    for (let i = 0; i < 6; i++) await makeImage(path.join(photos, `p${i}.png`), i);
    finished = path.join(dir, 'run');
    const r = await run(trainArgs(finished));
    expect(r.error).toBeNull();
  }, 120_000);

  it('2: train into a folder holding a run is refused without --resume or --overwrite, the run untouched; --overwrite starts over', async () => {
    const before = snapshot(finished);
    const r = await run(trainArgs(finished, ['--steps', '3']));
    expect(r.error?.message).toMatch(/^--out: .*run holds a training run \(checkpoint, log\.jsonl, model, run\.json\); continue it with --resume, or start it over with --overwrite$/);
    expect(snapshot(finished)).toEqual(before);
    const copy = path.join(dir, 'run-copy');
    fs.cpSync(finished, copy, { recursive: true });
    const o = await run(trainArgs(copy, ['--steps', '2', '--overwrite']));
    expect(o.error).toBeNull();
    expect(JSON.parse(fs.readFileSync(path.join(copy, 'checkpoint', 'state.json'), 'utf8')).step).toBe(2);
    expect(fs.readFileSync(path.join(copy, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('8: --resume with a changed flag is refused naming it; --allow-changed lets it through', async () => {
    const part = path.join(dir, 'part');
    expect((await run(trainArgs(part, ['--stop-at', '2']))).error).toBeNull();
    for (const [flag, value, name] of [['--lr', '1e-3', '--lr'], ['--batch-size', '3', '--batch-size'], ['--seed', '5', '--seed'], ['--config', 'paper', '--config'], ['--anchors', '4', '--anchors']] as const) {
      const r = await run(trainArgs(part, ['--resume', flag, value]));
      expect(r.error?.message, flag).toMatch(new RegExp(`^--resume: ${name} \\(was .*, now .*\\) differs from the checkpoint's flags in .*part/checkpoint; give the same flags, or name the ones to change with --allow-changed ${name.slice(2)}$`));
    }
    expect(JSON.parse(fs.readFileSync(path.join(part, 'checkpoint', 'state.json'), 'utf8')).step).toBe(2);
    // A moved run folder resumes: --out names the folder, not a setting.
    const moved = path.join(dir, 'part-moved');
    fs.cpSync(part, moved, { recursive: true });
    expect((await run(trainArgs(moved, ['--resume']))).error).toBeNull();
    const ok = await run(trainArgs(part, ['--resume', '--steps', '6', '--allow-changed', 'steps']));
    expect(ok.error).toBeNull();
    expect(JSON.parse(fs.readFileSync(path.join(part, 'checkpoint', 'state.json'), 'utf8')).step).toBe(6);
  });

  it('3: export into the run\'s own checkpoint folder is refused and the checkpoint stays usable', async () => {
    const before = snapshot(finished);
    const r = await run(['export', '--run', finished, '-o', path.join(finished, 'checkpoint'), '--backend', 'wasm']);
    expect(r.error?.message).toMatch(/^export: -o ".*run\/checkpoint" is a training checkpoint folder; writing the model there would destroy the checkpoint/);
    expect(snapshot(finished)).toEqual(before);
    const ok = await run(['export', '--run', finished, '-o', path.join(dir, 'exported'), '--backend', 'wasm']);
    expect(ok.error).toBeNull();
  });
});

describe('4: every colorize output is keyed on what determines it; exactly what changed is redone, and said', () => {
  it('a changed setting, input image or anchors entry redoes exactly the outputs it affects; an unchanged rerun keeps all', async () => {
    const src = path.join(dir, 'src4');
    for (let k = 0; k < 3; k++) await grey(path.join(src, `p${k}.png`), 40, 36, k + 3);
    const hints = path.join(dir, 'hints4.json');
    fs.writeFileSync(hints, JSON.stringify({ 'p0.png': [{ row: 5, col: 5, ab: [40, 20] }] }));
    const out = path.join(dir, 'out4');
    const mtimes = () => Object.fromEntries([0, 1, 2].map((k) => [k, fs.statSync(path.join(out, `p${k}.png`)).mtimeMs]));
    const first = await colorize([src, '-o', out, '--anchors-file', hints]);
    expect(first.error).toBeNull();
    let t = mtimes();
    const again = await colorize([src, '-o', out, '--anchors-file', hints]);
    expect(again.lines).toContain(`colorize: 3 of 3 already done in ${out} with the same model, settings and inputs (kept; --overwrite redoes them)`);
    expect(mtimes()).toEqual(t);
    // A changed setting: every output redone, the setting named.
    const temp = await colorize([src, '-o', out, '--anchors-file', hints, '--anchor-colors', 'expected', '--anchor-temperature', '0.2']);
    expect(temp.lines).toContain(`colorize: redoing 3 earlier outputs in ${out}, changed since: settings anchorColors, anchorTemperature (3)`);
    const reb = await colorize([src, '-o', out, '--anchors-file', hints, '--anchor-colors', 'expected', '--anchor-temperature', '0.2', '--anchor-rebalance', '0.5']);
    expect(reb.lines).toContain(`colorize: redoing 3 earlier outputs in ${out}, changed since: settings anchorRebalance (3)`);
    const args = [src, '-o', out, '--anchors-file', hints, '--anchor-colors', 'expected', '--anchor-temperature', '0.2', '--anchor-rebalance', '0.5'];
    // A changed input image: that one only.
    t = mtimes();
    await grey(path.join(src, 'p1.png'), 40, 36, 11);
    const input = await colorize(args);
    expect(input.lines).toContain(`colorize: redoing 1 earlier output in ${out}, changed since: input content (1)`);
    expect(input.lines).toContain(`colorize: 2 of 3 already done in ${out} with the same model, settings and inputs (kept; --overwrite redoes them)`);
    expect(mtimes()[0]).toBe(t[0]);
    expect(mtimes()[2]).toBe(t[2]);
    // A changed anchors entry: that image only.
    fs.writeFileSync(hints, JSON.stringify({ 'p0.png': [{ row: 9, col: 5, ab: [40, 20] }] }));
    const anchors = await colorize(args);
    expect(anchors.lines).toContain(`colorize: redoing 1 earlier output in ${out}, changed since: anchors entry (1)`);
    // The manifest describes what is on disk: a fresh run with the final settings gives the same PNGs.
    const fresh = path.join(dir, 'out4-fresh');
    await colorize([...args.slice(0, 1), '-o', fresh, ...args.slice(3)]);
    for (let k = 0; k < 3; k++) expect(fs.readFileSync(path.join(out, `p${k}.png`)).equals(fs.readFileSync(path.join(fresh, `p${k}.png`))), `p${k}`).toBe(true);
    // An output changed by hand is redone too.
    fs.writeFileSync(path.join(out, 'p2.png'), 'not the output');
    const hand = await colorize(args);
    expect(hand.lines).toContain(`colorize: redoing 1 earlier output in ${out}, changed since: output file missing or changed (1)`);
  });
});

describe('6: an unreadable sub-folder is named, not silently skipped', () => {
  it('disco colorize of a folder with an unreadable sub-folder fails with one line naming it, before any image', async () => {
    const src = path.join(dir, 'src6');
    await grey(path.join(src, 'a.png'));
    await grey(path.join(src, 'locked', 'b.png'));
    const io = { ...capture(), fs: new FaultyFileSystem({ unreadable: (p) => p === path.join(src, 'locked') }) };
    const r = await colorize([src, '-o', path.join(dir, 'out6')], io);
    expect(r.error?.message).toMatch(/^cannot list the folder ".*src6\/locked": EACCES: permission denied; its images would be left out/);
    expect(fs.existsSync(path.join(dir, 'out6', 'a.png'))).toBe(false);
  });
});

describe('7: results do not depend on worker or thread counts; sharded and unsharded runs share one done-record', () => {
  let src = '';
  beforeAll(async () => {
    // Textured images of 12 widths: under 2 onnxruntime threads on the main thread and 1 in a
    // worker, one of them came out one level different.
    src = path.join(dir, 'src7');
    fs.mkdirSync(src, { recursive: true });
    for (let k = 0; k < 12; k++) {
      const w = 96 + 16 * k;
      const h = 128;
      const px = Buffer.alloc(w * h * 3);
      for (let i = 0; i < w * h; i++) px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = Math.floor(128 + 100 * Math.sin(i * (k + 1) * 0.001) * Math.cos((i % w) * 0.05));
      await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(src, `p${k}.png`));
    }
  });

  it('--workers 1 and --workers 2 write byte-identical PNGs', async () => {
    const one = path.join(dir, 'w1');
    const two = path.join(dir, 'w2');
    expect((await colorize([src, '-o', one])).error).toBeNull();
    const io = capture();
    await runDiscoCli(['colorize', '--backend', 'wasm', '--workers', '2', src, '-o', two], io);
    for (let k = 0; k < 12; k++) expect(fs.readFileSync(path.join(one, `p${k}.png`)).equals(fs.readFileSync(path.join(two, `p${k}.png`))), `p${k}.png`).toBe(true);
  });

  it('an unsharded rerun keeps what the shards finished', async () => {
    const out = path.join(dir, 'sharded7');
    for (const i of [0, 1]) expect((await colorize([src, '-o', out, '--shard', `${i}/2`])).error).toBeNull();
    const r = await colorize([src, '-o', out]);
    expect(r.lines).toContain(`colorize: 12 of 12 already done in ${out} with the same model, settings and inputs (kept; --overwrite redoes them)`);
    expect(r.lines).toContain(`colorized 12/12 images into ${out}`);
    for (let k = 0; k < 12; k++) expect(fs.readFileSync(path.join(out, `p${k}.png`)).equals(fs.readFileSync(path.join(dir, 'w1', `p${k}.png`))), `p${k}.png`).toBe(true);
  });
});

describe('9: an extreme aspect ratio is refused up front, and the batch goes on', () => {
  it('an image on which the backend aborts fails alone: the rest of the batch goes to a fresh backend', async () => {
    const src = path.join(dir, 'src9b');
    for (const n of ['a', 'b', 'c']) await grey(path.join(src, `${n}.png`));
    const bad = path.join(src, 'a.png');
    // A file layer that makes reading a.png fail as a wasm memory fault does.
    const faulty = { ...nodeFs, openSync: ((p: string, flags: string) => {
      if (p === bad && flags === 'r') throw new WebAssembly.RuntimeError('memory access out of bounds');
      return nodeFs.openSync(p, flags);
    }) as typeof nodeFs.openSync };
    const out = path.join(dir, 'out9b');
    const r = await colorize([src, '-o', out], { ...capture(), fs: faulty as FileSystem });
    process.exitCode = 0;
    expect(r.lines).toContain(`colorize: the backend failed on ${JSON.stringify(bad)}; going on with a fresh one`);
    expect(r.lines).toContain(`colorized 2/3 images into ${out} (1 failed)`);
    expect(fs.existsSync(path.join(out, 'b.png')) && fs.existsSync(path.join(out, 'c.png'))).toBe(true);
  });

  it('a 3000×2 px strip gives one line from its header; the next image is colorized', async () => {
    const src = path.join(dir, 'src9');
    await grey(path.join(src, 'a-strip.png'), 3000, 2);
    await grey(path.join(src, 'b.png'));
    const out = path.join(dir, 'out9');
    const r = await colorize([src, '-o', out]);
    expect(r.lines).toContain(`colorize: ${path.join(src, 'a-strip.png')}: 3000×2 px: aspect ratio 1500:1 is above the limit of 1024:1 (the model sees a square; so thin a strip gives no colors and exhausts memory); crop it first`);
    expect(r.lines).toContain(`colorized 1/2 images into ${out} (1 failed)`);
    process.exitCode = 0;
  });
});

describe('12, 17: numeric flags are checked at the flag, naming flag and value', () => {
  it.each([
    [['colorize', 'x.png', '-o', 'o', '--seed', '4294967296'], "--seed must be an integer from 0 to 4294967295; got '4294967296'"],
    [['train', '--data', 'd', '--seed', '-1'], "--seed must be an integer from 0 to 4294967295; got '-1'"],
    [['train', '--data', 'd', '--pixel', 'abc'], "--pixel must be a number ≥ 0; got 'abc'"],
    [['train', '--data', 'd', '--pixel', 'Infinity'], "--pixel must be a number ≥ 0; got 'Infinity'"],
    [['train', '--data', 'd', '--laplacian', 'NaN'], "--laplacian must be a number ≥ 0; got 'NaN'"],
  ])('%j', async (argv, line) => {
    const io = capture();
    await expect(runDiscoCli(argv, io)).rejects.toThrow(line);
  });
});

describe('15: an anchor outside the image is reported in the user\'s own coordinates', () => {
  it('row/col 99999 on a 256×256 image names the entry, its coordinates and the image size', async () => {
    const src = path.join(dir, 'src15');
    await grey(path.join(src, 'big.png'), 256, 256);
    const hints = path.join(dir, 'hints15.json');
    fs.writeFileSync(hints, JSON.stringify({ 'big.png': [{ row: 10, col: 10, ab: [0, 0] }, { row: 99999, col: 99999, ab: [40, 20] }] }));
    const r = await colorize([src, '-o', path.join(dir, 'out15'), '--anchors-file', hints]);
    expect(r.lines).toContain(`colorize: ${path.join(src, 'big.png')}: --anchors-file: "big.png"[1]: row 99999, col 99999 lies outside the 256×256 px image (rows 0 … 255, cols 0 … 255)`);
    process.exitCode = 0;
  });
});

describe('18: a newline in a file name does not cut the message or the record', () => {
  it('the error line and the colorize.jsonl record hold the whole (quoted) name', async () => {
    const src = path.join(dir, 'src18');
    fs.mkdirSync(src, { recursive: true });
    const odd = path.join(src, 'two\nlines.png');
    fs.writeFileSync(odd, 'not a png');
    const out = path.join(dir, 'out18');
    const r = await colorize([src, '-o', out]);
    process.exitCode = 0;
    const line = r.lines.find((l) => l.startsWith("colorize: readImage"))!;
    expect(line).toContain(JSON.stringify(odd));
    const rec = fs.readFileSync(path.join(out, 'colorize.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { input: string; error?: string });
    expect(rec).toHaveLength(1);
    expect(rec[0]!.input).toBe(odd);
    expect(rec[0]!.error).toContain(JSON.stringify(odd));
  });
});

describe('20: a glob that matches nothing is reported', () => {
  it('next to good inputs it is a warning naming it; alone it is the error', async () => {
    const src = path.join(dir, 'src20');
    await grey(path.join(src, 'a.png'));
    const glob = path.join(src, '*.jpg');
    const r = await colorize([path.join(src, 'a.png'), glob, '-o', path.join(dir, 'out20')]);
    expect(r.lines).toContain(`colorize: warning: the glob '${glob}' matches no image (extensions: .png .jpg .jpeg .webp .tif .tiff .gif)`);
    expect(r.lines).toContain(`colorized 1/1 images into ${path.join(dir, 'out20')}`);
    const alone = await colorize([glob, path.join(dir, 'nowhere', '**', '*.png'), '-o', path.join(dir, 'out20b')]);
    expect(alone.error?.message).toBe(`colorize: no input images: the globs '${glob}', '${path.join(dir, 'nowhere', '**', '*.png')}' match no image`);
  });
});
