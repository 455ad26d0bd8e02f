// eval-fid on bad inputs: undecodable images are named and skipped, set sizes are checked before
// any work, small samples are flagged, listing ignores BMP (sharp cannot read it) and link loops.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { checkSetSizes, extractImageSetFeatures, listImages, readRgbImage, scoreFeatureSets, smallSampleWarnings, type FeatureNetwork } from '../src/node.js';
import { writeSyntheticPhotos } from './images.js';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir = '';
let photos = '';

/** A stand-in feature network: the mean RGB of a 4×4 thumbnail (48-d) — no weights to load. */
const stub: FeatureNetwork = {
  name: 'stub',
  caveat: 'test only',
  inputSize: 4,
  layers: [{ key: 'pool', layer: 'mean', dims: 48 }],
  classes: 0,
  isUnavailableReason: 'stub',
  infer: (x) => ({ features: [tf.reshape(x, [x.shape[0], 48]) as tf.Tensor2D], probs: null }),
  dispose: () => {},
};

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-fid-in-'));
  photos = (await writeSyntheticPhotos(dir, 5)).photos;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('eval-fid inputs', () => {
  it('a corrupt or empty image is skipped with a warning naming it; the others are scored', async () => {
    const set = path.join(dir, 'mixed');
    fs.cpSync(photos, set, { recursive: true });
    fs.writeFileSync(path.join(set, 'broken.png'), 'not a png');
    fs.writeFileSync(path.join(set, 'empty.jpg'), '');
    const warnings: string[] = [];
    const files = listImages(set);
    expect(files).toHaveLength(7);
    const r = await extractImageSetFeatures(files, stub, { batchSize: 3, write: () => {}, warn: (l) => warnings.push(l) });
    expect(r.files).toHaveLength(5);
    expect(r.features[0]!.rows).toBe(5);
    expect(r.features[0]!.data.length).toBe(5 * 48);
    expect(r.skipped.map((s) => path.basename(s.file)).sort()).toEqual(['broken.png', 'empty.jpg']);
    expect(warnings).toHaveLength(2);
    expect(warnings.find((w) => w.includes('broken.png'))).toMatch(/^features: warning: skipping '.*broken\.png': /);
    expect(warnings.find((w) => w.includes('empty.jpg'))).toMatch(/'.*empty\.jpg': empty file$/);
    // The kept rows are exactly those of the good images alone.
    const clean = await extractImageSetFeatures(listImages(photos), stub, { write: () => {} });
    expect(Array.from(r.features[0]!.data)).toEqual(Array.from(clean.features[0]!.data));
  });

  it('readRgbImage names the file in every error', async () => {
    await expect(readRgbImage(path.join(dir, 'none.png'))).rejects.toThrow(/^readRgbImage: '.*none\.png': no such file$/);
    await expect(readRgbImage(dir)).rejects.toThrow(/^readRgbImage: '.*': not a regular file$/);
  });

  it('lists no .bmp (undecodable by sharp) and each file once through a link loop', () => {
    const set = path.join(dir, 'listing');
    fs.mkdirSync(path.join(set, 'a'), { recursive: true });
    fs.copyFileSync(path.join(photos, 'img00.png'), path.join(set, 'a', 'x.png'));
    fs.writeFileSync(path.join(set, 'a', 'y.bmp'), 'BM');
    fs.symlinkSync(set, path.join(set, 'a', 'loop'));
    expect(listImages(set)).toEqual([path.join(set, 'a', 'x.png')]);
  });

  it('set sizes are checked first; small samples are flagged (FID below the feature count, KID subsets covering the set)', () => {
    expect(() => checkSetSizes({ real: 5, fake: 1 }, { real: '--real', fake: '--fake' })).toThrow('--fake: 1 image; FID and KID need at least 2 per set');
    expect(() => checkSetSizes({ real: 0, fake: 3 })).toThrow('real: 0 images; FID and KID need at least 2 per set');
    const feats = (n: number, shift: number) => ({ rows: n, cols: 48, data: Float32Array.from({ length: n * 48 }, (_, i) => Math.sin(i + shift)) });
    const set = (n: number, shift: number) => ({ files: [], features: [feats(n, shift)], probs: null, colorfulness: Array(n).fill(1), seconds: 0, skipped: [] });
    const s = scoreFeatureSets(set(5, 0), set(5, 1), stub, { kid: { subsets: 100, subsetSize: 1000 } });
    const w = smallSampleWarnings(s, { real: 5, fake: 5 });
    expect(w[0]).toMatch(/^small sample: FID from 5 real \/ 5 fake images, fewer than the 48 feature dimensions/);
    expect(w[1]).toMatch(/^small sample: KID\[stub-48\] subsets of 5 from 5 images hold every image/);
    const big = scoreFeatureSets(set(60, 0), set(60, 1), stub, { kid: { subsets: 10, subsetSize: 20 } });
    expect(smallSampleWarnings(big, { real: 60, fake: 60 })).toEqual([]);
  });

  it('the command stops on a one-image set before loading the network', async () => {
    const one = path.join(dir, 'one');
    fs.mkdirSync(one);
    fs.copyFileSync(path.join(photos, 'img00.png'), path.join(one, 'a.png'));
    const env: NodeJS.ProcessEnv = { ...process.env, DISCO_BACKEND: 'cpu' };
    delete env['INIT_CWD'];
    const err = await promisify(execFile)('node', ['--conditions=@disco/source', '--import', 'tsx', 'src/cli/eval-fid.ts', '--real', photos, '--fake', one, '--out', path.join(dir, 'x.json')], { cwd: pkg, env }).then(
      () => null,
      (e: { stderr: string; code: number }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/eval-fid: --fake: 1 image; FID and KID need at least 2 per set/);
    expect(err?.stderr).not.toMatch(/^network /m);
  });
});
