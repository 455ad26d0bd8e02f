/**
 * Image listing and decoding for the evaluation commands (Node only; uses `sharp`, installed at
 * the workspace root, because `@disco/colorize/node`'s `readImage` did not exist yet).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../metrics/colorfulness.js';

/** File extensions {@link listImages} picks up in a folder (lower case). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.tif', '.tiff', '.gif']);

/**
 * The image files named by `spec`: a folder (its image files, recursively, sorted by path) or a
 * text file with one path per line (relative paths resolve against the list's folder; blank lines
 * and lines starting with `#` are skipped). Throws a one-line error if nothing is found.
 */
export function listImages(spec: string): string[] {
  if (!fs.existsSync(spec)) throw new Error(`listImages: '${spec}' does not exist`);
  let files: string[];
  if (fs.statSync(spec).isDirectory()) {
    files = (fs.readdirSync(spec, { recursive: true, encoding: 'utf8' }) as string[])
      .map((f) => path.join(spec, f))
      .filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()) && fs.statSync(f).isFile())
      .sort();
  } else {
    const base = path.dirname(spec);
    files = fs
      .readFileSync(spec, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => (path.isAbsolute(l) ? l : path.join(base, l)));
    for (const f of files) if (!fs.existsSync(f)) throw new Error(`listImages: '${f}' (listed in ${spec}) does not exist`);
  }
  if (files.length === 0) throw new Error(`listImages: no images in '${spec}' (extensions: ${IMAGE_EXTENSIONS.join(' ')})`);
  return files;
}

/** A decoded 8-bit sRGB image. */
export interface DecodedImage extends RgbImage {
  /** Always 3. */
  channels: 3;
  /** `height*width*3` bytes, row-major interleaved RGB. */
  data: Uint8Array;
}

/**
 * Decodes an image file to 8-bit sRGB: alpha dropped, grayscale expanded to R = G = B, EXIF
 * orientation applied.
 */
export async function readRgbImage(file: string): Promise<DecodedImage> {
  const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`readRgbImage: '${file}' decoded to ${info.channels} channels, expected 3`);
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
