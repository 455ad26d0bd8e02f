/**
 * Crops for looking at superpixel blocks (issue 28): for every image in each `<folder>`, the
 * region of `tokens × tokens` cells of the model's `grid × grid` token grid around the image
 * centre (the grid of `disco colorize --mode resize`: cell edges at ⌊k·H/grid⌋), enlarged `zoom`×
 * by nearest neighbour so single pixels stay visible; written to `<folder>-crop/` under the same name.
 *
 *   npx tsx --conditions=@disco/source scripts/chroma-crops.ts [--grid 8] [--tokens 3] [--zoom 3] <folder>...
 *
 * Used for docs/images/chroma-upsampling.png with `disco colorize --chroma-upsampling bilinear|guided`
 * and `nx run experiments:sheet` (the commands are in packages/colorize/README.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { listImages, readImage, writeImage } from '@disco/images';
import { selectBackend } from '@disco/runtime';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args.splice(i, 2)[1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be an integer ≥ 1`);
  return v;
};
const grid = opt('--grid', 8);
const tokens = opt('--tokens', 3);
const zoom = opt('--zoom', 3);
await selectBackend({ backend: 'cpu' });
for (const dir of args) {
  const out = `${dir.replace(/\/$/, '')}-crop`;
  fs.mkdirSync(out, { recursive: true });
  for (const file of listImages(dir)) {
    const img = await readImage(file);
    const [H, W] = img.shape;
    const c0 = Math.floor((grid - tokens) / 2);
    const [y0, y1] = [Math.floor((c0 * H) / grid), Math.floor(((c0 + tokens) * H) / grid)];
    const [x0, x1] = [Math.floor((c0 * W) / grid), Math.floor(((c0 + tokens) * W) / grid)];
    const crop = tf.tidy(() => tf.image.resizeNearestNeighbor(tf.slice(img, [y0, x0, 0], [y1 - y0, x1 - x0, 3]), [(y1 - y0) * zoom, (x1 - x0) * zoom]) as tf.Tensor3D);
    await writeImage(path.join(out, path.basename(file)), crop);
    tf.dispose([img, crop]);
  }
  process.stdout.write(`${out}\n`);
}
