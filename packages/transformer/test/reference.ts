/**
 * Plain-loop float64 references for the tests: attention, multi-head attention, layer norm and
 * DETR's post-norm encoder layer. Arrays are nested JS numbers; nothing here touches tfjs ops.
 */
export type Mat = number[][]; // [rows][cols]

/** `[r][c]` from a flat row-major array. */
export function toMat(flat: ArrayLike<number>, rows: number, cols: number, offset = 0): Mat {
  const m: Mat = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) row.push(flat[offset + r * cols + c]!);
    m.push(row);
  }
  return m;
}

/** Single-head attention of one (batch, head); `allowed[t][s]` false = masked; `add[t][s]` additive term. */
export function attention64(q: Mat, k: Mat, v: Mat, scale: number, allowed?: boolean[][], add?: Mat): { out: Mat; w: Mat } {
  const T = q.length;
  const S = k.length;
  const dv = v[0]!.length;
  const out: Mat = [];
  const w: Mat = [];
  for (let t = 0; t < T; t++) {
    const sc: number[] = [];
    let mx = -Infinity;
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let c = 0; c < q[t]!.length; c++) dot += q[t]![c]! * k[s]![c]!;
      const ok = allowed ? allowed[t]![s]! : true;
      const val = dot * scale + (add ? add[t]![s]! : 0);
      sc.push(ok ? val : NaN);
      if (ok && val > mx) mx = val;
    }
    let den = 0;
    const e = sc.map((x) => (Number.isNaN(x) ? 0 : Math.exp(x - mx)));
    for (const x of e) den += x;
    const row = e.map((x) => (den > 0 ? x / den : 0));
    w.push(row);
    const o: number[] = new Array(dv).fill(0);
    for (let s = 0; s < S; s++) for (let c = 0; c < dv; c++) o[c] += row[s]! * v[s]![c]!;
    out.push(o);
  }
  return { out, w };
}

/** `x · W + b` with `W` flat `[in, out]`. */
export function linear64(x: Mat, W: ArrayLike<number>, b: ArrayLike<number> | null, outDim: number): Mat {
  return x.map((row) => {
    const o: number[] = [];
    for (let j = 0; j < outDim; j++) {
      let acc = b ? b[j]! : 0;
      for (let i = 0; i < row.length; i++) acc += row[i]! * W[i * outDim + j]!;
      o.push(acc);
    }
    return o;
  });
}

/** Layer norm over each row. */
export function layerNorm64(x: Mat, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): Mat {
  return x.map((row) => {
    const n = row.length;
    const mean = row.reduce((a, b) => a + b, 0) / n;
    const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    return row.map((x, i) => ((x - mean) / Math.sqrt(v + eps)) * gamma[i]! + beta[i]!);
  });
}

/** Weights of a multi-head attention block as flat arrays, keyed like `getWeights()`. */
export type Flat = Record<string, Float32Array | Int32Array | Uint8Array>;

/**
 * Multi-head attention of one batch element. `prefix` selects the block in `weights`
 * (e.g. `selfAttn.`); `allowed[s]` per key (key padding), `add[t][s]` additive per head or shared.
 */
export function mha64(
  weights: Flat,
  prefix: string,
  query: Mat,
  key: Mat,
  value: Mat,
  heads: number,
  allowedKeys?: boolean[],
  addPerHead?: (h: number) => Mat | undefined,
): Mat {
  const d = query[0]!.length;
  const dh = d / heads;
  const W = (n: string) => weights[`${prefix}${n}`]!;
  const q = linear64(query, W('query.kernel'), W('query.bias'), d);
  const k = linear64(key, W('key.kernel'), W('key.bias'), d);
  const v = linear64(value, W('value.kernel'), W('value.bias'), d);
  const merged: Mat = query.map(() => new Array(d).fill(0));
  for (let h = 0; h < heads; h++) {
    const sl = (m: Mat) => m.map((r) => r.slice(h * dh, (h + 1) * dh));
    const allowed = allowedKeys ? query.map(() => allowedKeys) : undefined;
    const { out } = attention64(sl(q), sl(k), sl(v), 1 / Math.sqrt(dh), allowed, addPerHead?.(h));
    out.forEach((r, t) => r.forEach((x, c) => (merged[t]![h * dh + c] = x)));
  }
  return linear64(merged, W('output.kernel'), W('output.bias'), d);
}

/** DETR post-norm encoder layer (eval mode) on one batch element. */
export function encoderLayer64(weights: Flat, prefix: string, x: Mat, pos: Mat | null, heads: number, dff: number, eps: number, allowedKeys?: boolean[]): Mat {
  const d = x[0]!.length;
  const W = (n: string) => weights[`${prefix}${n}`]!;
  const qk = pos ? x.map((r, t) => r.map((v, c) => v + pos[t]![c]!)) : x;
  const a = mha64(weights, `${prefix}selfAttn.`, qk, qk, x, heads, allowedKeys);
  const h = layerNorm64(x.map((r, t) => r.map((v, c) => v + a[t]![c]!)), W('norm1.gamma'), W('norm1.beta'), eps);
  const hidden = linear64(h, W('linear1.kernel'), W('linear1.bias'), dff).map((r) => r.map((v) => Math.max(0, v)));
  const f = linear64(hidden, W('linear2.kernel'), W('linear2.bias'), d);
  return layerNorm64(h.map((r, t) => r.map((v, c) => v + f[t]![c]!)), W('norm2.gamma'), W('norm2.beta'), eps);
}

/** Flattens nested rows. */
export function flat(m: Mat[]): number[] {
  return m.flatMap((x) => x.flat());
}
