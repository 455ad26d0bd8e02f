// End to end: the eval-fid command on synthetic photos and their grayscale versions (wasm).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { frechetInceptionDistance } from '../src/index.js';
import { writeSyntheticPhotos } from './images.js';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

async function evalFid(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DISCO_BACKEND: 'wasm' };
  delete env['INIT_CWD'];
  return run('node', ['--conditions=@disco/source', '--import', 'tsx', 'src/cli/eval-fid.ts', ...args], { cwd: pkg, env, maxBuffer: 1 << 26 });
}

interface Report {
  real: { count: number };
  fake: { count: number };
  network: { name: string };
  backend: string;
  scores: {
    fid: Record<string, number>;
    kid: Record<string, { mean: number; std: number }>;
    inceptionScore: { available: boolean; reason?: string };
    colorfulness: { real: { mean: number }; fake: { mean: number } };
  };
  run: { gitCommit: string };
  imagesPerSecond: number;
}

describe('eval-fid command [6 synthetic 64x48 photos, nsfw-inception, wasm]', () => {
  let dir: string;
  let sets: { photos: string; gray: string };
  let same: Report;
  let grayRep: Report;
  let stdout: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-fid-'));
    sets = await writeSyntheticPhotos(dir, 6);
    // A list file for --fake: one path per line, relative to the list's folder.
    fs.writeFileSync(path.join(dir, 'gray.txt'), `# grayscale versions\n${fs.readdirSync(sets.gray).map((f) => `gray/${f}`).join('\n')}\n`);
    await evalFid(['--real', sets.photos, '--fake', sets.photos, '--out', path.join(dir, 'same.json'), '--kid-subsets', '5']);
    const r = await evalFid(['--real', sets.photos, '--fake', path.join(dir, 'gray.txt'), '--out', path.join(dir, 'gray.json'), '--features-out', path.join(dir, 'features.json'), '--kid-subsets', '5', '--batch-size', '4']);
    stdout = r.stdout;
    same = JSON.parse(fs.readFileSync(path.join(dir, 'same.json'), 'utf8')) as Report;
    grayRep = JSON.parse(fs.readFileSync(path.join(dir, 'gray.json'), 'utf8')) as Report;
  }, 170_000);

  it('photos vs grayscale gives a clearly larger FID than photos vs themselves (≈ 0)', () => {
    const key = 'FID[nsfw-inception-2048]';
    const key5 = 'FID[nsfw-inception-mixed5-768]';
    expect(same.scores.fid[key]).toBeLessThan(1e-3);
    expect(same.scores.fid[key5]).toBeLessThan(1e-3);
    expect(grayRep.scores.fid[key]).toBeGreaterThan(1);
    expect(grayRep.scores.fid[key5]).toBeGreaterThan(1);
    expect(grayRep.scores.kid['KID[nsfw-inception-2048]']!.mean).toBeGreaterThan(same.scores.kid['KID[nsfw-inception-2048]']!.mean);
  });

  it('grayscale colorfulness is 0 and the photos are colourful', () => {
    expect(grayRep.scores.colorfulness.fake.mean).toBeLessThan(1e-9);
    expect(grayRep.scores.colorfulness.real.mean).toBeGreaterThan(20);
    expect(same.scores.colorfulness.fake.mean).toBe(same.scores.colorfulness.real.mean);
  });

  it('reports counts, network, backend, provenance, throughput, and IS as unavailable with a reason', () => {
    expect(grayRep.real.count).toBe(6);
    expect(grayRep.fake.count).toBe(6);
    expect(grayRep.network.name).toBe('nsfw-inception');
    expect(grayRep.backend).toBe('wasm');
    expect(grayRep.run.gitCommit).toMatch(/^[0-9a-f]{40}$|^unknown$/);
    expect(grayRep.imagesPerSecond).toBeGreaterThan(0);
    expect(grayRep.scores.inceptionScore.available).toBe(false);
    expect(grayRep.scores.inceptionScore.reason).toMatch(/5 NSFW classes, not 1000/);
    expect(stdout).toMatch(/FID\[nsfw-inception-2048\]\s+\d+\.\d{4}/);
    expect(stdout).toMatch(/IS\s+unavailable/);
  });

  it('--features-out saves features that reproduce the reported FID', () => {
    const f = JSON.parse(fs.readFileSync(path.join(dir, 'features.json'), 'utf8')) as { real: { pool: number[][] }; fake: { pool: number[][]; mixed5: number[][] } };
    expect(f.real.pool).toHaveLength(6);
    expect(f.real.pool[0]).toHaveLength(2048);
    expect(f.fake.mixed5[0]).toHaveLength(768);
    const m = (rows: number[][]) => ({ rows: rows.length, cols: rows[0]!.length, data: rows.flat() });
    const fid = frechetInceptionDistance(m(f.real.pool), m(f.fake.pool)).fid;
    expect(Math.abs(fid - grayRep.scores.fid['FID[nsfw-inception-2048]']!) / fid).toBeLessThan(1e-9);
  });

  it('fails with a one-line error for a missing folder', async () => {
    await expect(evalFid(['--real', path.join(dir, 'nope'), '--fake', sets.gray])).rejects.toThrow(/eval-fid: listImages: '.*nope' does not exist/);
  });
});
