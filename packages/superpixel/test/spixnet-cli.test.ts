import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { runSpixnetCli, type CliIo } from '../src/cli/spixnet.js';

/** Two-colour images with a wavy border, 32×32, written as PNGs. */
async function writeImages(dir: string, n: number, offset: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (let k = 0; k < n; k++) {
    const px = Buffer.alloc(32 * 32 * 3);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const left = x + 4 * Math.sin(0.4 * y + k + offset) < 13 + k;
        const c = left ? [200, 40 + 20 * k, 30] : [30, 90, 220 - 10 * k];
        px.set(c, (y * 32 + x) * 3);
      }
    }
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(path.join(dir, `img${k}.png`));
  }
}

function capture(): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => void outLines.push(l), err: (l) => void errLines.push(l) };
}

describe('spixnet CLI (tiny preset, 32×32 images, S=8, wasm)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spixnet-cli-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const common = ['--preset', 'tiny', '--size', '32', '--cell', '8', '--batch-size', '2', '--lr', '0.01', '--seed', '3', '--backend', 'wasm'];

  it('trains 2 steps with checkpoints, resumes to 4, reports quality and draws boundaries', async () => {
    await writeImages(path.join(root, 'train'), 4, 0);
    await writeImages(path.join(root, 'held'), 2, 10);
    const out = path.join(root, 'run');
    const a = capture();
    await runSpixnetCli(['train', '--data', path.join(root, 'train'), '--out', out, '--steps', '2', '--checkpoint-every', '1', ...common], a);
    expect(a.errLines.some((l) => l.startsWith('backend: wasm'))).toBe(true);
    expect(a.errLines.some((l) => l.startsWith('config ') && l.includes('"seed":3') && l.includes('gitCommit'))).toBe(true);
    expect(a.errLines.some((l) => /^train 2\/2 \(100\.0%\) .* ETA .* loss=/.test(l))).toBe(true);
    const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'state.json'), 'utf8')) as { step: number };
    expect(state.step).toBe(2);
    for (const f of ['checkpoint/model.json', 'checkpoint/weights.bin', 'checkpoint/optimizer.bin', 'model/model.json', 'model/weights.bin', 'run.json']) {
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    }
    expect(fs.readdirSync(out).filter((f) => f.includes('.tmp') || f.includes('.old'))).toEqual([]);
    const b = capture();
    await runSpixnetCli(['train', '--data', path.join(root, 'train'), '--out', out, '--steps', '4', '--checkpoint-every', '100', '--resume', ...common], b);
    expect(b.errLines.some((l) => l.startsWith('resumed from') && l.includes('at step 2'))).toBe(true);
    expect(JSON.parse(b.outLines.at(-1)!)).toMatchObject({ step: 4 });
    expect(Number.isFinite(JSON.parse(b.outLines.at(-1)!).loss)).toBe(true);
    const q = capture();
    const report = path.join(root, 'quality.json');
    await runSpixnetCli(['quality', '--model', path.join(out, 'model'), '--data', path.join(root, 'held'), '--size', '32', '--cell', '8', '--report', report, '--backend', 'wasm'], q);
    const r = JSON.parse(fs.readFileSync(report, 'utf8')) as { images: Array<{ trained: number; grid: number }>; mean: { trained: number; grid: number } };
    expect(r.images).toHaveLength(2);
    expect(r.mean.grid).toBeGreaterThan(1);
    expect(r.mean.trained).toBeGreaterThan(0);
    expect(q.outLines[0]).toBe('| image | trained ΔLab | grid ΔLab |');
    const png = path.join(root, 'b.png');
    await runSpixnetCli(['boundaries', '--model', path.join(out, 'model'), '--image', path.join(root, 'held', 'img0.png'), '--out', png, '--size', '32', '--cell', '8', '--backend', 'wasm'], capture());
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([32, 32, 3]);
    const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    let red = 0;
    for (let i = 0; i < data.length; i += 3) if (data[i] === 255 && data[i + 1] === 0 && data[i + 2] === 0) red++;
    expect(red).toBeGreaterThan(16); // at least the grid lines between the 4×4 cells
  });

  it('rejects a missing folder and a bad preset with one line', async () => {
    await expect(runSpixnetCli(['train', '--data', path.join(root, 'nope'), '--out', path.join(root, 'x'), '--backend', 'cpu'], capture())).rejects.toThrow(/^--data: '.*nope' is not a folder$/);
    await expect(runSpixnetCli(['train', '--data', root, '--out', root, '--preset', 'huge'], capture())).rejects.toThrow(/valid: paper, tiny/);
  });
});
