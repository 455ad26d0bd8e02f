/**
 * Replacements for MaxPoolGrad (wasm: wrong in tfjs-backend-wasm 4.22) and the resize gradients
 * (wrong on both wasm and cpu in 4.22 for non-square images). Built from each backend's own
 * forward kernels.
 */
import {
  backend_util,
  util,
  type KernelBackend,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { Scratch } from './wasm_call.js';

/**
 * Gradient of max pooling, routed to the first maximum of each window in row-major order (the
 * rule of tfjs' cpu backend and TensorFlow). One pass per window tap:
 * `hit_t = (x_t == y) ∧ ¬taken`, `dx += scatter_t(where(hit_t, dy, 0))`.
 */
export function maxPoolGradWasm(
  backend: KernelBackend,
  dy: TensorInfo,
  input: TensorInfo,
  output: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  return Scratch.use(backend, (s) => {
    const [n, h, w, c] = input.shape as [number, number, number, number];
    const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const kh = info.effectiveFilterHeight;
    const kw = info.effectiveFilterWidth;
    const pT = info.padInfo.top;
    const pL = info.padInfo.left;
    // Padded extent large enough for every tap of every output position.
    const hp = Math.max(h + pT, ho * sh + kh);
    const wp = Math.max(w + pL, wo * sw + kw);
    const xp = s.run('PadV2', { x: input }, { paddings: [[0, 0], [pT, hp - h - pT], [pL, wp - w - pL], [0, 0]], constantValue: -Infinity });
    let taken: TensorInfo | null = null;
    let acc: TensorInfo | null = null;
    const zeros = s.run('ZerosLike', { x: dy });
    for (let i = 0; i < kh; i += dh) {
      for (let j = 0; j < kw; j += dw) {
        // Tap (i, j) of every window: rows i + o·sh, columns j + q·sw (rank ≤ 4 ops only).
        const block = s.slice(xp, [0, i, j, 0], [n, ho * sh, wo * sw, c]);
        const rows = s.slice(s.reshape(block, [n * ho, sh, wo * sw * c]), [0, 0, 0], [n * ho, 1, wo * sw * c]);
        const cols = s.slice(s.reshape(rows, [n * ho * wo, sw, c]), [0, 0, 0], [n * ho * wo, 1, c]);
        const xt = s.reshape(cols, [n, ho, wo, c]); // [N,Ho,Wo,C]
        let hit = s.run('Equal', { a: xt, b: output });
        if (taken !== null) {
          const free = s.run('LogicalNot', { x: taken });
          hit = s.run('LogicalAnd', { a: hit, b: free });
          taken = s.run('LogicalOr', { a: taken, b: hit });
        } else {
          taken = hit;
        }
        const g = s.run('Select', { condition: hit, t: dy, e: zeros }); // [N,Ho,Wo,C]
        const placed = scatterTap(s, g, sh, sw, i - pT, j - pL, h, w);
        acc = acc === null ? placed : s.run('Add', { a: acc, b: placed });
      }
    }
    const out = acc === null ? s.run('ZerosLike', { x: input }) : acc === dy ? s.run('Identity', { x: dy }) : acc;
    return out;
  });
}

/**
 * Places `g[n,o,q,c]` at input position `(o·sh + offH, q·sw + offW)` of an `[N,H,W,C]` zero
 * tensor (positions outside are dropped): zero insertion by the stride, then pad or crop.
 */
function scatterTap(s: Scratch, g: TensorInfo, sh: number, sw: number, offH: number, offW: number, h: number, w: number): TensorInfo {
  const [, ho, wo] = g.shape as [number, number, number, number];
  const z = s.zeroInsert(g, sh, sw);
  return s.padOrCrop(z, offH, h - offH - ho * sh, offW, w - offW - wo * sw);
}

/**
 * Interpolation matrix `M[out, in]` of a 1-D resize, read off the backend's own forward kernel
 * (resize of an identity "image" `[1, in, 1, in]`), so the gradient is exactly the transpose of
 * the forward map whatever `alignCorners` / `halfPixelCenters` say.
 */
function resizeMatrix(s: Scratch, kernel: string, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): TensorInfo {
  const eye = new Float32Array(inSize * inSize);
  for (let i = 0; i < inSize; i++) eye[i * inSize + i] = 1;
  const backend = s.backendRef;
  const shape = [1, inSize, 1, inSize];
  const t = s.track({ dataId: backend.write(eye, shape, 'float32'), shape, dtype: 'float32' });
  const r = s.run(kernel, { images: t }, { alignCorners, halfPixelCenters, size: [outSize, 1] }); // [1,out,1,in]
  return s.reshape(r, [1, outSize, inSize]);
}

/**
 * Resize gradient `dx = Myᵀ · dy · Mx`, two batched matrix products. For nearest-neighbour
 * resizes by an integer factor, a block sum instead (no matrices).
 */
export function resizeGrad(
  backend: KernelBackend,
  backendName: string,
  kernel: 'ResizeBilinear' | 'ResizeNearestNeighbor',
  dy: TensorInfo,
  images: TensorInfo,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): TensorInfo {
  return Scratch.use(backend, (s) => {
    const [n, h, w, c] = images.shape as [number, number, number, number];
    const [, oh, ow] = dy.shape as [number, number, number, number];
    util.assert(dy.dtype === 'float32', () => `${kernel}Grad on ${backendName} (DISCO): dy must be float32`);
    let out: TensorInfo;
    const fh = oh / h;
    const fw = ow / w;
    if (kernel === 'ResizeNearestNeighbor' && !alignCorners && Number.isInteger(fh) && Number.isInteger(fw)) {
      // floor(y / f) and floor((y + 0.5) / f) agree for integer f: each input pixel owns an f×f block.
      const r = s.reshape(dy, [n, h, fh, w, fw, c]);
      const t = s.transpose(r, [0, 1, 3, 5, 2, 4]); // [N,H,W,C,fh,fw]
      const f = s.reshape(t, [n, h, w, c, fh * fw]);
      out = s.run('Sum', { x: f }, { axis: [4], keepDims: false });
    } else {
      const my = resizeMatrix(s, kernel, h, oh, alignCorners, halfPixelCenters); // [1,oh,h]
      const mx = resizeMatrix(s, kernel, w, ow, alignCorners, halfPixelCenters); // [1,ow,w]
      const d = s.reshape(dy, [n, oh, ow * c]);
      const a = s.run('BatchMatMul', { a: my, b: d }, { transposeA: true, transposeB: false }); // [N,h,ow·C]
      const b = s.reshape(a, [n * h, ow, c]);
      const e = s.run('BatchMatMul', { a: mx, b }, { transposeA: true, transposeB: false }); // [N·h,w,C]
      out = s.reshape(e, [n, h, w, c]);
    }
    return out;
  }, backendName);
}
