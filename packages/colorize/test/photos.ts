import sharp from 'sharp';

/** Colorful test photos (default 80×72): gradients plus a red disc, different per seed. */
export async function makeImage(file: string, seed: number, w = 80, h = 72): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const inDisc = (x - 20 - seed * 3) ** 2 + (y - 30) ** 2 < 200;
      px[i] = inDisc ? 220 : (x * 3 + seed * 20) % 256;
      px[i + 1] = inDisc ? 40 : (y * 3) % 256;
      px[i + 2] = inDisc ? 60 : 128 + seed * 5;
    }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}
