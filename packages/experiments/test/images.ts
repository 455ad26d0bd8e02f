// Synthetic "photos" for the end-to-end tests: smooth colour gradients with a few coloured boxes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { rng } from './reference.js';

/** Writes `count` seeded colourful PNGs to `dir/photos` and their grayscale versions to `dir/gray`. */
export async function writeSyntheticPhotos(dir: string, count: number, width = 64, height = 48): Promise<{ photos: string; gray: string }> {
  const photos = path.join(dir, 'photos');
  const gray = path.join(dir, 'gray');
  fs.mkdirSync(photos, { recursive: true });
  fs.mkdirSync(gray, { recursive: true });
  for (let k = 0; k < count; k++) {
    const r = rng(1000 + k);
    const c0 = [r.uniform(), r.uniform(), r.uniform()].map((v) => 255 * v);
    const c1 = [r.uniform(), r.uniform(), r.uniform()].map((v) => 255 * v);
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const t = (x + y) / (width + height);
        for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(c0[c]! * (1 - t) + c1[c]! * t);
      }
    }
    for (let b = 0; b < 3; b++) {
      const col = [r.uniform(), r.uniform(), r.uniform()].map((v) => Math.round(255 * v));
      const x0 = Math.floor(r.uniform() * width * 0.7);
      const y0 = Math.floor(r.uniform() * height * 0.7);
      for (let y = y0; y < Math.min(height, y0 + 12); y++) for (let x = x0; x < Math.min(width, x0 + 16); x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = col[c]!;
    }
    const name = `img${String(k).padStart(2, '0')}.png`;
    await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(path.join(photos, name));
    await sharp(data, { raw: { width, height, channels: 3 } }).grayscale().png().toFile(path.join(gray, name));
  }
  return { photos, gray };
}
