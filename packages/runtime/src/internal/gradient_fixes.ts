/**
 * Gradients tfjs 4.22 gets wrong on every backend, replaced by correct ones.
 *
 * - AvgPool with padding: the forward divides by the number of in-bounds pixels of each window,
 *   the stock gradient by the full window size. Fixed by rescaling dy by `kh·kw / count`.
 * - MirrorPad: the stock gradient is a plain slice and drops the reflected contributions.
 *   Fixed by folding each padded border back onto the pixels it copied, one axis at a time.
 * - FusedBatchNorm: same values, but broadcasting instead of a full-size `tile` (speed).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  FusedBatchNorm,
  type FusedBatchNormAttrs,
  AvgPool,
  AvgPoolGrad,
  backend_util,
  MirrorPad,
  type AvgPoolAttrs,
  type GradConfig,
  type MirrorPadAttrs,
  type NamedAttrMap,
} from '@tensorflow/tfjs-core';

/** In-bounds count along one axis for each output position of a pooling window. */
function countsAlong(out: number, size: number, k: number, stride: number, padBefore: number): number[] {
  const counts: number[] = [];
  for (let o = 0; o < out; o++) {
    const start = o * stride - padBefore;
    counts.push(Math.min(size, start + k) - Math.max(0, start));
  }
  return counts;
}

export const avgPoolGradConfig: GradConfig = {
  kernelName: AvgPool,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as AvgPoolAttrs;
    return {
      x: () => {
        const info = backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode);
        const { filterHeight: kh, filterWidth: kw, outHeight: ho, outWidth: wo } = info;
        const ch = countsAlong(ho, info.inHeight, kh, info.strideHeight, info.padInfo.top);
        const cw = countsAlong(wo, info.inWidth, kw, info.strideWidth, info.padInfo.left);
        let g = dy as tf.Tensor4D;
        if (ch.some((c) => c !== kh) || cw.some((c) => c !== kw)) {
          const scale = new Float32Array(ho * wo);
          for (let o = 0; o < ho; o++) for (let q = 0; q < wo; q++) scale[o * wo + q] = (kh * kw) / (ch[o]! * cw[q]!);
          g = tf.mul(g, tf.tensor4d(scale, [1, ho, wo, 1]));
        }
        return tf.engine().runKernel(AvgPoolGrad, { dy: g, input: x }, { filterSize, strides, pad, dimRoundingMode } as unknown as NamedAttrMap) as tf.Tensor4D;
      },
    };
  },
};

export const mirrorPadGradConfig: GradConfig = {
  kernelName: MirrorPad,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [tf.Tensor];
    const { paddings, mode } = attrs as unknown as MirrorPadAttrs;
    // reflect copies x[1..p], symmetric copies x[0..p-1] (each border reversed).
    const offset = mode === 'reflect' ? 1 : 0;
    return {
      x: () => {
        let g = dy as tf.Tensor;
        paddings.forEach(([before, after], axis) => {
          if (before === 0 && after === 0) return;
          const n = x.shape[axis]!;
          const size = (len: number) => g.shape.map((s, i) => (i === axis ? len : s));
          const begin = (at: number) => g.shape.map((_, i) => (i === axis ? at : 0));
          const padAxis = (lo: number, hi: number) => g.shape.map((_, i): [number, number] => (i === axis ? [lo, hi] : [0, 0]));
          let centre = tf.slice(g, begin(before), size(n));
          if (before > 0) {
            const left = tf.reverse(tf.slice(g, begin(0), size(before)), axis); // copies of x[offset..offset+before)
            centre = tf.add(centre, tf.pad(left, padAxis(offset, n - offset - before)));
          }
          if (after > 0) {
            const right = tf.reverse(tf.slice(g, begin(before + n), size(after)), axis); // copies of x[n−offset−after..n−offset)
            centre = tf.add(centre, tf.pad(right, padAxis(n - offset - after, offset)));
          }
          g = centre;
        });
        return g;
      },
    };
  },
};

/**
 * FusedBatchNorm gradient with broadcasting instead of tfjs' `tile` of `1/√(σ²+ε)` to the full
 * input size (the same values; one full-size tensor less per batch-norm layer and step).
 */
export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const g = dy as tf.Tensor;
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    const reductionAxes = backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => tf.reshape(mean.rank === 1 ? tf.sum(t, reductionAxes) : t, mean.shape);
    const xMinusMean = tf.sub(x, mean);
    const dyScaled = tf.mul(g, scaleValue);
    const rstd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const minusHalfRCube = tf.mul(tf.mul(tf.mul(rstd, rstd), rstd), tf.scalar(-0.5));
    return {
      x: () => tf.reshape(tf.mul(tf.mul(g, rstd), scaleValue), x.shape),
      mean: () => reduce(tf.mul(tf.mul(rstd, tf.scalar(-1)), dyScaled)),
      variance: () => reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyScaled)),
      scale: () => reduce(tf.mul(g, tf.mul(xMinusMean, rstd))),
      offset: () => reduce(g),
    };
  },
};
