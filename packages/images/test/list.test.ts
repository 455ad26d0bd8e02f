import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { decodeImage, expandImageInputs, IMAGE_EXTENSIONS, isImageFile, listImageInputs, listImages, readRgbImage } from '../src/index.js';

let dir: string;
const f = (...p: string[]): string => path.join(dir, ...p);

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-list-'));
  fs.mkdirSync(f('set', 'sub'), { recursive: true });
  // a 4×2 image: left half red, right half blue
  const px = Buffer.from([255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]);
  await sharp(px, { raw: { width: 4, height: 2, channels: 3 } }).png().toFile(f('set', 'b.png'));
  fs.copyFileSync(f('set', 'b.png'), f('set', 'sub', 'a.GIF'));
  fs.writeFileSync(f('set', 'notes.txt'), 'b.png\n');
  fs.writeFileSync(f('set', 'c.bmp'), 'BM');
  fs.writeFileSync(f('list.txt'), '# one image\nset/b.png\n\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the image lister', () => {
  it('has one extension set, case-insensitive, without BMP', () => {
    expect(IMAGE_EXTENSIONS).toEqual(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif']);
    expect(isImageFile('x/Y.JPEG')).toBe(true);
    expect(isImageFile('x/y.bmp')).toBe(false);
  });
  it('lists a folder recursively and sorted, with relative paths; a list file line by line', () => {
    expect(listImageInputs(f('set'))).toEqual([
      { file: f('set', 'b.png'), rel: 'b.png' },
      { file: f('set', 'sub', 'a.GIF'), rel: 'sub/a.GIF' },
    ]);
    expect(listImages(f('list.txt'))).toEqual([f('set', 'b.png')]);
    expect(expandImageInputs([f('set')], { exclude: [f('set', 'sub')] }).map((i) => i.rel)).toEqual(['b.png']);
  });
  it('throws one line when nothing is found', () => {
    expect(() => listImages(f('nope'))).toThrow(/^listImages: '.*nope' does not exist$/);
    fs.mkdirSync(f('empty'));
    expect(() => listImages(f('empty'))).toThrow(/^listImages: no images in '.*empty'/);
  });
});

describe('the image reader', () => {
  it('cover resizes to a square keeping the centre [2,2,3]', async () => {
    const { data, width, height } = await decodeImage(f('set', 'b.png'), { cover: 2 });
    expect([height, width]).toEqual([2, 2]);
    // the centre columns of the 4×2 image: red then blue
    expect(Array.from(data.subarray(0, 6)).map((v) => Math.round(v * 255))).toEqual([255, 0, 0, 0, 0, 255]);
  });
  it('readRgbImage gives 8-bit RGB with channels 3 and names the file in its errors', async () => {
    const im = await readRgbImage(f('set', 'b.png'));
    expect([im.width, im.height, im.channels, im.data.length]).toEqual([4, 2, 3, 24]);
    await expect(readRgbImage(f('set', 'c.bmp'))).rejects.toThrow(/^readRgbImage: '.*c\.bmp': /);
  });
});
