import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { expectClose } from '@disco/runtime/testing';
import { readImage, resolveReadImageOptions, writeImage } from '../src/index.js';

let dir: string;
const f = (n: string): string => path.join(dir, n);
// 2×3 RGB pattern: row 0 red green blue, row 1 white black grey(128)
const PIX = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 128, 128];
const raw = (w: number, h: number, ch: 1 | 2 | 3 | 4, data: number[]) => sharp(Buffer.from(data), { raw: { width: w, height: h, channels: ch } });

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-io-'));
  await raw(3, 2, 3, PIX).png().toFile(f('rgb.png'));
  await raw(3, 2, 3, PIX).tiff({ compression: 'lzw' }).toFile(f('rgb.tiff'));
  await raw(3, 2, 3, PIX).webp({ lossless: true }).toFile(f('rgb.webp'));
  await raw(3, 2, 3, PIX).gif().toFile(f('rgb.gif'));
  await raw(2, 1, 1, [0, 200]).png().toFile(f('grey.png'));
  // RGBA: opaque red, fully transparent blue
  await raw(2, 1, 4, [255, 0, 0, 255, 0, 0, 255, 0]).png().toFile(f('rgba.png'));
  // 16-bit grey ramp via rgb16
  await raw(3, 2, 3, PIX).toColourspace('rgb16').png().toFile(f('deep.png'));
  // EXIF orientation 6 (rotate 90° clockwise to display): stored 3×2 blocks of 16 px become 2×3
  await raw(3, 2, 3, PIX).resize(48, 32, { kernel: 'nearest' }).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 6 }).toFile(f('exif6.jpg'));
  const jpg = await raw(3, 2, 3, PIX).resize(64, 64).jpeg().toBuffer();
  fs.writeFileSync(f('truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
  const png = fs.readFileSync(f('rgb.png'));
  const corrupt = Buffer.from(png);
  for (let i = 40; i < corrupt.length - 12; i++) corrupt[i] = 0x55;
  fs.writeFileSync(f('corrupt.png'), corrupt);
  fs.writeFileSync(f('empty.jpg'), '');
  fs.writeFileSync(f('text.png'), 'hello, I am not an image\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('readImage', () => {
  for (const ext of ['png', 'tiff', 'webp', 'gif']) {
    it(`decodes ${ext} to [2,3,3] float32 in [0,1] with exact pixel values`, async () => {
      const t = await readImage(f(`rgb.${ext}`));
      expect(t.shape).toEqual([2, 3, 3]);
      expect(t.dtype).toBe('float32');
      expectClose(t, PIX.map((v) => v / 255), { rtol: 0, atol: ext === 'gif' ? 2 / 255 : 1e-6, what: ext });
      t.dispose();
    });
  }
  it('replicates grayscale to RGB [1,2,3]', async () => {
    expectClose(await readImage(f('grey.png')), [0, 0, 0, 200 / 255, 200 / 255, 200 / 255], { rtol: 0, atol: 1e-6 });
  });
  it('composites alpha on white by default, or drops it', async () => {
    expectClose(await readImage(f('rgba.png')), [1, 0, 0, 1, 1, 1], { rtol: 0, atol: 1e-6, what: 'white' });
    expectClose(await readImage(f('rgba.png'), { alpha: 'drop' }), [1, 0, 0, 0, 0, 1], { rtol: 0, atol: 1e-6, what: 'drop' });
  });
  it('reads 16-bit PNG [2,3,3] (at 8-bit precision)', async () => {
    expect((await sharp(f('deep.png')).metadata()).depth).toBe('ushort');
    expectClose(await readImage(f('deep.png')), PIX.map((v) => v / 255), { rtol: 0, atol: 1 / 255 });
  });
  it('honours EXIF orientation (stored [2,3] → displayed [3,2], rotated clockwise)', async () => {
    const t = await readImage(f('exif6.jpg'));
    expect(t.shape).toEqual([48, 32, 3]);
    // after a clockwise turn, the top row is (white, red): bottom-left then top-left of the original
    const v = t.arraySync() as number[][][];
    expectClose(v[8]![8]!, [1, 1, 1], { rtol: 0, atol: 0.05, what: 'top-left block is white' });
    expectClose(v[8]![24]!, [1, 0, 0], { rtol: 0, atol: 0.05, what: 'top-right block is red' });
    expectClose(v[40]![8]!, [0.5, 0.5, 0.5], { rtol: 0, atol: 0.05, what: 'bottom-left block is grey' });
  });
  it('gives one-line errors naming the file for bad inputs', async () => {
    for (const [name, re] of [
      ['missing.png', /no such file/],
      ['empty.jpg', /empty file/],
      ['text.png', /unsupported image format/],
      ['truncated.jpg', /./],
      ['corrupt.png', /./],
    ] as const) {
      const err = await readImage(f(name)).then(() => null, (e: Error) => e);
      expect(err, name).not.toBeNull();
      expect(err!.message.startsWith(`readImage: ${f(name)}: `), err!.message).toBe(true);
      expect(err!.message).toMatch(re);
      expect(err!.message).not.toContain('\n');
    }
  });
  it('HEIC is "unsupported format" with the supported ones listed, the path once; a newline in a name is quoted (issue 27 #18, #19)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'img-heic-'));
    const heic = path.join(dir, 'IMG_0001.HEIC.png');
    fs.writeFileSync(heic, Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic'), Buffer.alloc(200, 7)]));
    const err = await readImage(heic).then(() => null, (e: Error) => e);
    expect(err!.message).toBe(`readImage: ${heic}: unsupported format HEIC/HEIF; supported: PNG, JPEG, WebP, TIFF, GIF (convert it first)`);
    const odd = path.join(dir, 'two\nlines.png');
    fs.writeFileSync(odd, 'not a png');
    const e2 = await readImage(odd).then(() => null, (e: Error) => e);
    expect(e2!.message.startsWith(`readImage: ${JSON.stringify(odd)}: `), e2!.message).toBe(true);
    expect(e2!.message).not.toContain('\n');
    expect(e2!.message.split(JSON.stringify(odd))).toHaveLength(2);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  it('refuses images above maxPixels (decompression bombs)', async () => {
    await expect(readImage(f('rgb.png'), { maxPixels: 5 })).rejects.toThrow(/^readImage: .*rgb\.png: .*pixel limit/i);
    expect(() => resolveReadImageOptions({ alpha: 'black' as never })).toThrow(/alpha = black; valid: white, drop/);
    expect(() => resolveReadImageOptions({ limit: 1 } as never)).toThrow(/unknown option 'limit'/);
  });
});

describe('writeImage', () => {
  it('round-trips PNG exactly at 8 bits, clipping out-of-range values', async () => {
    const t = tf.tensor3d([0, 0.5, 1, 1.5, -0.2, 0.25], [1, 2, 3]);
    await writeImage(f('out.png'), t);
    expectClose(await readImage(f('out.png')), [0, 128 / 255, 1, 1, 0, 64 / 255], { rtol: 0, atol: 1e-6, what: '8-bit' });
    await expect(writeImage(f('out16.png'), t, { depth: 16 as 8 })).rejects.toThrow(/^writeImage: depth = 16; valid: 8/);
    expect(fs.readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });
  it('picks the format from the extension (JPEG) and PNG otherwise', async () => {
    const t = tf.fill([8, 8, 3], 0.5) as tf.Tensor3D;
    await writeImage(f('out.jpg'), t);
    await writeImage(f('out.bin'), t);
    expect((await sharp(f('out.jpg')).metadata()).format).toBe('jpeg');
    expect((await sharp(f('out.bin')).metadata()).format).toBe('png');
  });
  it('never leaves a partial file: a failed write keeps the old content and no temp file', async () => {
    fs.writeFileSync(f('keep.png'), 'old');
    const bad = tf.zeros([2, 2, 4]) as tf.Tensor3D;
    await expect(writeImage(f('keep.png'), bad)).rejects.toThrow(/^writeImage: rgb must have shape \[height, width, 3\]/);
    expect(fs.readFileSync(f('keep.png'), 'utf8')).toBe('old');
    await expect(writeImage(f('keep.png'), tf.zeros([2, 2, 3]) as tf.Tensor3D, { quality: 0 })).rejects.toThrow(/quality = 0; valid: 1..100/);
    expect(fs.readdirSync(dir).filter((n) => n.includes('keep.png'))).toEqual(['keep.png']);
  });
});
