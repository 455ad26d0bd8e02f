import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, describeBackends, expectClose, expectNoLeaks, randomTensor } from '@disco/runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { boundaries, diffuse, hardAssociation, labelMap, pool, superpixelSizes } from '../src/index.js';
import { GOLDEN_PATH, GOLDEN_SHA256, loadGolden } from './golden.js';

const TOL = { rtol: 0, atol: 1e-4 };

/** A random association (softmax of random logits) `[B, H, W, 9]`. */
function randomAssociation(shape: [number, number, number], seed: number, spread = 3): tf.Tensor4D {
  return tf.tidy(() => tf.softmax(tf.mul(randomTensor([...shape, 9], seed), spread)) as tf.Tensor4D);
}

/** All weight on the pixel's own cell. */
function centreAssociation(B: number, H: number, W: number): tf.Tensor4D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.fill([B, H, W], 4, 'int32') as tf.Tensor3D, 9), 'float32') as tf.Tensor4D);
}

/** Zeroes the weights towards neighbours outside the grid and renormalises each pixel to sum 1. */
function insideGrid(a: tf.Tensor4D, S: number): tf.Tensor4D {
  const [B, H, W] = a.shape;
  const valid = new Float32Array(H * W * 9);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let k = 0; k < 9; k++) {
        const i = Math.floor(y / S) + Math.floor(k / 3) - 1;
        const j = Math.floor(x / S) + (k % 3) - 1;
        valid[(y * W + x) * 9 + k] = i >= 0 && i < H / S && j >= 0 && j < W / S ? 1 : 0;
      }
    }
  }
  return tf.tidy(() => {
    const m = tf.mul(a, tf.tile(tf.tensor4d(valid, [1, H, W, 9]), [B, 1, 1, 1]));
    return tf.div(m, tf.sum(m, 3, true)) as tf.Tensor4D;
  });
}

function weightedLoss(wp: tf.Tensor, wd: tf.Tensor, S: number) {
  return (x: tf.Tensor, a: tf.Tensor, z: tf.Tensor): tf.Scalar =>
    tf.add(tf.sum(tf.mul(pool(x as tf.Tensor4D, a as tf.Tensor4D, S).pooled, wp)), tf.sum(tf.mul(diffuse(z as tf.Tensor4D, a as tf.Tensor4D, S), wd))) as tf.Scalar;
}

describe('golden file', () => {
  it('test/fixtures/superpixel-vectors.json is the reference copy, byte for byte (sha256)', () => {
    expect(createHash('sha256').update(fs.readFileSync(GOLDEN_PATH)).digest('hex')).toBe(GOLDEN_SHA256);
  });
});

describeBackends(describe, beforeAll, 'superpixel ops', () => {
  describe('golden vectors (test/fixtures/superpixel-vectors.json), tolerance 1e-4', () => {
    for (const c of loadGolden()) {
      const h = c.H / c.S;
      const w = c.W / c.S;
      it(`${c.name}: pool, mass, diffuse, sizes at [${c.B},${c.H},${c.W},${c.C}], S=${c.S}`, () => {
        tf.tidy(() => {
          const x = tf.tensor4d(c.feat, [c.B, c.H, c.W, c.C]);
          const a = tf.tensor4d(c.assoc, [c.B, c.H, c.W, 9]);
          const z = tf.tensor4d(c.sfeat, [c.B, h, w, c.C]);
          const { pooled, mass } = pool(x, a, c.S);
          expect(pooled.shape).toEqual([c.B, h, w, c.C]);
          expect(mass.shape).toEqual([c.B, h, w, 1]);
          expect(pooled.dtype).toBe('float32');
          expectClose(pooled, tf.tensor4d(c.pooled, pooled.shape), { ...TOL, what: 'pooled' });
          expectClose(mass, tf.tensor4d(c.mass, mass.shape), { ...TOL, what: 'mass' });
          const d = diffuse(z, a, c.S);
          expect(d.shape).toEqual([c.B, c.H, c.W, c.C]);
          expectClose(d, tf.tensor4d(c.diffused, d.shape), { ...TOL, what: 'diffused' });
          const sizes = superpixelSizes(a, c.S);
          expect(sizes.shape).toEqual([c.B, h, w, 1]);
          expectClose(sizes, tf.tensor4d(c.sizes, sizes.shape), { ...TOL, what: 'sizes' });
        });
      });
      if (c.gradFeat) {
        it(`${c.name}: gradients w.r.t. features, association and superpixel features`, () => {
          tf.tidy(() => {
            const x = tf.tensor4d(c.feat, [c.B, c.H, c.W, c.C]);
            const a = tf.tensor4d(c.assoc, [c.B, c.H, c.W, 9]);
            const z = tf.tensor4d(c.sfeat, [c.B, h, w, c.C]);
            const wp = tf.tensor4d(c.lossWeightsPooled!, [c.B, h, w, c.C]);
            const wd = tf.tensor4d(c.lossWeightsDiffused!, [c.B, c.H, c.W, c.C]);
            const [gx, ga, gz] = tf.grads(weightedLoss(wp, wd, c.S))([x, a, z]);
            expectClose(gx!, tf.tensor(c.gradFeat!, x.shape), { ...TOL, what: 'gradFeat' });
            expectClose(ga!, tf.tensor(c.gradAssoc!, a.shape), { ...TOL, what: 'gradAssoc' });
            expectClose(gz!, tf.tensor(c.gradSfeat!, z.shape), { ...TOL, what: 'gradSfeat' });
          });
        });
      }
    }
  });

  it('hand-derived: S=1, 1×2 image, pixel 0 all on its right neighbour, pixel 1 half/half', () => {
    tf.tidy(() => {
      // Pixel 0 (cell 0): weight 1 to cell 1 (k=5). Pixel 1 (cell 1): 0.5 to itself (k=4), 0.5 to cell 0 (k=3).
      const a = tf.tensor4d([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0], [1, 1, 2, 9]);
      const x = tf.tensor4d([2, 6], [1, 1, 2, 1]);
      const { pooled, mass } = pool(x, a, 1);
      // cell 0 gets 0.5·6 / 0.5 = 6; cell 1 gets (1·2 + 0.5·6) / 1.5 = 10/3.
      expectClose(pooled, [6, 10 / 3], { what: 'pooled' });
      expectClose(mass, [0.5, 1.5], { what: 'mass' });
      // diffuse z = [1, 10]: pixel 0 → 1·z1 = 10; pixel 1 → 0.5·z0 + 0.5·z1 = 5.5.
      expectClose(diffuse(tf.tensor4d([1, 10], [1, 1, 2, 1]), a, 1), [10, 5.5], { what: 'diffused' });
      // d/dA[p0,k=5] of sum(pooled): pooled1 = N/D with N = 2a + 3, D = a + 0.5 at a = 1 → (2·1.5 − 5)/1.5² = −8/9.
      const ga = tf.grad((aa: tf.Tensor) => tf.sum(pool(x, aa as tf.Tensor4D, 1).pooled) as tf.Scalar)(a);
      expectClose(tf.slice(ga, [0, 0, 0, 5], [1, 1, 1, 1]), [-8 / 9], { atol: 1e-5, what: 'dpooled/dA' });
    });
  });

  it('neighbours outside the grid receive nothing: mass of a corner-pushing association at [1,4,4,1], S=2', () => {
    tf.tidy(() => {
      // Every pixel sends everything to its top-left neighbour (k=0).
      const a = tf.cast(tf.oneHot(tf.fill([1, 4, 4], 0, 'int32') as tf.Tensor3D, 9), 'float32') as tf.Tensor4D;
      const { mass, pooled } = pool(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, a, 2);
      // Only cell (1,1) has an in-grid top-left neighbour, (0,0), which receives its 4 pixels.
      expectClose(mass, [1, 0, 0, 0], { what: 'mass' });
      expectClose(pooled, [1, 0, 0, 0], { what: 'pooled (0 where nothing arrives)' });
    });
  });

  it('central differences agree with autodiff for pool and diffuse at [1,4,6,2], S=2', () => {
    const x = randomTensor([1, 4, 6, 2], 11) as tf.Tensor4D;
    const a = randomAssociation([1, 4, 6], 12);
    const z = randomTensor([1, 2, 3, 2], 13) as tf.Tensor4D;
    const wp = randomTensor([1, 2, 3, 2], 14);
    const wd = randomTensor([1, 4, 6, 2], 15);
    const worst = checkGradients(weightedLoss(wp, wd, 2), [x, a, z], { eps: 1e-2, rtol: 1e-2, atol: 2e-3 });
    expect(worst.every((v) => v < 2e-3)).toBe(true);
    tf.dispose([x, a, z, wp, wd]);
  });

  it('one-hot centre association makes pool equal S×S average pooling at [2,8,12,3], S=4', () => {
    tf.tidy(() => {
      const x = randomTensor([2, 8, 12, 3], 21) as tf.Tensor4D;
      const { pooled, mass } = pool(x, centreAssociation(2, 8, 12), 4);
      expectClose(pooled, tf.avgPool(x, 4, 4, 'valid'), { rtol: 1e-5, atol: 1e-6, what: 'pool vs avgPool' });
      expectClose(mass, tf.ones([2, 2, 3, 1]), { what: 'mass' });
      // ... and diffuse equal to nearest-neighbour upsampling.
      const z = randomTensor([2, 2, 3, 3], 22) as tf.Tensor4D;
      expectClose(diffuse(z, centreAssociation(2, 8, 12), 4), tf.image.resizeNearestNeighbor(z, [8, 12]), { what: 'diffuse vs upsampling' });
    });
  });

  it('diffuse(pool(constant)) is that constant at [1,12,8,2], S=4 (association kept inside the grid)', () => {
    tf.tidy(() => {
      const a = insideGrid(randomAssociation([1, 12, 8], 31), 4);
      const c = tf.mul(tf.ones([1, 12, 8, 2]), tf.tensor1d([0.7, -2.5])) as tf.Tensor4D;
      expectClose(diffuse(pool(c, a, 4).pooled, a, 4), c, { rtol: 1e-5, atol: 1e-6, what: 'diffuse(pool(c))' });
      // Without the renormalisation, border pixels lose the weight sent outside: interior cells stay exact.
      const c3 = tf.mul(tf.ones([1, 12, 12, 2]), tf.tensor1d([0.7, -2.5])) as tf.Tensor4D;
      const raw = randomAssociation([1, 12, 12], 32);
      const back = diffuse(pool(c3, raw, 4).pooled, raw, 4);
      expectClose(tf.slice(back, [0, 4, 4, 0], [1, 4, 4, 2]), tf.slice(c3, [0, 4, 4, 0], [1, 4, 4, 2]), { rtol: 1e-5, atol: 1e-6, what: 'interior cell' });
      expect(Math.abs(back.dataSync()[0]! - 0.7)).toBeGreaterThan(1e-3);
    });
  });

  it('a batch of two equals two batches of one (pool, diffuse, gradients) at [2,6,4,3], S=2', () => {
    tf.tidy(() => {
      const x = randomTensor([2, 6, 4, 3], 41) as tf.Tensor4D;
      const a = randomAssociation([2, 6, 4], 42);
      const z = randomTensor([2, 3, 2, 3], 43) as tf.Tensor4D;
      const both = pool(x, a, 2).pooled;
      const bothD = diffuse(z, a, 2);
      const f = (xx: tf.Tensor, aa: tf.Tensor) => tf.sum(tf.square(pool(xx as tf.Tensor4D, aa as tf.Tensor4D, 2).pooled)) as tf.Scalar;
      const [gx, ga] = tf.grads(f)([x, a]);
      for (let b = 0; b < 2; b++) {
        const xb = tf.slice(x, [b, 0, 0, 0], [1, 6, 4, 3]) as tf.Tensor4D;
        const ab = tf.slice(a, [b, 0, 0, 0], [1, 6, 4, 9]) as tf.Tensor4D;
        const zb = tf.slice(z, [b, 0, 0, 0], [1, 3, 2, 3]) as tf.Tensor4D;
        expectClose(tf.slice(both, [b, 0, 0, 0], [1, 3, 2, 3]), pool(xb, ab, 2).pooled, { what: `pooled[${b}]` });
        expectClose(tf.slice(bothD, [b, 0, 0, 0], [1, 6, 4, 3]), diffuse(zb, ab, 2), { what: `diffused[${b}]` });
        const [gxb, gab] = tf.grads(f)([xb, ab]);
        expectClose(tf.slice(gx!, [b, 0, 0, 0], [1, 6, 4, 3]), gxb!, { what: `gradFeat[${b}]` });
        expectClose(tf.slice(ga!, [b, 0, 0, 0], [1, 6, 4, 9]), gab!, { what: `gradAssoc[${b}]` });
      }
    });
  });

  it('hardAssociation is the one-hot of the maximum, every tied maximum gets 1', () => {
    tf.tidy(() => {
      const a = tf.tensor4d([0.1, 0.5, 0.4, 0, 0, 0, 0, 0, 0, 0.3, 0, 0, 0, 0.3, 0, 0, 0, 0.3], [1, 1, 2, 9]);
      const hard = hardAssociation(a);
      expect(hard.dtype).toBe('float32');
      expect(Array.from(hard.dataSync())).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    });
  });

  it('labelMap of the centre association is the grid; winners pointing outside the grid are ignored', () => {
    tf.tidy(() => {
      const grid = labelMap(centreAssociation(1, 4, 6), 2);
      expect(grid.dtype).toBe('int32');
      expect(Array.from(grid.dataSync())).toEqual([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5]);
      // Pixel (0,0) of a [1,2,2] image with S=1: top-left (k=0) is largest but outside; next is right (k=5).
      const a = tf.tensor4d(
        [
          [0.5, 0, 0, 0, 0.1, 0.4, 0, 0, 0],
          [0, 0, 0, 0, 0, 0, 0, 1, 0],
          [0, 0, 1, 0, 0, 0, 0, 0, 0],
          [0.9, 0, 0, 0, 0.1, 0, 0, 0, 0],
        ].flat(),
        [1, 2, 2, 9],
      );
      expect(Array.from(labelMap(a, 1).dataSync())).toEqual([1, 3, 1, 0]);
    });
  });

  it('boundaries mark pixels whose right or lower neighbour has another label', () => {
    tf.tidy(() => {
      const labels = tf.tensor3d([0, 0, 1, 0, 0, 1, 2, 2, 2], [1, 3, 3], 'int32');
      const mask = boundaries(labels);
      expect(mask.shape).toEqual([1, 3, 3, 1]);
      expect(Array.from(mask.dataSync())).toEqual([0, 1, 0, 1, 1, 1, 0, 0, 0]);
    });
  });

  it('does not leak tensors (pool, diffuse, sizes, labelMap, boundaries, gradients)', async () => {
    const x = randomTensor([1, 4, 4, 2], 51) as tf.Tensor4D;
    const a = randomAssociation([1, 4, 4], 52);
    await expectNoLeaks(() => pool(x, a, 2), 'pool');
    await expectNoLeaks(() => tf.tidy(() => diffuse(pool(x, a, 2).pooled, a, 2)), 'pool+diffuse');
    await expectNoLeaks(() => superpixelSizes(a, 2), 'superpixelSizes');
    await expectNoLeaks(() => tf.tidy(() => boundaries(labelMap(a, 2))), 'labelMap+boundaries');
    await expectNoLeaks(() => tf.grads((xx: tf.Tensor, aa: tf.Tensor) => tf.sum(diffuse(pool(xx as tf.Tensor4D, aa as tf.Tensor4D, 2).pooled, aa as tf.Tensor4D, 2)) as tf.Scalar)([x, a]), 'gradients');
    tf.dispose([x, a]);
  });

  it('rejects bad inputs with one line naming the op and the argument', () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    const a = tf.zeros([1, 4, 4, 9]) as tf.Tensor4D;
    expect(() => pool(x, a, 3)).toThrow(/^pool: association height and width must be multiples of cellSize 3/);
    expect(() => pool(x, a, 0)).toThrow(/^pool: cellSize must be an integer >= 1; got 0/);
    expect(() => pool(x, tf.zeros([1, 4, 4, 8]) as tf.Tensor4D, 2)).toThrow(/^pool: association must have 9 channels/);
    expect(() => pool(tf.zeros([1, 4, 2, 2]) as tf.Tensor4D, a, 2)).toThrow(/^pool: association \[1,4,4,9\] must match features \[1,4,2,2\]/);
    expect(() => pool(tf.zeros([4, 4, 2]) as unknown as tf.Tensor4D, a, 2)).toThrow(/^pool: features must have rank 4/);
    expect(() => diffuse(tf.zeros([1, 3, 2, 2]) as tf.Tensor4D, a, 2)).toThrow(/^diffuse: association \[1,4,4,9\] must be \[1, 6, 4, 9\]/);
    expect(() => diffuse(tf.zeros([1, 2, 2, 2], 'int32') as tf.Tensor4D, a, 2)).toThrow(/^diffuse: superpixelFeatures must be float32/);
    expect(() => hardAssociation(x)).toThrow(/^hardAssociation: association must have 9 channels/);
    expect(() => superpixelSizes(a, 1.5)).toThrow(/^superpixelSizes: cellSize must be an integer/);
    expect(() => labelMap(a, 8)).toThrow(/^labelMap: association height and width must be multiples of cellSize 8/);
    expect(() => boundaries(tf.zeros([1, 2, 2]) as tf.Tensor3D)).toThrow(/^boundaries: labels must be int32/);
    tf.dispose([x, a]);
  });
});
