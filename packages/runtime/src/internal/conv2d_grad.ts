/**
 * A Conv2D gradient that also handles dilation > 1 (tfjs 4.22 throws there).
 *
 * With dilation 1 it is the stock gradient (Conv2DBackpropInput / Conv2DBackpropFilter kernels).
 * With dilation d > 1 (stride 1, as tfjs requires) both gradients are forward convolutions, so
 * they run on every backend at forward speed:
 *   dW = conv(xᵀ `[Ci,H,W,N]`, dyᵀ `[Ho,Wo,N,Co]`, stride d) → `[Ci,kh,kw,Co]` → `[kh,kw,Ci,Co]`;
 *   dx = conv(dy, flip(W)ᵀ `[kh,kw,Co,Ci]`, dilation d, padding d(k−1)−p).
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, type Conv2DAttrs, type GradConfig, type NamedAttrMap } from '@tensorflow/tfjs-core';

function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const ct = Math.max(0, -top);
  const cb = Math.max(0, -bottom);
  const cl = Math.max(0, -left);
  const cr = Math.max(0, -right);
  let y = x;
  if (ct + cb + cl + cr > 0) y = tf.slice(x, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = tf.pad(y, [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ]);
  }
  return y;
}

export const conv2dGradConfig: GradConfig = {
  kernelName: Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = dy as tf.Tensor4D;
    const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
    const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
    if (dh === 1 && dw === 1) {
      // The stock tfjs gradient: one kernel call each (DISCO's fast ones on wasm).
      const common = { strides, pad, dataFormat, dimRoundingMode } as unknown as NamedAttrMap;
      return {
        x: () => tf.engine().runKernel(Conv2DBackpropInput, { dy: g, filter }, { ...common, inputShape: x.shape }) as tf.Tensor4D,
        filter: () => tf.engine().runKernel(Conv2DBackpropFilter, { x, dy: g }, { ...common, filterShape: filter.shape }) as tf.Tensor4D,
      };
    }
    tf.util.assert(dataFormat === 'NHWC', () => `Conv2D gradient: only NHWC is supported, got ${dataFormat}`);
    const info = backend_util.computeConv2DInfo(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
    tf.util.assert(
      info.strideHeight === 1 && info.strideWidth === 1,
      () => 'Conv2D gradient: dilation > 1 requires stride 1 (as the forward op does)',
    );
    const { filterHeight: kh, filterWidth: kw, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = info;
    const pT = info.padInfo.top;
    const pL = info.padInfo.left;
    return {
      x: () => {
        const wf = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [kh,kw,Co,Ci]
        const top = dh * (kh - 1) - pT;
        const left = dw * (kw - 1) - pL;
        const bottom = H - Ho + pT;
        const right = W - Wo + pL;
        return tf.conv2d(padOrCrop(g, top, bottom, left, right), wf, 1, 'valid', 'NHWC', [dh, dw]);
      },
      filter: () => {
        const xt = tf.transpose(x, [3, 1, 2, 0]); // [Ci,H,W,N]
        const gt = tf.transpose(g, [1, 2, 0, 3]); // [Ho,Wo,N,Co]
        const bottom = dh * (kh - 1) + Ho - H - pT;
        const right = dw * (kw - 1) + Wo - W - pL;
        const conv = tf.conv2d(padOrCrop(xt, pT, bottom, pL, right), gt, [dh, dw], 'valid'); // [Ci,kh,kw,Co]
        return tf.transpose(conv, [1, 2, 0, 3]);
      },
    };
  },
};
