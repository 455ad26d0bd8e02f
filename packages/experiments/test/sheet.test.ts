// Contact sheets: a column lacking one image leaves a blank cell; a folder of `--diverse` outputs
// (name_T0/T1/T2) becomes one column per suffix, its rows matched by the name without the suffix.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSheet, sheetColumn, sheetColumns } from '../src/node/sheet.js';

let dir = '';
const solid = (file: string, rgb: [number, number, number], w = 20, h = 10) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(file);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-sheet-'));
  for (const d of ['truth', 'model', 'diverse']) fs.mkdirSync(path.join(dir, d));
  await solid(path.join(dir, 'truth', 'a.png'), [255, 0, 0]);
  await solid(path.join(dir, 'truth', 'b.png'), [0, 255, 0]);
  await solid(path.join(dir, 'model', 'a.png'), [0, 0, 255]); // no b
  for (const n of ['a', 'b']) for (const t of [0, 1, 2]) await solid(path.join(dir, 'diverse', `${n}_T${t}.png`), [40 * t, 40 * t, 40 * t]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('experiments sheet', () => {
  it('--diverse outputs (a_T0 … b_T2) split into three columns titled "<title> T<n>" with rows a, b', () => {
    const cols = sheetColumns(`div=${path.join(dir, 'diverse')}`);
    expect(cols.map((c) => c.title)).toEqual(['div T0', 'div T1', 'div T2']);
    expect(cols.map((c) => [...c.files.keys()].sort())).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b']]);
    expect(sheetColumns(`truth=${path.join(dir, 'truth')}`)).toHaveLength(1);
  });

  it('a column without image b leaves its cell white [2 rows × 5 columns, 10 px high]', async () => {
    const cols = [sheetColumn(`truth=${path.join(dir, 'truth')}`), sheetColumn(`model=${path.join(dir, 'model')}`), ...sheetColumns(`div=${path.join(dir, 'diverse')}`)];
    const png = await renderSheet(cols, ['a', 'b'], 10);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    // cell (row, col) centre: x = 4 + col·(20+4) + 10, y = 22 + 4 + row·(10+4) + 5
    const centre = (row: number, col: number) => px(4 + col * 24 + 10, 26 + row * 14 + 5);
    expect(centre(0, 1)).toEqual([0, 0, 255]);
    expect(centre(1, 0)).toEqual([0, 255, 0]);
    expect(centre(1, 1)).toEqual([255, 255, 255]);
    expect(centre(1, 4)).toEqual([80, 80, 80]);
    await expect(renderSheet(cols, ['zzz'], 10)).rejects.toThrow(/^renderSheet: 'zzz' is in no column \(truth, model, div T0, div T1, div T2\)$/);
  });
});
