// disco colorize at scale: relative folders kept, list files and globs, resume by default
// (--overwrite redoes), deterministic --shard i/n, and --workers N equal to one thread.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultyFileSystem } from '@disco/runtime/node';
import { describeCliError, runDiscoCli } from '../src/cli/disco.js';

let dir = '';
let src = '';
const RELS = ['a/p0.png', 'a/b/p1.png', 'p2.png', 'c/p3.png', 'c/p4.png'];
const PNGS = RELS.map((r) => r.replace(/\.png$/, '.png')).sort();

function capture(fsLayer?: FaultyFileSystem) {
  const lines: string[] = [];
  return { lines, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), ...(fsLayer ? { fs: fsLayer } : {}) };
}

/** The PNG files under `out`, relative, sorted. */
function pngs(out: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const n of fs.readdirSync(d)) {
      const f = path.join(d, n);
      if (fs.statSync(f).isDirectory()) walk(f);
      else if (n.endsWith('.png')) found.push(path.relative(out, f));
    }
  };
  if (fs.existsSync(out)) walk(out);
  return found.sort();
}

const colorize = (inputs: string[], out: string, extra: string[] = [], io = capture()) => runDiscoCli(['colorize', ...inputs, '-o', out, '--backend', 'wasm', ...extra], io).then(() => io);
const same = (a: string, b: string, rel: string) => fs.readFileSync(path.join(a, rel)).equals(fs.readFileSync(path.join(b, rel)));
const manifestResults = (out: string, name = 'colorize.json') => (JSON.parse(fs.readFileSync(path.join(out, name), 'utf8')) as { results: { input: string; outputs?: string[] }[] }).results.map((r) => ({ input: r.input, outputs: r.outputs?.map((o) => path.relative(out, o)) }));

let ref = '';
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-scale-'));
  src = path.join(dir, 'src');
  for (const [k, rel] of RELS.entries()) {
    const w = 40 + 8 * k;
    const h = 36;
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = (i * (k + 3)) % 251;
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(src, rel));
  }
  ref = path.join(dir, 'ref');
  await colorize([src], ref, ['--workers', '1']);
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('disco colorize at scale', () => {
  it('keeps the relative folder structure of a folder input', () => {
    expect(pngs(ref)).toEqual(PNGS);
    expect(fs.readFileSync(path.join(ref, 'colorize.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('list files (relative to the list) and globs name the same images as the folder, with the same outputs', async () => {
    const list = path.join(src, 'some.txt');
    fs.writeFileSync(list, '# two of them\na/b/p1.png\n\nc/p3.png\n');
    const fromList = path.join(dir, 'list');
    const io = await colorize([list], fromList, ['--workers', '1']);
    expect(io.lines).toContain(`colorized 2/2 images into ${fromList}`);
    expect(pngs(fromList)).toEqual(['a/b/p1.png', 'c/p3.png']);
    for (const rel of pngs(fromList)) expect(same(fromList, ref, rel), rel).toBe(true);
    const fromGlob = path.join(dir, 'glob');
    await colorize([path.join(src, '**/p[0-3].png')], fromGlob, ['--workers', '1']);
    expect(pngs(fromGlob)).toEqual(['a/b/p1.png', 'a/p0.png', 'c/p3.png', 'p2.png']);
  });

  it('a killed run restarted with the same command finishes the rest, skipping what was done, and equals an uninterrupted run; --overwrite redoes all', async () => {
    const out = path.join(dir, 'resume');
    const probe = new FaultyFileSystem();
    await colorize([src], path.join(dir, 'probe'), [], capture(probe));
    // A kill while the fourth PNG is written.
    const at = probe.ops.filter((o) => o.op === 'openSync' && /\.tmp$/.test(o.path) && /\.p\d\.png\./.test(o.path))[3]!.index;
    await colorize([src], out, [], capture(new FaultyFileSystem({ at, fault: 'kill' }))).catch(() => undefined);
    const before = pngs(out);
    expect(before).toHaveLength(3);
    const stamp = new Map(before.map((r) => [r, fs.statSync(path.join(out, r)).ino]));
    const io = await colorize([src], out, ['--workers', '1']);
    expect(io.lines).toContain(`colorize: 3 of 5 already done in ${out} with the same model, settings and inputs (kept; --overwrite redoes them)`);
    expect(io.lines).toContain(`colorized 5/5 images into ${out}`);
    for (const r of before) expect(fs.statSync(path.join(out, r)).ino, `${r} not rewritten`).toBe(stamp.get(r));
    expect(pngs(out)).toEqual(PNGS);
    for (const rel of PNGS) expect(same(out, ref, rel), rel).toBe(true);
    expect(manifestResults(out)).toEqual(manifestResults(ref));
    expect(fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.tmp'))).toEqual([]);
    const again = await colorize([src], out, ['--workers', '1', '--overwrite']);
    expect(again.lines.some((l) => l.includes('already done'))).toBe(false);
    for (const r of before) expect(fs.statSync(path.join(out, r)).ino, `${r} rewritten`).not.toBe(stamp.get(r));
    for (const rel of PNGS) expect(same(out, ref, rel), rel).toBe(true);
  });

  it('--shard i/n: the shards together colorize every image exactly once, into one folder, with per-shard manifests', async () => {
    const out = path.join(dir, 'sharded');
    const per: string[][] = [];
    for (const i of [0, 1, 2]) {
      const before = new Set(pngs(out));
      await colorize([src], out, ['--shard', `${i}/3`, '--workers', '1']);
      per.push(pngs(out).filter((r) => !before.has(r)));
      expect(manifestResults(out, `colorize-${i}-of-3.json`).map((r) => r.outputs![0])).toEqual(per[i]!.slice().sort());
    }
    expect(per.flat().sort()).toEqual(PNGS);
    expect(per.filter((p) => p.length > 0).length).toBeGreaterThan(1);
    for (const rel of PNGS) expect(same(out, ref, rel), rel).toBe(true);
    // JOB_COMPLETION_INDEX picks the same shard as its i/n.
    const auto = path.join(dir, 'auto');
    process.env['JOB_COMPLETION_INDEX'] = '1';
    process.env['JOB_COMPLETIONS'] = '3';
    try {
      await colorize([src], auto, ['--shard', 'auto', '--workers', '1']);
    } finally {
      delete process.env['JOB_COMPLETION_INDEX'];
      delete process.env['JOB_COMPLETIONS'];
    }
    expect(pngs(auto)).toEqual(per[1]!.slice().sort());
  });

  it.each([
    ['3/3', '--shard: the shard index must be < 3 (0-based); got 3'],
    ['x', "--shard must be i/n (e.g. 0/4) or auto; got 'x'"],
    ['auto', '--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give --shard i/n'],
  ])('--shard %s: one line naming the flag, before any image is read', async (spec, msg) => {
    const out = path.join(dir, `bad-${spec.replace('/', '-')}`);
    const err = await colorize([src], out, ['--shard', spec]).then(() => null, (e: unknown) => e);
    expect(describeCliError(err).line).toBe(`disco: ${msg}`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--workers 2 gives the same files as one thread', async () => {
    const out = path.join(dir, 'two');
    const io = await colorize([src], out, ['--workers', '2']);
    expect(io.lines).toContain(`colorized 5/5 images into ${out}`);
    expect(pngs(out)).toEqual(PNGS);
    for (const rel of PNGS) expect(same(out, ref, rel), rel).toBe(true);
    expect(manifestResults(out)).toEqual(manifestResults(ref));
  }, 60_000);
});
