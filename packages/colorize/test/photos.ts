import * as tf from '@tensorflow/tfjs-core';
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

/** A smooth grey image with edges: `[1,H,W,1]` in the model's L range. */
export function greyImage(h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => {
    const y = tf.reshape(tf.linspace(-1, 1, h), [h, 1]);
    const x = tf.reshape(tf.linspace(-1, 1, w), [1, w]);
    const v = tf.add(tf.mul(tf.sin(tf.mul(x, 4)), 0.5), tf.mul(tf.cast(tf.greater(y, 0.2), 'float32'), 0.4));
    return tf.reshape(v, [1, h, w, 1]) as tf.Tensor4D;
  });
}
