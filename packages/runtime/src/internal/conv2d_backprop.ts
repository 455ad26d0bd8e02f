/**
 * Fast convolution gradients for the wasm backend, built from wasm's XNNPACK `Conv2D`.
 *
 * Notation (NHWC): x `[N,H,W,Ci]`, filter W `[kh,kw,Ci,Co]`, dy `[N,Ho,Wo,Co]`, stride s,
 * dilation d, top/left padding pT/pL. The forward convolution is
 * `y[n,o,q,co] = Σ_{i,j,ci} x[n, o·s + i·d − pT, q·s + j·d − pL, ci] · W[i,j,ci,co]`.
 */
import { backend_util, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';
import { Scratch } from './wasm_call.js';

export interface ConvGeometry {
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
}

export function geometryFromInfo(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilationH: info.dilationHeight,
    dilationW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    inH: info.inHeight,
    inW: info.inWidth,
    outH: info.outHeight,
    outW: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
  };
}

/**
 * Weight gradient `dW[i,j,ci,co] = Σ_{n,o,q} x[n, o·s+i·d−pT, q·s+j·d−pL, ci] · dy[n,o,q,co]`
 * as one forward convolution: input `x` transposed to `[Ci,H,W,N]` (channels become the batch),
 * filter `dy` transposed to `[Ho,Wo,N,Co]`, convolution stride = d and dilation = s, so the
 * output `[Ci,kh,kw,Co]` transposes back to `[kh,kw,Ci,Co]`.
 */
export function conv2dFilterGradWasm(
  backend: KernelBackend,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  return Scratch.use(backend, (s) => {
    const xt = s.transpose(x, [3, 1, 2, 0]); // [Ci,H,W,N]
    const dyt = s.transpose(dy, [1, 2, 0, 3]); // [Ho,Wo,N,Co]
    // Output extent along H must be exactly kh: H + pT + pB − s(Ho−1) − 1 = d(kh−1).
    const padBottom = g.dilationH * (g.kh - 1) + g.strideH * (g.outH - 1) + 1 - g.inH - g.padTop;
    const padRight = g.dilationW * (g.kw - 1) + g.strideW * (g.outW - 1) + 1 - g.inW - g.padLeft;
    // Negative padding (rows never read by the forward pass) becomes a crop.
    const xin = s.padOrCrop(xt, 0, Math.min(0, padBottom), 0, Math.min(0, padRight));
    const pB = Math.max(0, padBottom);
    const pR = Math.max(0, padRight);
    const conv = s.run(
      'Conv2D',
      { x: xin, filter: dyt },
      {
        strides: [g.dilationH, g.dilationW],
        dilations: [g.strideH, g.strideW],
        pad: [
          [0, 0],
          [g.padTop, pB],
          [g.padLeft, pR],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dimRoundingMode: undefined as unknown as string,
      },
    ); // [Ci,kh,kw,Co]
    const out = s.transpose(conv, [1, 2, 0, 3]); // [kh,kw,Ci,Co]
    return out;
  });
}

/**
 * Input gradient `dx` as a stride-1 forward convolution of the zero-inserted `dy` with the
 * spatially flipped, in/out-swapped filter `[kh,kw,Co,Ci]`, dilation d.
 * Zero insertion for stride s: `[N,Ho,Wo,C] → [N,Ho·s,Wo·s,C]`, one axis at a time (rank 4).
 */
export function conv2dInputGradWasm(
  backend: KernelBackend,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  return Scratch.use(backend, (s) => {
    const [, ho, wo] = dy.shape as [number, number, number, number];
    const dyz = s.zeroInsert(dy, g.strideH, g.strideW); // [N,Ho·sH,Wo·sW,Co]
    const rows = ho * g.strideH;
    const cols = wo * g.strideW;
    // Flipped filter: Wf[i',j',co,ci] = W[kh−1−i', kw−1−j', ci, co].
    const rev = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const wf = s.transpose(rev, [0, 1, 3, 2]);
    const top = g.dilationH * (g.kh - 1) - g.padTop;
    const left = g.dilationW * (g.kw - 1) - g.padLeft;
    // Output extent must be H: rows + top + bottom − d(kh−1) = H.
    const bottom = g.inH - rows + g.padTop;
    const right = g.inW - cols + g.padLeft;
    const cropped = s.padOrCrop(dyz, Math.min(0, top), Math.min(0, bottom), Math.min(0, left), Math.min(0, right));
    const out = s.run(
      'Conv2D',
      { x: cropped, filter: wf },
      {
        strides: [1, 1],
        dilations: [g.dilationH, g.dilationW],
        pad: [
          [0, 0],
          [Math.max(0, top), Math.max(0, bottom)],
          [Math.max(0, left), Math.max(0, right)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dimRoundingMode: undefined as unknown as string,
      },
    );
    return out;
  });
}
