/**
 * The one image reader and writer of DISCO: image files ↔ RGB pixels with sharp (Node-only).
 * Formats: PNG, JPEG, WebP, TIFF, GIF (first frame), AVIF/HEIF where libvips has them.
 */
import type * as nodeFs from 'node:fs';
import { readSync as nodeReadSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { describeFsError, ensureBackend, nodeFileSystem, sha256Hex, showPath, writeFileAtomic, type FileSystem } from '@disco/runtime/node';
import type { Rgb8Image } from '@disco/color';

/** Options of {@link readImage}. */
export interface ReadImageOptions {
  /**
   * What to do with an alpha channel: `white` composites the image over white (default),
   * `drop` discards alpha and keeps the stored color of transparent pixels.
   */
  alpha: 'white' | 'drop';
  /** Refuse images with more pixels than this (decompression bombs). Default 2²⁸ ≈ 268 M. */
  maxPixels: number;
  /**
   * Resize to `cover × cover` pixels after orientation: scaled to cover the square, the centre
   * kept (sharp's `fit: 'cover'`). 0 keeps the decoded size. Default 0.
   */
  cover: number;
}

/** Defaults of {@link ReadImageOptions}. */
export const READ_IMAGE_DEFAULTS: Readonly<ReadImageOptions> = Object.freeze({ alpha: 'white', maxPixels: 2 ** 28, cover: 0 });

/** Options of {@link writeImage}. */
export interface WriteImageOptions {
  /** Output format; default from the file extension, `png` when it is not one of these. */
  format: 'png' | 'jpeg' | 'webp' | 'tiff';
  /** JPEG/WebP quality 1..100. Default 92. */
  quality: number;
  /** Bits per channel: 8 (the only value supported for now). Default 8. */
  depth: 8;
}

/** Defaults of {@link WriteImageOptions} (`format` is inferred when omitted). */
export const WRITE_IMAGE_DEFAULTS: Readonly<Omit<WriteImageOptions, 'format'>> = Object.freeze({ quality: 92, depth: 8 });

function resolve<T extends object>(fn: string, defaults: Readonly<T>, partial: Partial<T>, extraKeys: string[] = []): T {
  const known = [...Object.keys(defaults), ...extraKeys];
  for (const k of Object.keys(partial)) if (!known.includes(k)) throw new Error(`${fn}: unknown option '${k}'; valid: ${known.join(', ')}`);
  const out = { ...defaults } as T;
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Validates {@link ReadImageOptions} (pure; unknown keys and bad values throw). */
export function resolveReadImageOptions(partial: Partial<ReadImageOptions> = {}): ReadImageOptions {
  const o = resolve('readImage', READ_IMAGE_DEFAULTS, partial);
  if (o.alpha !== 'white' && o.alpha !== 'drop') throw new Error(`readImage: alpha = ${String(o.alpha)}; valid: white, drop`);
  if (!(Number.isInteger(o.maxPixels) && o.maxPixels > 0)) throw new Error(`readImage: maxPixels = ${o.maxPixels}; valid: a positive integer`);
  if (!(Number.isInteger(o.cover) && o.cover >= 0)) throw new Error(`readImage: cover = ${o.cover}; valid: 0 or a positive integer`);
  return o;
}

const oneLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0]!.trim();

/** The formats sharp decodes here, for messages. */
const SUPPORTED = 'PNG, JPEG, WebP, TIFF, GIF';

/**
 * Why libvips could not decode `file`, in one line without the path it repeats: a format it does
 * not read (HEIC/HEIF, AVIF, BMP, PSD, sniffed from the first bytes) is named as such, with the
 * supported ones listed.
 */
function decodeFailure(file: string, e: unknown, fs: FileSystem): string {
  let head = Buffer.alloc(0);
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = new Uint8Array(16);
      const n = nodeReadSync(fd, b);
      head = Buffer.from(b.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // the reason below still says something
  }
  const brand = head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp' ? head.toString('latin1', 8, 12) : '';
  const format = /^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(brand) ? 'HEIC/HEIF' : /^avi[fs]$/.test(brand) ? 'AVIF' : head.toString('latin1', 0, 2) === 'BM' ? 'BMP' : head.toString('latin1', 0, 4) === '8BPS' ? 'PSD' : null;
  if (format) return `unsupported format ${format}; supported: ${SUPPORTED} (convert it first)`;
  const reason = oneLine(e).split(file).join('').replace(/:\s*:/g, ':').replace(/\s+$/, '');
  return /unsupported image format/i.test(reason) ? `${reason}; supported: ${SUPPORTED}` : reason;
}

/**
 * Decodes an image file to RGB float in [0, 1], `[height, width, 3]`, honouring EXIF
 * orientation. Grayscale is replicated to three channels; 16-bit inputs are read at 8-bit precision;
 * alpha is composited on white or dropped (see {@link ReadImageOptions}). Errors are one line:
 * `readImage: <file>: <reason>` (missing, empty, unreadable, corrupt, truncated, not an image, too
 * large). `fs` is the file-system layer (tests inject faults). When no tfjs backend is set yet, it
 * sets one up silently (`ensureBackend` of `@disco/runtime/node`), so a plain script needs none.
 *
 * @returns `[height, width, 3]` float32; the caller owns it.
 */
export async function readImage(file: string, options: Partial<ReadImageOptions> = {}, fs: FileSystem = nodeFileSystem): Promise<tf.Tensor3D> {
  const { data, width, height } = await decodeImage(file, options, fs);
  await ensureBackend(); // a plain script may not have set a backend yet (silent; keeps one that is set)
  return tf.tensor3d(data, [height, width, 3]);
}

/** Decoded pixels of {@link decodeImage}. */
export interface DecodedImage {
  /** RGB float in [0, 1], row-major `[height, width, 3]`. */
  data: Float32Array;
  /** Width after EXIF orientation. */
  width: number;
  /** Height after EXIF orientation. */
  height: number;
}

/** {@link readImage} without tfjs: the pixels as a `Float32Array` `[height, width, 3]`. */
export async function decodeImage(file: string, options: Partial<ReadImageOptions> = {}, fs: FileSystem = nodeFileSystem): Promise<DecodedImage> {
  const { data, width, height } = await decodeRgb8(file, options, fs);
  const n = width * height * 3;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i]! / 255;
  return { data: out, width, height };
}

/** Checks that `file` is a non-empty regular file we may read; throws `readImage: <file>: <reason>`. */
function checkReadable(file: string, fs: FileSystem): void {
  const fail = (reason: string): never => {
    throw new Error(`readImage: ${showPath(file)}: ${reason}`);
  };
  let stat: nodeFs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    return fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describeFsError(e));
  }
  if (!stat.isFile()) fail('not a regular file');
  if (stat.size === 0) fail('empty file');
  // Open it ourselves first: libvips reports an unreadable file as an "unsupported image format".
  try {
    fs.closeSync(fs.openSync(file, 'r'));
  } catch (e) {
    fail((e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EPERM' ? `cannot read (${describeFsError(e)})` : describeFsError(e));
  }
}

/**
 * Width and height of an image after EXIF orientation, from its header only (nothing is decoded).
 * Errors as {@link readImage}.
 */
export async function readImageSize(file: string, options: Partial<ReadImageOptions> = {}, fs: FileSystem = nodeFileSystem): Promise<{ width: number; height: number }> {
  const o = resolveReadImageOptions(options);
  checkReadable(file, fs);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: o.maxPixels, failOn: 'error', pages: 1 }).metadata();
  } catch (e) {
    throw new Error(`readImage: ${showPath(file)}: ${decodeFailure(file, e, fs)}`);
  }
  if (!meta.width || !meta.height) throw new Error(`readImage: ${showPath(file)}: no image size in its header`);
  if (meta.width * meta.height > o.maxPixels) throw new Error(`readImage: ${showPath(file)}: ${meta.width}×${meta.height} px is more than the limit of ${o.maxPixels} px`);
  const swap = (meta.orientation ?? 1) >= 5;
  return swap ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}

/**
 * {@link readImage} as 8-bit sRGB bytes `[height, width, 3]` (3 bytes per pixel, outside tfjs):
 * what the bounded-memory colorization of large photos works from.
 */
export async function decodeRgb8(file: string, options: Partial<ReadImageOptions> = {}, fs: FileSystem = nodeFileSystem): Promise<Rgb8Image> {
  const o = resolveReadImageOptions(options);
  checkReadable(file, fs);
  const fail = (reason: string): never => {
    throw new Error(`readImage: ${showPath(file)}: ${reason}`);
  };
  try {
    const img = sharp(file, { limitInputPixels: o.maxPixels, failOn: 'error', pages: 1 });
    // 16-bit inputs are converted to 8 bits per channel by libvips (sharp 0.34's 16-bit raw
    // output returned zeros in our tests), so their precision is 1/255.
    let p = img.rotate();
    if (o.cover > 0) p = p.resize(o.cover, o.cover, { fit: 'cover' });
    p = o.alpha === 'white' ? p.flatten({ background: { r: 255, g: 255, b: 255 } }) : p.removeAlpha();
    p = p.toColourspace('srgb');
    const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) fail(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    if ((e as Error).message.startsWith('readImage:')) throw e;
    return fail(decodeFailure(file, e, fs));
  }
}

/** An 8-bit sRGB image as {@link readRgbImage} returns it. */
export interface DecodedRgb8 extends Rgb8Image {
  /** Always 3. */
  channels: 3;
}

/**
 * {@link decodeRgb8} with alpha dropped, as the evaluation commands read images: 8-bit sRGB,
 * grayscale expanded to R = G = B, EXIF orientation applied. Errors are one line naming the
 * file: `readRgbImage: '<file>': <reason>` (missing, unreadable, empty, corrupt, not an image).
 *
 * @example
 * ```ts
 * const { width, height, data } = await readRgbImage('photo.jpg'); // data: width·height·3 bytes
 * ```
 */
export async function readRgbImage(file: string, fs: FileSystem = nodeFileSystem): Promise<DecodedRgb8> {
  try {
    return { ...(await decodeRgb8(file, { alpha: 'drop' }, fs)), channels: 3 };
  } catch (e) {
    const message = String((e as Error).message);
    const prefix = `readImage: ${file}: `;
    throw new Error(`readRgbImage: '${file}': ${message.startsWith(prefix) ? message.slice(prefix.length) : message}`);
  }
}

/**
 * Encodes 8-bit RGB as PNG and writes it atomically ({@link writeFileAtomic}: a full disk or a
 * permission error leaves no partial file and is reported in one line naming `file`). Returns
 * the sha256 (hex) of the bytes written, so a record can later tell whether the file changed.
 */
export async function writePng8(file: string, rgb: Uint8Array, width: number, height: number, fs: FileSystem = nodeFileSystem): Promise<string> {
  const png = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 }, limitInputPixels: false }).png().toBuffer();
  writeFileAtomic(file, png, { fs });
  return sha256Hex(png);
}

const EXT_FORMAT: Record<string, WriteImageOptions['format']> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff' };

/**
 * Encodes `[height, width, 3]` RGB in [0, 1] (values outside are clipped) and writes it
 * atomically: to a temporary name in the same folder, then renamed, so no reader ever sees a
 * half-written file. PNG unless the extension or `options.format` says otherwise.
 *
 * @param rgb `[height, width, 3]` float32 (not disposed).
 */
export async function writeImage(file: string, rgb: tf.Tensor3D, options: Partial<WriteImageOptions> = {}): Promise<void> {
  const o = resolve('writeImage', { ...WRITE_IMAGE_DEFAULTS, format: EXT_FORMAT[path.extname(file).toLowerCase()] ?? 'png' } as WriteImageOptions, options);
  tf.util.assert(rgb.rank === 3 && rgb.shape[2] === 3, () => `writeImage: rgb must have shape [height, width, 3], got [${rgb.shape}]`);
  if (!['png', 'jpeg', 'webp', 'tiff'].includes(o.format)) throw new Error(`writeImage: format = ${o.format}; valid: png, jpeg, webp, tiff`);
  if (o.depth !== 8) throw new Error(`writeImage: depth = ${String(o.depth)}; valid: 8`);
  if (!(o.quality >= 1 && o.quality <= 100)) throw new Error(`writeImage: quality = ${o.quality}; valid: 1..100`);
  const [height, width] = rgb.shape;
  const v = (await rgb.data()) as Float32Array;
  const px = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, Number.isFinite(v[i]!) ? v[i]! : 0)) * 255);
  const img = sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), { raw: { width, height, channels: 3 } });
  const encoded =
    o.format === 'png' ? await img.png().toBuffer()
    : o.format === 'jpeg' ? await img.jpeg({ quality: o.quality }).toBuffer()
    : o.format === 'webp' ? await img.webp({ quality: o.quality }).toBuffer()
    : await img.tiff({ bitdepth: 8 }).toBuffer();
  writeFileAtomic(file, encoded);
}
