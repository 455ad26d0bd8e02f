// Input lists (folders, globs, list files) and deterministic sharding of the batch commands.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandInputs, parseShard, selectShard, shardOfPath } from '../src/node.js';

let dir = '';
const EXT = ['.png', '.jpg'];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-'));
  for (const f of ['a/x.png', 'a/sub/y.jpg', 'a/sub/deep/z.png', 'a/notes.md', 'b/x.png']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), f);
  }
  fs.writeFileSync(path.join(dir, 'list.txt'), '# two photos\na/sub/y.jpg\n\nb/x.png\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('expandInputs', () => {
  it('a folder gives its images with paths relative to it, sorted', () => {
    expect(expandInputs([path.join(dir, 'a')], { extensions: EXT }).map((f) => f.rel)).toEqual(['sub/deep/z.png', 'sub/y.jpg', 'x.png']);
  });
  it('a list file gives its lines, relative to the list folder; comments and blank lines skipped', () => {
    const r = expandInputs(['list.txt'], { extensions: EXT, cwd: dir });
    expect(r).toEqual([{ file: path.join(dir, 'a/sub/y.jpg'), rel: 'a/sub/y.jpg' }, { file: path.join(dir, 'b/x.png'), rel: 'b/x.png' }]);
  });
  it('globs: ** spans folders, * stays within one; rel is below the wildcard-free prefix', () => {
    expect(expandInputs([path.join(dir, 'a/**/*.png')], { extensions: EXT }).map((f) => f.rel)).toEqual(['sub/deep/z.png', 'x.png']);
    expect(expandInputs([path.join(dir, '*/x.png')], { extensions: EXT }).map((f) => f.rel)).toEqual(['a/x.png', 'b/x.png']);
    expect(expandInputs([path.join(dir, 'a/sub/*')], { extensions: EXT }).map((f) => f.rel)).toEqual(['y.jpg']);
  });
  it('globs: ? is one character, [0-9] and [!0-9] classes, dot files match, braces and parentheses are literal', () => {
    const g = path.join(dir, 'g');
    for (const f of ['img1.png', 'imgA.png', 'img10.png', '.hidden.png', 'sub/.d/q.png', 'x{1,2}.png', 'x1.png', 'p(1).png', 'p1.png']) {
      fs.mkdirSync(path.dirname(path.join(g, f)), { recursive: true });
      fs.writeFileSync(path.join(g, f), f);
    }
    const rels = (pattern: string) => expandInputs([path.join(g, pattern)], { extensions: EXT }).map((f) => f.rel);
    expect(rels('img?.png')).toEqual(['img1.png', 'imgA.png']);
    expect(rels('img[0-9].png')).toEqual(['img1.png']);
    expect(rels('img[!0-9].png')).toEqual(['imgA.png']);
    expect(rels('*.png')).toEqual(['.hidden.png', 'img1.png', 'img10.png', 'imgA.png', 'p(1).png', 'p1.png', 'x1.png', 'x{1,2}.png']);
    expect(rels('**/q.png')).toEqual(['sub/.d/q.png']);
    expect(rels('x{1,2}.png')).toEqual(['x{1,2}.png']);
    expect(rels('p(1)*')).toEqual(['p(1).png']);
  });
  it('a plain file is kept (even a missing one) under its base name, as often as it is named', () => {
    const f = path.join(dir, 'a/x.png');
    expect(expandInputs([f, f, path.join(dir, 'gone.png')], { extensions: EXT })).toEqual([{ file: f, rel: 'x.png' }, { file: f, rel: 'x.png' }, { file: path.join(dir, 'gone.png'), rel: 'gone.png' }]);
  });
  it('excluded folders are not read', () => {
    expect(expandInputs([path.join(dir, 'a')], { extensions: EXT, exclude: [path.join(dir, 'a/sub')] }).map((f) => f.rel)).toEqual(['x.png']);
  });
});

describe('parseShard', () => {
  it('i/n and auto from Kubernetes or Slurm', () => {
    expect(parseShard(undefined)).toBeNull();
    expect(parseShard('2/5', {})).toEqual({ index: 2, count: 5 });
    expect(parseShard('auto', { JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '4' })).toEqual({ index: 3, count: 4 });
    expect(parseShard('auto/8', { JOB_COMPLETION_INDEX: '7' })).toEqual({ index: 7, count: 8 });
    expect(parseShard('auto', { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '10' })).toEqual({ index: 4, count: 10 });
  });
  it.each([
    ['3/3', {}, /^--shard: the shard index must be < 3 \(0-based\); got 3$/],
    ['1/0', {}, /^--shard: the shard count must be ≥ 1; got 0$/],
    ['-1/4', {}, /^--shard must be i\/n \(e\.g\. 0\/4\) or auto; got '-1\/4'$/],
    ['half', {}, /^--shard must be i\/n/],
    ['1.5/4', {}, /^--shard must be i\/n/],
    ['auto', {}, /^--shard auto: neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID .* is set; give --shard i\/n$/],
    ['auto', { JOB_COMPLETION_INDEX: '1' }, /^--shard auto: JOB_COMPLETION_INDEX is set but the shard count is not/],
    ['auto', { JOB_COMPLETION_INDEX: 'x', JOB_COMPLETIONS: '2' }, /^--shard auto: JOB_COMPLETION_INDEX must be an integer/],
    ['auto', { SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_COUNT: '4' }, /^--shard: the shard index must be < 4/],
  ])('%s with %j: one line naming --shard', (spec, env, msg) => {
    let err: Error | null = null;
    try {
      parseShard(spec, env as Record<string, string>);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(msg);
    expect(err?.message).not.toContain('\n');
  });
});

describe('sharding', () => {
  const items = Array.from({ length: 500 }, (_, i) => ({ rel: `class${i % 7}/img${i}.JPEG` }));
  it.each([1, 2, 3, 7])('n = %i: every item in exactly one shard, shards balanced', (n) => {
    const shards = Array.from({ length: n }, (_, i) => selectShard(items, { index: i, count: n }));
    const all = shards.flat().map((x) => x.rel).sort();
    expect(all).toEqual(items.map((x) => x.rel).sort());
    for (const s of shards) expect(Math.abs(s.length - 500 / n)).toBeLessThan(5 * Math.sqrt(500 / n) + 1);
  });
  it('depends on the relative path only (not on order or the other items)', () => {
    const reversed = [...items].reverse();
    expect(selectShard(reversed, { index: 1, count: 3 }).map((x) => x.rel).sort()).toEqual(selectShard(items, { index: 1, count: 3 }).map((x) => x.rel).sort());
    expect(shardOfPath('class0/img0.JPEG', 1000)).toBe(shardOfPath('class0/img0.JPEG', 1000));
    // A fixed value: the hash must not change between versions, or restarted jobs would reshuffle.
    expect([shardOfPath('a.png', 4), shardOfPath('val/x.JPEG', 10)]).toEqual([1, 0]);
  });
});
