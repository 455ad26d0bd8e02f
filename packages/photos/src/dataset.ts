/**
 * A streaming photo dataset (Node-only): folders or list files, seeded shuffling, random square
 * crop + resize, optional horizontal flip, near-grey filtering, deterministic train/validation
 * split by file, and a small prefetch window. Only the images of the batches in flight are in
 * memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { isImageFile } from '@disco/images';
import { mulberry32 as rng } from '@disco/random';
import { listFilesRecursive } from '@disco/runtime/node';
import { rgbToNormalizedLab } from '@disco/color';

/** Options of {@link PhotoDataset}. */
export interface DatasetOptions {
  /** Folders (searched recursively for the `IMAGE_EXTENSIONS` of `@disco/images`) and/or list files (`.txt`, one path per line, relative to the list's folder; `#` comments). Required. */
  sources: string[];
  /** Side of the square training images. Default 256. */
  size: number;
  /** Images per batch. Default 8. */
  batchSize: number;
  /** Seed of shuffling, crops, flips and the split. Default 0. */
  seed: number;
  /** Which part of the split to serve. Default `train`. */
  split: 'train' | 'validation' | 'all';
  /** Fraction of files held out for validation, in [0, 1). Default 0.1. */
  validationFraction: number;
  /** Smallest crop side as a fraction of the shorter image side, in (0, 1]. Default 0.5 (1 = largest centred-anywhere square). */
  minCropScale: number;
  /** Mirror half the crops horizontally. Default true. */
  flip: boolean;
  /** Skip images whose mean HSV saturation is below this (0 disables). Default 0.05. */
  minSaturation: number;
  /** Batches decoded ahead of the consumer. Default 2. */
  prefetch: number;
  /** `rgb`: batches `{rgb}` in [0,1]; `lab`: `{L, ab}` normalised as the model expects. Default `rgb`. */
  output: 'rgb' | 'lab';
  /** Drop the last incomplete batch of an epoch. Default true. */
  dropRemainder: boolean;
}

/** Defaults of {@link DatasetOptions} (`sources` has none). */
export const DATASET_DEFAULTS: Readonly<Omit<DatasetOptions, 'sources'>> = Object.freeze({
  size: 256,
  batchSize: 8,
  seed: 0,
  split: 'train',
  validationFraction: 0.1,
  minCropScale: 0.5,
  flip: true,
  minSaturation: 0.05,
  prefetch: 2,
  output: 'rgb',
  dropRemainder: true,
});

/** Validates dataset options (pure): copies over the defaults, checks ranges, rejects unknown keys. */
export function resolveDatasetOptions(partial: Partial<DatasetOptions> & { sources: string[] }): DatasetOptions {
  const known = ['sources', ...Object.keys(DATASET_DEFAULTS)];
  for (const k of Object.keys(partial)) if (!known.includes(k)) throw new Error(`resolveDatasetOptions: unknown option '${k}'; valid: ${known.join(', ')}`);
  const o = { ...DATASET_DEFAULTS, sources: [] as string[] } as DatasetOptions;
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  o.sources = [...o.sources];
  const bad = (name: string, valid: string): never => {
    throw new Error(`resolveDatasetOptions: ${name} = ${JSON.stringify((o as unknown as Record<string, unknown>)[name])}; valid: ${valid}`);
  };
  if (!Array.isArray(o.sources) || o.sources.length === 0) bad('sources', 'a non-empty list of folders or list files');
  if (!(Number.isInteger(o.size) && o.size >= 8 && o.size <= 4096)) bad('size', 'an integer in 8..4096');
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) bad('batchSize', 'an integer ≥ 1');
  if (!Number.isInteger(o.seed)) bad('seed', 'an integer');
  if (!['train', 'validation', 'all'].includes(o.split)) bad('split', 'train, validation, all');
  if (!(o.validationFraction >= 0 && o.validationFraction < 1)) bad('validationFraction', 'a number in [0, 1)');
  if (!(o.minCropScale > 0 && o.minCropScale <= 1)) bad('minCropScale', 'a number in (0, 1]');
  if (typeof o.flip !== 'boolean') bad('flip', 'true, false');
  if (!(o.minSaturation >= 0 && o.minSaturation < 1)) bad('minSaturation', 'a number in [0, 1)');
  if (!(Number.isInteger(o.prefetch) && o.prefetch >= 1 && o.prefetch <= 64)) bad('prefetch', 'an integer in 1..64');
  if (!['rgb', 'lab'].includes(o.output)) bad('output', 'rgb, lab');
  return o;
}

/** One batch. Tensors belong to the consumer: dispose them. */
export interface DatasetBatch {
  /** `[batch, size, size, 3]` RGB in [0, 1] (output `rgb`). */
  rgb?: tf.Tensor4D;
  /** `[batch, size, size, 1]` L as (L−50)/50 (output `lab`). */
  L?: tf.Tensor4D;
  /** `[batch, size, size, 2]` ab / 110 (output `lab`). */
  ab?: tf.Tensor4D;
  /** The source file of each image. */
  files: string[];
}

function listSource(src: string): string[] {
  const st = fs.statSync(src);
  // Links are followed, each real folder entered once (a link loop lists each photo once).
  if (st.isDirectory()) return listFilesRecursive(src, { filter: isImageFile });
  const dir = path.dirname(src);
  return fs
    .readFileSync(src, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => path.resolve(dir, l));
}

/** FNV-1a hash of a string mixed with a seed, as a 32-bit unsigned integer. */
function hash(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/** Mean HSV saturation `(max − min) / max` of an RGB image, on a ≤ 64-pixel thumbnail. */
async function meanSaturation(file: string): Promise<number> {
  const { data, info } = await sharp(file, { failOn: 'error', pages: 1 }).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb').resize(64, 64, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
  let s = 0;
  const n = info.width * info.height;
  for (let i = 0; i < n; i++) {
    const r = data[3 * i]!;
    const g = data[3 * i + 1]!;
    const b = data[3 * i + 2]!;
    const mx = Math.max(r, g, b);
    s += mx === 0 ? 0 : (mx - Math.min(r, g, b)) / mx;
  }
  return s / n;
}

/**
 * A streaming dataset of photographs. Iterating `batches(epoch)` yields batches in an order
 * fixed by `(seed, epoch)`; the crop and flip of each image depend only on `(seed, epoch, file)`,
 * so the same seed always gives identical batches.
 *
 * @example
 * ```ts
 * const ds = await PhotoDataset.create({ sources: ['.cache/disco-photos/train.txt'], size: 64, output: 'lab' });
 * for await (const { L, ab } of ds.batches(0)) { ...; tf.dispose([L, ab]); }
 * ```
 */
export class PhotoDataset {
  /** Resolved options. */
  readonly options: DatasetOptions;
  /** The files of the selected split, sorted. */
  readonly files: readonly string[];
  private readonly grey = new Map<string, boolean>();
  private readonly bad = new Map<string, string>();

  private constructor(options: DatasetOptions, files: string[]) {
    this.options = options;
    this.files = files;
  }

  /** Lists the sources and applies the split; reads no image yet. */
  static async create(options: Partial<DatasetOptions> & { sources: string[] }): Promise<PhotoDataset> {
    const o = resolveDatasetOptions(options);
    const all = new Set<string>();
    for (const s of o.sources) {
      if (!fs.existsSync(s)) throw new Error(`PhotoDataset: source ${s}: no such file or folder`);
      for (const f of listSource(s)) all.add(path.resolve(f));
    }
    const sorted = [...all].sort();
    // Split by file: a file is in validation iff its seeded hash falls below the fraction.
    const isVal = (f: string): boolean => hash(path.basename(f) + '\u0000' + f.length, o.seed) / 2 ** 32 < o.validationFraction;
    const files = o.split === 'all' ? sorted : sorted.filter((f) => isVal(f) === (o.split === 'validation'));
    if (files.length === 0) throw new Error(`PhotoDataset: no images in split '${o.split}' of ${o.sources.join(', ')}`);
    return new PhotoDataset(o, files);
  }

  /** The file order of an epoch (seeded Fisher–Yates). */
  epochOrder(epoch: number): string[] {
    const r = rng(hash(`epoch:${epoch}`, this.options.seed));
    const a = [...this.files];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  private async isGrey(file: string): Promise<boolean> {
    if (this.options.minSaturation <= 0) return false;
    let g = this.grey.get(file);
    if (g === undefined) {
      g = (await meanSaturation(file)) < this.options.minSaturation;
      this.grey.set(file, g);
    }
    return g;
  }

  /**
   * Files that could not be decoded (missing, unreadable, corrupt), with the reason. They are
   * skipped like near-grey photos, in every epoch, so batches stay a function of `(seed, epoch)`.
   */
  get skipped(): ReadonlyMap<string, string> {
    return this.bad;
  }

  /** How many of the files seen so far were skipped as near-grey and as undecodable. */
  filtered(): { grey: number; unreadable: number } {
    let grey = 0;
    for (const g of this.grey.values()) if (g) grey++;
    return { grey, unreadable: this.bad.size };
  }

  /** Decodes one augmented sample, or `null` when it is filtered out as near-grey or cannot be decoded. */
  private async load(file: string, epoch: number): Promise<Float32Array | null> {
    const { size, minCropScale, flip } = this.options;
    if (this.bad.has(file)) return null;
    try {
      if (await this.isGrey(file)) return null;
      // Orient first, so crops are taken in display coordinates.
      const { data, info } = await sharp(file, { failOn: 'error', pages: 1 }).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const r = rng(hash(`${epoch}:${file}`, this.options.seed));
      const short = Math.min(info.width, info.height);
      const side = Math.max(1, Math.round(short * (minCropScale + (1 - minCropScale) * r())));
      const left = Math.floor(r() * (info.width - side + 1));
      const top = Math.floor(r() * (info.height - side + 1));
      const mirror = flip && r() < 0.5;
      let p = sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).extract({ left, top, width: side, height: side }).resize(size, size, { fit: 'fill' });
      if (mirror) p = p.flop();
      const px = await p.raw().toBuffer();
      const out = new Float32Array(size * size * 3);
      for (let i = 0; i < out.length; i++) out[i] = px[i]! / 255;
      return out;
    } catch (e) {
      this.bad.set(file, String((e as Error).message).split('\n')[0]!);
      return null;
    }
  }

  /**
   * The batches of one epoch, decoded up to `prefetch` batches ahead. Near-grey and undecodable
   * photos are left out (see {@link PhotoDataset.skipped}). Stopping early (`break`) leaves no
   * tensors behind; batches already yielded belong to the caller.
   */
  async *batches(epoch = 0): AsyncGenerator<DatasetBatch> {
    const { batchSize, prefetch, size, output, dropRemainder } = this.options;
    const order = this.epochOrder(epoch);
    const window = prefetch * batchSize;
    const pending: Promise<Float32Array | null>[] = [];
    let next = 0;
    const fill = (): void => {
      while (pending.length < window && next < order.length) {
        const p = this.load(order[next]!, epoch);
        p.catch(() => undefined); // surfaced when awaited in order
        pending.push(p);
        next++;
      }
    };
    let taken = 0;
    let images: Float32Array[] = [];
    let files: string[] = [];
    fill();
    while (pending.length > 0) {
      const file = order[taken++]!;
      const img = await pending.shift()!;
      fill();
      if (img) {
        images.push(img);
        files.push(file);
      }
      if (images.length === batchSize || (pending.length === 0 && images.length > 0 && !dropRemainder)) {
        const n = images.length;
        const flat = new Float32Array(n * size * size * 3);
        images.forEach((im, i) => flat.set(im, i * size * size * 3));
        const batchFiles = files;
        images = [];
        files = [];
        if (output === 'rgb') {
          yield { rgb: tf.tensor4d(flat, [n, size, size, 3]), files: batchFiles };
        } else {
          const rgb = tf.tensor4d(flat, [n, size, size, 3]);
          const { L, ab } = rgbToNormalizedLab(rgb);
          rgb.dispose();
          yield { L, ab, files: batchFiles };
        }
      }
    }
  }
}
