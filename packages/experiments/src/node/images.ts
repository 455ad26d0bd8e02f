/**
 * Image listing and decoding for the evaluation commands (Node only; decodes with `sharp`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { describeFsError, expandInputs, type InputFile } from '@disco/runtime/node';
import type { RgbImage } from '../metrics/colorfulness.js';

/** File extensions {@link listImages} picks up in a folder (lower case): the formats sharp decodes (it has no BMP reader). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif']);

/**
 * The image files named by `spec` with their relative paths (see {@link listImages}); the
 * relative path is what `--shard` hashes and what merged feature files are matched by.
 */
export function listImageInputs(spec: string): InputFile[] {
  const glob = /[*?[]/.test(spec) && !fs.existsSync(spec);
  if (!glob && !fs.existsSync(spec)) throw new Error(`listImages: '${spec}' does not exist`);
  const files = expandInputs([spec], { extensions: IMAGE_EXTENSIONS, anyFileIsList: true });
  const isList = !glob && !fs.statSync(spec).isDirectory() && !IMAGE_EXTENSIONS.includes(path.extname(spec).toLowerCase());
  if (isList) for (const f of files) if (!fs.existsSync(f.file)) throw new Error(`listImages: '${f.file}' (listed in ${spec}) does not exist`);
  if (files.length === 0) throw new Error(`listImages: no images in '${spec}' (extensions: ${IMAGE_EXTENSIONS.join(' ')})`);
  return files;
}

/**
 * The image files named by `spec`: a folder (its image files, recursively, sorted by path), a
 * glob (`photos/**\/*.jpg`), an image file, or a text file with one path per line (relative
 * paths resolve against the list's folder; blank lines and lines starting with `#` are skipped).
 * Links are followed but each real folder is entered once, so a link loop lists each image once.
 * Throws a one-line error if nothing is found.
 */
export function listImages(spec: string): string[] {
  return listImageInputs(spec).map((f) => f.file);
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
 * orientation applied. Errors are one line naming the file: `readRgbImage: '<file>': <reason>`
 * (missing, unreadable, empty, corrupt, not an image).
 */
export async function readRgbImage(file: string): Promise<DecodedImage> {
  const fail = (why: string): never => {
    throw new Error(`readRgbImage: '${file}': ${why}`);
  };
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) fail('not a regular file');
    if (st.size === 0) fail('empty file');
    fs.closeSync(fs.openSync(file, 'r'));
  } catch (e) {
    if ((e as Error).message.startsWith('readRgbImage:')) throw e;
    fail(describeFsError(e));
  }
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await sharp(file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    return fail(String((e as Error).message).split('\n')[0]!);
  }
  const { data, info } = decoded;
  if (info.channels !== 3) throw new Error(`readRgbImage: '${file}' decoded to ${info.channels} channels, expected 3`);
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
