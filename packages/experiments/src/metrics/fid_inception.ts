/**
 * The FID Inception network (browser-safe): the InceptionV3 of `pytorch-fid` (the
 * `pt_inception-2015-12-05` weights, equivalent to the TensorFlow graph of Heusel et al. 2017),
 * i.e. torchvision's InceptionV3 layout with 1008 classes, BatchNorm ε = 0.001 and four
 * FID-specific blocks: average pools that do not count the padding in Mixed_5b–5d (A),
 * Mixed_6b–6e (C) and Mixed_7b (first E), and a max pool in the pooling branch of Mixed_7c.
 *
 * Built from a PyTorch state dict (reference key names, OIHW kernels, fc `[out, in]`); tensors run
 * NHWC in tfjs. Every padded convolution of the network has stride 1 and symmetric padding, every
 * stride-2 layer has none ("valid"): both are passed to tfjs as explicit paddings, never `same`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** One BasicConv2d unit (convolution without bias → BatchNorm → ReLU) of the network. */
export interface BasicConvSpec {
  /** Module path, e.g. `Mixed_6b.branch7x7dbl_3`; keys are `<name>.conv.weight`, `<name>.bn.*`. */
  readonly name: string;
  /** Input channels. */
  readonly cin: number;
  /** Output channels. */
  readonly cout: number;
  /** Kernel height. */
  readonly kh: number;
  /** Kernel width. */
  readonly kw: number;
  /** Stride (both axes). */
  readonly stride: number;
  /** Zero padding above and below. */
  readonly ph: number;
  /** Zero padding left and right. */
  readonly pw: number;
}

/** How a block's pooling branch pools. */
export type PoolKind = 'avg-exclude-pad' | 'avg-include-pad' | 'max';

/** The Mixed blocks in order, with their type and (for A, C, E) the pooling of their pooling branch. */
export interface MixedBlockSpec {
  /** Module name, e.g. `Mixed_5b`. */
  readonly name: string;
  /** Block type: torchvision's InceptionA … E (A, C, E in their FID variants). */
  readonly type: 'A' | 'B' | 'C' | 'D' | 'E';
  /** Input channels. */
  readonly cin: number;
  /** `pool_features` (A) or `channels_7x7` (C); 0 otherwise. */
  readonly param: number;
  /** Pooling of the pooling branch (A, C, E); `max` for B and D (their stride-2 max pool). */
  readonly pool: PoolKind;
}

/**
 * The 11 Mixed blocks of the FID network: A blocks and C blocks and Mixed_7b average without
 * counting the padding (`count_include_pad=False`), Mixed_7c max-pools (the TF graph's quirk).
 *
 * @example
 * ```ts
 * FID_INCEPTION_BLOCKS.find((b) => b.name === 'Mixed_7c')!.pool; // 'max'
 * ```
 */
export const FID_INCEPTION_BLOCKS: readonly MixedBlockSpec[] = Object.freeze([
  { name: 'Mixed_5b', type: 'A', cin: 192, param: 32, pool: 'avg-exclude-pad' },
  { name: 'Mixed_5c', type: 'A', cin: 256, param: 64, pool: 'avg-exclude-pad' },
  { name: 'Mixed_5d', type: 'A', cin: 288, param: 64, pool: 'avg-exclude-pad' },
  { name: 'Mixed_6a', type: 'B', cin: 288, param: 0, pool: 'max' },
  { name: 'Mixed_6b', type: 'C', cin: 768, param: 128, pool: 'avg-exclude-pad' },
  { name: 'Mixed_6c', type: 'C', cin: 768, param: 160, pool: 'avg-exclude-pad' },
  { name: 'Mixed_6d', type: 'C', cin: 768, param: 160, pool: 'avg-exclude-pad' },
  { name: 'Mixed_6e', type: 'C', cin: 768, param: 192, pool: 'avg-exclude-pad' },
  { name: 'Mixed_7a', type: 'D', cin: 768, param: 0, pool: 'max' },
  { name: 'Mixed_7b', type: 'E', cin: 1280, param: 0, pool: 'avg-exclude-pad' },
  { name: 'Mixed_7c', type: 'E', cin: 2048, param: 0, pool: 'max' },
].map((b) => Object.freeze(b as MixedBlockSpec)));

function conv(name: string, cin: number, cout: number, kh: number, kw: number, stride = 1, ph = 0, pw = 0): BasicConvSpec {
  return Object.freeze({ name, cin, cout, kh, kw, stride, ph, pw });
}

function blockConvs(b: MixedBlockSpec): BasicConvSpec[] {
  const p = b.name;
  const cin = b.cin;
  switch (b.type) {
    case 'A':
      return [
        conv(`${p}.branch1x1`, cin, 64, 1, 1),
        conv(`${p}.branch5x5_1`, cin, 48, 1, 1),
        conv(`${p}.branch5x5_2`, 48, 64, 5, 5, 1, 2, 2),
        conv(`${p}.branch3x3dbl_1`, cin, 64, 1, 1),
        conv(`${p}.branch3x3dbl_2`, 64, 96, 3, 3, 1, 1, 1),
        conv(`${p}.branch3x3dbl_3`, 96, 96, 3, 3, 1, 1, 1),
        conv(`${p}.branch_pool`, cin, b.param, 1, 1),
      ];
    case 'B':
      return [
        conv(`${p}.branch3x3`, cin, 384, 3, 3, 2),
        conv(`${p}.branch3x3dbl_1`, cin, 64, 1, 1),
        conv(`${p}.branch3x3dbl_2`, 64, 96, 3, 3, 1, 1, 1),
        conv(`${p}.branch3x3dbl_3`, 96, 96, 3, 3, 2),
      ];
    case 'C': {
      const c7 = b.param;
      return [
        conv(`${p}.branch1x1`, cin, 192, 1, 1),
        conv(`${p}.branch7x7_1`, cin, c7, 1, 1),
        conv(`${p}.branch7x7_2`, c7, c7, 1, 7, 1, 0, 3),
        conv(`${p}.branch7x7_3`, c7, 192, 7, 1, 1, 3, 0),
        conv(`${p}.branch7x7dbl_1`, cin, c7, 1, 1),
        conv(`${p}.branch7x7dbl_2`, c7, c7, 7, 1, 1, 3, 0),
        conv(`${p}.branch7x7dbl_3`, c7, c7, 1, 7, 1, 0, 3),
        conv(`${p}.branch7x7dbl_4`, c7, c7, 7, 1, 1, 3, 0),
        conv(`${p}.branch7x7dbl_5`, c7, 192, 1, 7, 1, 0, 3),
        conv(`${p}.branch_pool`, cin, 192, 1, 1),
      ];
    }
    case 'D':
      return [
        conv(`${p}.branch3x3_1`, cin, 192, 1, 1),
        conv(`${p}.branch3x3_2`, 192, 320, 3, 3, 2),
        conv(`${p}.branch7x7x3_1`, cin, 192, 1, 1),
        conv(`${p}.branch7x7x3_2`, 192, 192, 1, 7, 1, 0, 3),
        conv(`${p}.branch7x7x3_3`, 192, 192, 7, 1, 1, 3, 0),
        conv(`${p}.branch7x7x3_4`, 192, 192, 3, 3, 2),
      ];
    case 'E':
      return [
        conv(`${p}.branch1x1`, cin, 320, 1, 1),
        conv(`${p}.branch3x3_1`, cin, 384, 1, 1),
        conv(`${p}.branch3x3_2a`, 384, 384, 1, 3, 1, 0, 1),
        conv(`${p}.branch3x3_2b`, 384, 384, 3, 1, 1, 1, 0),
        conv(`${p}.branch3x3dbl_1`, cin, 448, 1, 1),
        conv(`${p}.branch3x3dbl_2`, 448, 384, 3, 3, 1, 1, 1),
        conv(`${p}.branch3x3dbl_3a`, 384, 384, 1, 3, 1, 0, 1),
        conv(`${p}.branch3x3dbl_3b`, 384, 384, 3, 1, 1, 1, 0),
        conv(`${p}.branch_pool`, cin, 192, 1, 1),
      ];
  }
}

/**
 * The 94 BasicConv2d units in state_dict order: the stem (`Conv2d_1a_3x3` … `Conv2d_4a_3x3`),
 * then every Mixed block's branches in module order.
 *
 * @example
 * ```ts
 * FID_INCEPTION_CONVS.length; // 94
 * FID_INCEPTION_CONVS[0]; // { name: 'Conv2d_1a_3x3', cin: 3, cout: 32, kh: 3, kw: 3, stride: 2, ph: 0, pw: 0 }
 * ```
 */
export const FID_INCEPTION_CONVS: readonly BasicConvSpec[] = Object.freeze([
  conv('Conv2d_1a_3x3', 3, 32, 3, 3, 2),
  conv('Conv2d_2a_3x3', 32, 32, 3, 3),
  conv('Conv2d_2b_3x3', 32, 64, 3, 3, 1, 1, 1),
  conv('Conv2d_3b_1x1', 64, 80, 1, 1),
  conv('Conv2d_4a_3x3', 80, 192, 3, 3),
  ...FID_INCEPTION_BLOCKS.flatMap(blockConvs),
]);

/** Number of classes of the FID network's classifier (1008: the TF graph's ImageNet head). */
export const FID_INCEPTION_CLASSES = 1008;
/** Dimension of the pool3 features (the FID features). */
export const FID_INCEPTION_FEATURES = 2048;
/** Input size of the network in pixels (square). */
export const FID_INCEPTION_SIZE = 299;

/**
 * The recorded stages of the forward pass, in order: the network input (`[N, 299, 299, 3]` in
 * [-1, 1]), the stem's output after the second max pool, the outputs of Mixed_5d, Mixed_6e,
 * Mixed_7c, the pooled features, the logits and their softmax (names of the parity fixture).
 *
 * @example
 * ```ts
 * FID_INCEPTION_STAGES.indexOf('pool3'); // 5
 * ```
 */
export const FID_INCEPTION_STAGES = Object.freeze(['input299', 'after_maxpool2', 'Mixed_5d', 'Mixed_6e', 'Mixed_7c', 'pool3', 'logits', 'softmax'] as const);
/** One of {@link FID_INCEPTION_STAGES}. */
export type FidInceptionStage = (typeof FID_INCEPTION_STAGES)[number];

/**
 * One state_dict value as the loader needs it: a PyTorch shape (row-major) and its values as
 * float32. `StateTensor` of `@disco/runtime` (the fixture's rule) and `TorchTensor` of `@disco/pth`
 * (a `.pth` file) both fit.
 */
export interface StateTensorLike {
  /** PyTorch shape, row-major. */
  readonly shape: readonly number[];
  /** The values, row-major, as float32. */
  toFloat32(): Float32Array;
}

/** Options of {@link FidInception.fromStateDict}. */
export interface FidInceptionOptions {
  /** BatchNorm ε. Default 0.001 (the TF graph's; not PyTorch's usual 1e-5). */
  batchNormEps: number;
  /**
   * Fold each BatchNorm into its convolution at load time (`w·γ/√(σ²+ε)`, bias
   * `β − μ·γ/√(σ²+ε)`, in float64, rounded once to float32) and run fused conv + bias + ReLU.
   * Default true; false keeps conv → BatchNorm → ReLU as three ops (the reference form).
   */
  foldBatchNorm: boolean;
  /**
   * Pooling branches: `fid` (the FID blocks, default) or `torchvision` (average pools counting the
   * padding everywhere, torchvision's InceptionV3 — not the FID network; for comparisons and tests).
   */
  blocks: 'fid' | 'torchvision';
}

/** Defaults of {@link FidInceptionOptions}. */
export const FID_INCEPTION_DEFAULTS: Readonly<FidInceptionOptions> = Object.freeze({ batchNormEps: 0.001, foldBatchNorm: true, blocks: 'fid' });

/**
 * Copies and validates {@link FidInceptionOptions}; rejects unknown keys.
 *
 * @example
 * ```ts
 * resolveFidInceptionOptions({ foldBatchNorm: false }); // { batchNormEps: 0.001, foldBatchNorm: false, blocks: 'fid' }
 * ```
 */
export function resolveFidInceptionOptions(partial: Partial<FidInceptionOptions> = {}): FidInceptionOptions {
  for (const k of Object.keys(partial)) {
    if (!(k in FID_INCEPTION_DEFAULTS)) throw new Error(`resolveFidInceptionOptions: unknown option '${k}'; valid: ${Object.keys(FID_INCEPTION_DEFAULTS).join(', ')}`);
  }
  const o: FidInceptionOptions = { ...FID_INCEPTION_DEFAULTS, ...partial };
  if (!(o.batchNormEps > 0 && Number.isFinite(o.batchNormEps))) throw new Error(`resolveFidInceptionOptions: batchNormEps must be a positive number, got ${o.batchNormEps}`);
  if (typeof o.foldBatchNorm !== 'boolean') throw new Error(`resolveFidInceptionOptions: foldBatchNorm must be a boolean, got ${String(o.foldBatchNorm)}`);
  if (o.blocks !== 'fid' && o.blocks !== 'torchvision') throw new Error(`resolveFidInceptionOptions: blocks must be one of fid, torchvision, got '${String(o.blocks)}'`);
  return o;
}

/**
 * The state_dict keys and shapes the network needs, in state_dict order (the
 * `num_batches_tracked` counters excluded: they are optional and ignored).
 *
 * @example
 * ```ts
 * fidInceptionKeys().get('fc.weight'); // [1008, 2048]
 * fidInceptionKeys().size; // 472
 * ```
 */
export function fidInceptionKeys(): Map<string, number[]> {
  const keys = new Map<string, number[]>();
  for (const c of FID_INCEPTION_CONVS) {
    keys.set(`${c.name}.conv.weight`, [c.cout, c.cin, c.kh, c.kw]);
    for (const b of ['weight', 'bias', 'running_mean', 'running_var']) keys.set(`${c.name}.bn.${b}`, [c.cout]);
  }
  keys.set('fc.weight', [FID_INCEPTION_CLASSES, FID_INCEPTION_FEATURES]);
  keys.set('fc.bias', [FID_INCEPTION_CLASSES]);
  return keys;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Checks a state dict against {@link fidInceptionKeys}: throws one line naming the first missing,
 * extra or misshapen key (and how many more problems there are). `num_batches_tracked` counters
 * may be present or not; a `module.` prefix or a wrapper dictionary is an extra key.
 *
 * @example
 * ```ts
 * checkFidInceptionStateDict(sd); // throws e.g. "FID Inception state dict: missing key 'fc.bias' (and 2 more problems)"
 * ```
 */
export function checkFidInceptionStateDict(stateDict: ReadonlyMap<string, { readonly shape: readonly number[] }>): void {
  const want = fidInceptionKeys();
  const problems: string[] = [];
  for (const [k, shape] of want) {
    const t = stateDict.get(k);
    if (t === undefined) problems.push(`missing key '${k}' (shape [${shape.join(', ')}])`);
    else if (!sameShape(t.shape, shape)) problems.push(`key '${k}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  for (const [k, t] of stateDict) {
    if (want.has(k)) continue;
    const counter = /^(.*)\.bn\.num_batches_tracked$/.exec(k);
    if (counter !== null && want.has(`${counter[1]}.bn.running_mean`)) {
      if (t.shape.length !== 0 && !(t.shape.length === 1 && t.shape[0] === 1)) problems.push(`key '${k}' has shape [${t.shape.join(', ')}], expected [] (a counter)`);
      continue;
    }
    problems.push(`unexpected key '${k}' (shape [${t.shape.join(', ')}]); the FID Inception network has no such parameter`);
  }
  if (problems.length > 0) {
    throw new Error(`FID Inception state dict: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''}`);
  }
}

/** The tfjs tensors of one BasicConv2d unit. */
interface ConvUnit {
  spec: BasicConvSpec;
  /** `[kh, kw, cin, cout]` (HWIO), BatchNorm folded in when `bias` is the folded bias. */
  filter: tf.Tensor4D;
  /** Folded: the bias `[cout]`. Unfolded: null. */
  bias: tf.Tensor1D | null;
  /** Unfolded: `(x − mean)·scale + beta` as `scale = γ/√(σ²+ε)` and `shift = β − μ·scale`, `[cout]` each. */
  scale: tf.Tensor1D | null;
  shift: tf.Tensor1D | null;
}

/** OIHW `[o, i, h, w]` → HWIO `[h, w, i, o]`, optionally multiplying output channel o by `mul[o]` (float64, one rounding). */
function oihwToHwio(w: Float32Array, s: BasicConvSpec, mul: Float64Array | null): Float32Array {
  const { cout: o, cin: i, kh, kw } = s;
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++) {
    const m = mul === null ? 1 : mul[a]!;
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = w[((a * i + b) * kh + y) * kw + x]! * m;
      }
    }
  }
  return out;
}

/** Pads `[N, H, W, C]` with zeros: `ph` rows above and below, `pw` columns left and right. */
function explicitPad(ph: number, pw: number): tf.backend_util.ExplicitPadding {
  return [
    [0, 0],
    [ph, ph],
    [pw, pw],
    [0, 0],
  ];
}

/**
 * 3×3 stride-1 average pool with zero padding 1 that divides by the number of real pixels in each
 * window (9 inside, 6 on an edge, 4 in a corner): PyTorch `avg_pool2d(x, 3, 1, 1,
 * count_include_pad=False)`; `includePad` divides by 9 everywhere (torchvision's blocks).
 * `x`: `[N, H, W, C]` → `[N, H, W, C]`.
 */
export function avgPool3x3(x: tf.Tensor4D, includePad: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const sum9 = tf.avgPool(tf.pad(x, explicitPad(1, 1)), 3, 1, 'valid'); // [N, H, W, C] = window sum / 9
    if (includePad) return sum9;
    // 9 / (number of real pixels in the window), per position: [1, H, W, 1]
    const mul = new Float32Array(h * w);
    for (let i = 0; i < h; i++) {
      const rows = Math.min(i + 1, h - 1) - Math.max(i - 1, 0) + 1;
      for (let j = 0; j < w; j++) mul[i * w + j] = 9 / (rows * (Math.min(j + 1, w - 1) - Math.max(j - 1, 0) + 1));
    }
    return tf.mul(sum9, tf.tensor4d(mul, [1, h, w, 1]));
  });
}

/**
 * The FID Inception network in tfjs: pool3 features `[N, 2048]` and logits `[N, 1008]` from
 * network inputs `[N, 299, 299, 3]` in [-1, 1] (see `fidInceptionInput` for the preprocessing).
 * Owns its weights (≈ 95 MB): call {@link FidInception.dispose}.
 *
 * @example
 * ```ts
 * const net = FidInception.fromStateDict(stateDict);          // Map<key, { shape, toFloat32() }>
 * const { pool3, logits } = net.predict(x);                   // x: [N, 299, 299, 3] in [-1, 1]
 * net.dispose();
 * ```
 */
export class FidInception {
  /** The resolved options the network was built with. */
  readonly options: Readonly<FidInceptionOptions>;
  private readonly units: Map<string, ConvUnit>;
  private readonly fcWeight: tf.Tensor2D;
  private readonly fcBias: tf.Tensor1D;
  private readonly pools: Map<string, PoolKind>;

  private constructor(options: FidInceptionOptions, units: Map<string, ConvUnit>, fcWeight: tf.Tensor2D, fcBias: tf.Tensor1D) {
    this.options = Object.freeze({ ...options });
    this.units = units;
    this.fcWeight = fcWeight;
    this.fcBias = fcBias;
    this.pools = new Map(FID_INCEPTION_BLOCKS.map((b) => [b.name, options.blocks === 'torchvision' && b.type !== 'B' && b.type !== 'D' ? 'avg-include-pad' : b.pool]));
  }

  /**
   * Builds the network from a PyTorch state dict with the reference key names
   * (`Conv2d_1a_3x3.conv.weight` `[32, 3, 3, 3]`, `Mixed_5b.branch1x1.bn.running_var` `[64]`, …,
   * `fc.weight` `[1008, 2048]`, `fc.bias` `[1008]`; `num_batches_tracked` optional). Kernels go
   * from OIHW to HWIO, the fc weight from `[out, in]` to `[in, out]`. Throws one line naming a
   * missing, extra or misshapen key ({@link checkFidInceptionStateDict}).
   *
   * @example
   * ```ts
   * const net = FidInception.fromStateDict(await readRuleStateDict('test/fixtures/fid-inception'));
   * ```
   */
  static fromStateDict(stateDict: ReadonlyMap<string, StateTensorLike>, options: Partial<FidInceptionOptions> = {}): FidInception {
    const o = resolveFidInceptionOptions(options);
    checkFidInceptionStateDict(stateDict);
    const get = (k: string) => stateDict.get(k)!.toFloat32();
    const units = new Map<string, ConvUnit>();
    try {
      for (const s of FID_INCEPTION_CONVS) {
        const w = get(`${s.name}.conv.weight`);
        const gamma = get(`${s.name}.bn.weight`);
        const beta = get(`${s.name}.bn.bias`);
        const mean = get(`${s.name}.bn.running_mean`);
        const variance = get(`${s.name}.bn.running_var`);
        const scale = new Float64Array(s.cout);
        const shift = new Float64Array(s.cout);
        for (let c = 0; c < s.cout; c++) {
          scale[c] = gamma[c]! / Math.sqrt(variance[c]! + o.batchNormEps);
          shift[c] = beta[c]! - mean[c]! * scale[c]!;
        }
        const hwio = [s.kh, s.kw, s.cin, s.cout] as [number, number, number, number];
        if (o.foldBatchNorm) {
          units.set(s.name, { spec: s, filter: tf.tensor4d(oihwToHwio(w, s, scale), hwio), bias: tf.tensor1d(Float32Array.from(shift)), scale: null, shift: null });
        } else {
          units.set(s.name, { spec: s, filter: tf.tensor4d(oihwToHwio(w, s, null), hwio), bias: null, scale: tf.tensor1d(Float32Array.from(scale)), shift: tf.tensor1d(Float32Array.from(shift)) });
        }
      }
    } catch (e) {
      for (const u of units.values()) tf.dispose([u.filter, ...(u.bias ? [u.bias] : []), ...(u.scale ? [u.scale, u.shift!] : [])]);
      throw e;
    }
    // fc.weight [1008, 2048] → [2048, 1008]
    const fc = get('fc.weight');
    const fcT = new Float32Array(fc.length);
    for (let a = 0; a < FID_INCEPTION_CLASSES; a++) for (let b = 0; b < FID_INCEPTION_FEATURES; b++) fcT[b * FID_INCEPTION_CLASSES + a] = fc[a * FID_INCEPTION_FEATURES + b]!;
    return new FidInception(o, units, tf.tensor2d(fcT, [FID_INCEPTION_FEATURES, FID_INCEPTION_CLASSES]), tf.tensor1d(get('fc.bias')));
  }

  /** One BasicConv2d unit: `[N, H, W, cin]` → `[N, H', W', cout]`. */
  private unit(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const u = this.units.get(name);
    if (u === undefined) throw new Error(`FidInception: no unit '${name}'`);
    const { stride, ph, pw } = u.spec;
    const pad = ph === 0 && pw === 0 ? 'valid' : explicitPad(ph, pw);
    if (u.bias !== null) return tf.fused.conv2d({ x, filter: u.filter, strides: stride, pad, bias: u.bias, activation: 'relu' });
    const y = tf.conv2d(x, u.filter, stride, pad);
    return tf.relu(tf.add(tf.mul(y, u.scale!), u.shift!)) as tf.Tensor4D;
  }

  private poolBranch(block: string, x: tf.Tensor4D): tf.Tensor4D {
    const kind = this.pools.get(block)!;
    if (kind === 'max') return tf.maxPool(tf.pad(x, explicitPad(1, 1), -Infinity), 3, 1, 'valid');
    return avgPool3x3(x, kind === 'avg-include-pad');
  }

  private mixed(b: MixedBlockSpec, x: tf.Tensor4D): tf.Tensor4D {
    const p = b.name;
    const u = (n: string, t: tf.Tensor4D) => this.unit(`${p}.${n}`, t);
    switch (b.type) {
      case 'A':
        return tf.concat(
          [
            u('branch1x1', x),
            u('branch5x5_2', u('branch5x5_1', x)),
            u('branch3x3dbl_3', u('branch3x3dbl_2', u('branch3x3dbl_1', x))),
            u('branch_pool', this.poolBranch(p, x)),
          ],
          3,
        );
      case 'B':
        return tf.concat([u('branch3x3', x), u('branch3x3dbl_3', u('branch3x3dbl_2', u('branch3x3dbl_1', x))), tf.maxPool(x, 3, 2, 'valid')], 3);
      case 'C':
        return tf.concat(
          [
            u('branch1x1', x),
            u('branch7x7_3', u('branch7x7_2', u('branch7x7_1', x))),
            u('branch7x7dbl_5', u('branch7x7dbl_4', u('branch7x7dbl_3', u('branch7x7dbl_2', u('branch7x7dbl_1', x))))),
            u('branch_pool', this.poolBranch(p, x)),
          ],
          3,
        );
      case 'D':
        return tf.concat([u('branch3x3_2', u('branch3x3_1', x)), u('branch7x7x3_4', u('branch7x7x3_3', u('branch7x7x3_2', u('branch7x7x3_1', x)))), tf.maxPool(x, 3, 2, 'valid')], 3);
      case 'E': {
        const a = u('branch3x3_1', x);
        const d = u('branch3x3dbl_2', u('branch3x3dbl_1', x));
        return tf.concat([u('branch1x1', x), u('branch3x3_2a', a), u('branch3x3_2b', a), u('branch3x3dbl_3a', d), u('branch3x3dbl_3b', d), u('branch_pool', this.poolBranch(p, x))], 3);
      }
    }
  }

  private blocks(from: string, to: string, x: tf.Tensor4D): tf.Tensor4D {
    const i0 = FID_INCEPTION_BLOCKS.findIndex((b) => b.name === from);
    const i1 = FID_INCEPTION_BLOCKS.findIndex((b) => b.name === to);
    let y = x;
    for (let i = i0; i <= i1; i++) y = this.mixed(FID_INCEPTION_BLOCKS[i]!, y);
    return y;
  }

  /**
   * Computes stage `stage` from the output of the stage before it in {@link FID_INCEPTION_STAGES}
   * (NHWC): `after_maxpool2` from `input299` `[N, 299, 299, 3]` → `[N, 35, 35, 192]`; `Mixed_5d`
   * → `[N, 35, 35, 288]`; `Mixed_6e` → `[N, 17, 17, 768]`; `Mixed_7c` → `[N, 8, 8, 2048]`;
   * `pool3` → `[N, 2048]`; `logits` → `[N, 1008]`; `softmax` → `[N, 1008]`. The caller owns the
   * result; `x` is not disposed.
   *
   * @example
   * ```ts
   * const m5 = net.stage('Mixed_5d', afterMaxpool2); // [1, 35, 35, 288]
   * ```
   */
  stage(stage: Exclude<FidInceptionStage, 'input299'>, x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      switch (stage) {
        case 'after_maxpool2': {
          const x4 = x as tf.Tensor4D;
          tf.util.assert(x4.rank === 4 && x4.shape[3] === 3, () => `FidInception.stage: after_maxpool2 needs [N, H, W, 3], got [${x.shape.join(', ')}]`);
          let y = this.unit('Conv2d_2b_3x3', this.unit('Conv2d_2a_3x3', this.unit('Conv2d_1a_3x3', x4)));
          y = tf.maxPool(y, 3, 2, 'valid');
          y = this.unit('Conv2d_4a_3x3', this.unit('Conv2d_3b_1x1', y));
          return tf.maxPool(y, 3, 2, 'valid');
        }
        case 'Mixed_5d':
          return this.blocks('Mixed_5b', 'Mixed_5d', x as tf.Tensor4D);
        case 'Mixed_6e':
          return this.blocks('Mixed_6a', 'Mixed_6e', x as tf.Tensor4D);
        case 'Mixed_7c':
          return this.blocks('Mixed_7a', 'Mixed_7c', x as tf.Tensor4D);
        case 'pool3':
          return tf.mean(x, [1, 2]);
        case 'logits':
          return tf.add(tf.matMul(x as tf.Tensor2D, this.fcWeight), this.fcBias);
        case 'softmax':
          return tf.softmax(x);
        default:
          throw new Error(`FidInception.stage: unknown stage '${String(stage)}'; valid: ${FID_INCEPTION_STAGES.slice(1).join(', ')}`);
      }
    });
  }

  /**
   * Runs the stages from the one after `from` up to `to` on `x` (the output of `from`) and returns
   * every stage computed on the way, by name. The caller owns the returned tensors.
   *
   * @example
   * ```ts
   * const out = net.run(x, 'input299', 'pool3'); // out.after_maxpool2 … out.pool3
   * ```
   */
  run(x: tf.Tensor, from: FidInceptionStage, to: FidInceptionStage): Partial<Record<FidInceptionStage, tf.Tensor>> {
    const i0 = FID_INCEPTION_STAGES.indexOf(from);
    const i1 = FID_INCEPTION_STAGES.indexOf(to);
    if (i0 < 0 || i1 <= i0) throw new Error(`FidInception.run: '${from}' → '${to}' is not a forward range of ${FID_INCEPTION_STAGES.join(', ')}`);
    const out: Partial<Record<FidInceptionStage, tf.Tensor>> = {};
    let y = x;
    for (let i = i0 + 1; i <= i1; i++) {
      const s = FID_INCEPTION_STAGES[i]! as Exclude<FidInceptionStage, 'input299'>;
      y = this.stage(s, y);
      out[s] = y;
    }
    return out;
  }

  /**
   * pool3 features `[N, 2048]` and logits `[N, 1008]` (with the fc bias) of network inputs
   * `x` `[N, 299, 299, 3]` in [-1, 1]. The caller owns both tensors.
   *
   * @example
   * ```ts
   * const { pool3, logits } = net.predict(x);
   * ```
   */
  predict(x: tf.Tensor4D): { pool3: tf.Tensor2D; logits: tf.Tensor2D } {
    return tf.tidy(() => {
      let y: tf.Tensor = this.stage('after_maxpool2', x);
      for (const s of ['Mixed_5d', 'Mixed_6e', 'Mixed_7c', 'pool3'] as const) y = this.stage(s, y);
      return { pool3: y as tf.Tensor2D, logits: this.stage('logits', y) as tf.Tensor2D };
    });
  }

  /** Frees every weight tensor. */
  dispose(): void {
    for (const u of this.units.values()) tf.dispose([u.filter, ...(u.bias ? [u.bias] : []), ...(u.scale ? [u.scale, u.shift!] : [])]);
    this.units.clear();
    tf.dispose([this.fcWeight, this.fcBias]);
  }
}
