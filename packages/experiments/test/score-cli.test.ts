// `experiments:score` without `--train` (it only feeds the mean-color row): scores the held-out
// photos with grey and the model, and `--help` no longer promises a required option it lacks.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticPhotos } from './images.js';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir = '';

function score(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['--conditions=@disco/source', '--import', 'tsx', 'src/cli/score.ts', ...args], { cwd: pkg, encoding: 'utf8', timeout: 240_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-score-'));
  await writeSyntheticPhotos(dir, 2);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('experiments:score', () => {
  it('--help shows --train as optional', async () => {
    const r = await score(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, " ")).toMatch(/--train <dir\|list> training photos: adds the mean-color baseline row \(optional\)/);
  });

  it('runs without --train: grey and model rows, no mean-color row [2 photos 64×48]', async () => {
    const out = path.join(dir, 'scores');
    const r = await score(['--heldout', path.join(dir, 'photos'), '--out', out, '--no-diagnose', '--backend', 'wasm']);
    expect(r.stderr).not.toMatch(/required option/);
    expect(r.code).toBe(0);
    const md = fs.readFileSync(path.join(out, 'scores.md'), 'utf8');
    expect(md).toMatch(/^\| grey \|/m);
    expect(md).not.toMatch(/mean color/);
    expect(md).toMatch(/\| rebalanced AuC ↑ \|.*\| blockiness \|/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'scores.json'), 'utf8')).meanTrainingAb).toBeNull();
  });
});
