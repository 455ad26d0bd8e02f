import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { expectClose, seededRandom } from '@disco/runtime/testing';
import { PhotoDataset, resolveDatasetOptions, type DatasetBatch } from '../src/index.js';
import { rgbToNormalizedLab } from '@disco/color';

let dir: string;
const N = 9;

async function collect(ds: PhotoDataset, epoch = 0): Promise<{ files: string[]; data: number[][] }> {
  const files: string[] = [];
  const data: number[][] = [];
  for await (const b of ds.batches(epoch)) {
    files.push(...b.files);
    data.push(Array.from(b.rgb!.dataSync()));
    b.rgb!.dispose();
  }
  return { files, data };
}

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-ds-'));
  fs.mkdirSync(path.join(dir, 'photos', 'sub'), { recursive: true });
  for (let i = 0; i < N; i++) {
    const r = seededRandom(i + 1);
    const w = 40 + 4 * i;
    const h = 32;
    const px = Buffer.alloc(w * h * 3);
    for (let k = 0; k < px.length; k++) px[k] = Math.floor(255 * r());
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, 'photos', i % 2 ? 'sub' : '', `img${i}.png`));
  }
  const grey = Buffer.alloc(32 * 32 * 3, 120);
  await sharp(grey, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(path.join(dir, 'photos', 'grey.png'));
  fs.writeFileSync(path.join(dir, 'list.txt'), '# two files\nphotos/img0.png\n\nphotos/sub/img1.png\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('PhotoDataset', () => {
  const base = () => ({ sources: [path.join(dir, 'photos')], size: 16, batchSize: 2, split: 'all' as const });

  it('yields [2,16,16,3] batches in [0,1]; near-grey images are filtered out', async () => {
    const ds = await PhotoDataset.create({ ...base(), dropRemainder: false });
    expect(ds.files.length).toBe(N + 1);
    const { files, data } = await collect(ds);
    expect(files.length).toBe(N);
    expect(files.some((f) => f.endsWith('grey.png'))).toBe(false);
    expect(data[0]!.length).toBe(2 * 16 * 16 * 3);
    expect(data.flat().every((v) => v >= 0 && v <= 1)).toBe(true);
    const unfiltered = await collect(await PhotoDataset.create({ ...base(), dropRemainder: false, minSaturation: 0 }));
    expect(unfiltered.files.length).toBe(N + 1);
  });

  it('is deterministic per seed: same seed → identical batches; other seed or epoch → different', async () => {
    const a = await collect(await PhotoDataset.create({ ...base(), seed: 3 }));
    const b = await collect(await PhotoDataset.create({ ...base(), seed: 3, prefetch: 4 }));
    const c = await collect(await PhotoDataset.create({ ...base(), seed: 4 }));
    const d = await collect(await PhotoDataset.create({ ...base(), seed: 3 }), 1);
    expect(a.files.length).toBe(8); // 9 colour images, remainder dropped
    expect(b).toEqual(a);
    expect(c.files).not.toEqual(a.files);
    expect(d.files).not.toEqual(a.files);
  });

  it('a crop of the full image without flip equals a plain resize (minCropScale 1, square image)', async () => {
    const sq = path.join(dir, 'square');
    fs.mkdirSync(sq, { recursive: true });
    const px = Buffer.alloc(32 * 32 * 3);
    for (let k = 0; k < px.length; k++) px[k] = (k * 37) % 256;
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(path.join(sq, 'a.png'));
    const ds = await PhotoDataset.create({ sources: [sq], size: 16, batchSize: 1, split: 'all', minCropScale: 1, flip: false, minSaturation: 0 });
    const got = (await collect(ds)).data[0]!;
    const ref = await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).resize(16, 16, { fit: 'fill' }).raw().toBuffer();
    expectClose(got, Array.from(ref, (v) => v / 255), { rtol: 0, atol: 1e-6 });
  });

  it('splits by file, deterministically per seed: train ∪ validation = all, disjoint', async () => {
    const opts = { sources: [path.join(dir, 'photos')], validationFraction: 0.3, seed: 5 };
    const tr = await PhotoDataset.create({ ...opts, split: 'train' });
    const va = await PhotoDataset.create({ ...opts, split: 'validation' });
    expect(tr.files.length + va.files.length).toBe(N + 1);
    expect(tr.files.filter((f) => va.files.includes(f))).toEqual([]);
    expect((await PhotoDataset.create({ ...opts, split: 'validation' })).files).toEqual(va.files);
  });

  it('reads list files (relative paths, comments) and outputs normalised L/ab [2,16,16,1]/[2,16,16,2]', async () => {
    const ds = await PhotoDataset.create({ sources: [path.join(dir, 'list.txt')], size: 16, batchSize: 2, split: 'all', output: 'lab', seed: 1 });
    expect(ds.files.map((f) => path.basename(f))).toEqual(['img0.png', 'img1.png']);
    const rgbDs = await PhotoDataset.create({ sources: [path.join(dir, 'list.txt')], size: 16, batchSize: 2, split: 'all', seed: 1 });
    const lab: DatasetBatch[] = [];
    for await (const b of ds.batches(0)) lab.push(b);
    const rgb: DatasetBatch[] = [];
    for await (const b of rgbDs.batches(0)) rgb.push(b);
    expect(lab[0]!.L!.shape).toEqual([2, 16, 16, 1]);
    expect(lab[0]!.ab!.shape).toEqual([2, 16, 16, 2]);
    const ref = rgbToNormalizedLab(rgb[0]!.rgb!);
    expectClose(lab[0]!.L!, ref.L, { rtol: 0, atol: 1e-6 });
    expectClose(lab[0]!.ab!, ref.ab, { rtol: 0, atol: 1e-6 });
  });

  it('stopping early leaves no tensors behind', async () => {
    const ds = await PhotoDataset.create(base());
    const before = tf.memory().numTensors;
    for await (const b of ds.batches(0)) {
      b.rgb!.dispose();
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options and missing sources with one-line errors', async () => {
    expect(() => resolveDatasetOptions({ sources: ['x'], size: 3 })).toThrow(/^resolveDatasetOptions: size = 3; valid: an integer in 8\.\.4096/);
    expect(() => resolveDatasetOptions({ sources: [] })).toThrow(/sources/);
    expect(() => resolveDatasetOptions({ sources: ['x'], shuffle: true } as never)).toThrow(/unknown option 'shuffle'/);
    await expect(PhotoDataset.create({ sources: [path.join(dir, 'nope')] })).rejects.toThrow(/^PhotoDataset: source .*nope: no such file or folder/);
  });

  it('skips a corrupt photo, names it in `skipped`, and serves the others (every epoch alike)', async () => {
    fs.writeFileSync(path.join(dir, 'bad.txt'), 'broken.png\nphotos/img0.png\nempty.png\n');
    fs.writeFileSync(path.join(dir, 'broken.png'), 'not a png');
    fs.writeFileSync(path.join(dir, 'empty.png'), '');
    const ds = await PhotoDataset.create({ sources: [path.join(dir, 'bad.txt')], split: 'all', batchSize: 1 });
    for (const epoch of [0, 1]) expect((await collect(ds, epoch)).files.map((f) => path.basename(f))).toEqual(['img0.png']);
    expect([...ds.skipped.keys()].map((f) => path.basename(f)).sort()).toEqual(['broken.png', 'empty.png']);
    expect(ds.skipped.get(path.join(dir, 'broken.png'))).toMatch(/unsupported image format|corrupt|Input/i);
    expect(ds.filtered()).toEqual({ grey: 0, unreadable: 2 });
  });

  it('a folder with a link loop lists each photo once', async () => {
    const loop = path.join(dir, 'loop');
    fs.mkdirSync(path.join(loop, 'sub'), { recursive: true });
    fs.copyFileSync(path.join(dir, 'photos', 'img0.png'), path.join(loop, 'sub', 'a.png'));
    fs.symlinkSync(loop, path.join(loop, 'sub', 'back'));
    const ds = await PhotoDataset.create({ sources: [loop], split: 'all' });
    expect(ds.files).toEqual([path.join(loop, 'sub', 'a.png')]);
  });
});
