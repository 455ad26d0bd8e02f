// Issue 27: `disco` never loses a user's data and never describes stale results as fresh.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDiscoCli } from '../src/cli/disco.js';

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

const colorize = async (args: string[], io = capture()) => {
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
