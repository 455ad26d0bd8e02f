/**
 * The two CNNs of DISCO as tfjs-layers functional models: the backbone (pixel features) and the
 * refinement hourglass (pixel colors). Layer plans follow the paper's published code (see
 * {@link BackboneConfig} and {@link RefinementConfig}). The published code's spectral
 * normalisation is a reparametrisation of 23 kernels (`weight_orig / σ`); a converted checkpoint
 * holds the folded kernels (see `officialToNamedWeights`), so inference needs no extra op.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackboneConfig, RefinementConfig } from './config.js';

type T = tfl.SymbolicTensor;

/** Seeded initialisers: one seed per layer, derived from the model seed and a running counter. */
class Seeds {
  private n = 0;
  constructor(private readonly base: number) {}
  next(): number {
    this.n += 1;
    return (this.base * 1000003 + this.n * 7919) % 2147483647;
  }
}

/** How stride-2 convolutions pad (see `DiscoConfig.padding`). */
export type ConvPadding = 'symmetric' | 'same';

function conv(x: T, filters: number, seeds: Seeds, name: string, opts: { strides?: number; activation?: 'relu' | 'leaky' | 'tanh' | null; smallInit?: boolean; padding?: ConvPadding } = {}): T {
  const seed = seeds.next();
  const kernelInitializer = opts.smallInit ? tfl.initializers.randomNormal({ mean: 0, stddev: 1e-3, seed }) : tfl.initializers.heNormal({ seed });
  const strides = opts.strides ?? 1;
  // PyTorch's padding=1 for stride 2: explicit zeros on every side, then 'valid' (same weights and names).
  const symmetric = strides === 2 && opts.padding === 'symmetric';
  const input = symmetric ? (tfl.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: `${name}_pad` }).apply(x) as T) : x;
  let y = tfl.layers
    .conv2d({ filters, kernelSize: 3, strides, padding: symmetric ? 'valid' : 'same', kernelInitializer, name })
    .apply(input) as T;
  if (opts.activation === 'relu') y = tfl.layers.reLU({ name: `${name}_relu` }).apply(y) as T;
  if (opts.activation === 'leaky') y = tfl.layers.leakyReLU({ alpha: 0.2, name: `${name}_lrelu` }).apply(y) as T;
  if (opts.activation === 'tanh') y = tfl.layers.activation({ activation: 'tanh', name: `${name}_tanh` }).apply(y) as T;
  return y;
}

function bn(x: T, name: string): T {
  return tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name }).apply(x) as T;
}

function up2(x: T, name: string): T {
  return tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name }).apply(x) as T;
}

/**
 * Backbone: grey `L` `[B,H,W,1]` → features `[B,H,W,outChannels]` (ReLU, so ≥ 0).
 * Encoder stages to 1/8 (LeakyReLU 0.2, BN after each stage), extra stages at 1/8, decoder with
 * nearest upsampling and one skip from the 1/4 stage.
 */
export function buildBackbone(cfg: BackboneConfig, seed: number, name = 'backbone', padding: ConvPadding = 'same'): tfl.LayersModel {
  const seeds = new Seeds(seed + 11);
  const input = tfl.input({ shape: [null, null, 1], name: `${name}_L` });
  const [c1, c2, c3, c4] = cfg.widths;
  let h: T = input;
  let skip4: T | null = null;
  cfg.widths.forEach((width, s) => {
    for (let i = 0; i < cfg.convs[s]!; i++) h = conv(h, width, seeds, `${name}_enc${s + 1}_${i + 1}`, { strides: s > 0 && i === 0 ? 2 : 1, activation: 'leaky', padding });
    h = bn(h, `${name}_enc${s + 1}_bn`);
    if (s === 2) skip4 = h;
  });
  for (let e = 0; e < cfg.extraStages; e++) {
    for (let i = 0; i < cfg.extraConvs; i++) h = conv(h, c4, seeds, `${name}_mid${e + 1}_${i + 1}`, { activation: 'leaky' });
    h = bn(h, `${name}_mid${e + 1}_bn`);
  }
  // 1/8 → 1/4, plus the skip from the 1/4 encoder stage.
  let d = conv(up2(h, `${name}_up8`), c3, seeds, `${name}_dec8_up`);
  const short = conv(skip4!, c3, seeds, `${name}_dec8_short`);
  d = tfl.layers.add({ name: `${name}_dec8_add` }).apply([d, short]) as T;
  d = tfl.layers.reLU({ name: `${name}_dec8_relu` }).apply(d) as T;
  d = conv(d, c3, seeds, `${name}_dec8_1`, { activation: 'relu' });
  d = conv(d, c3, seeds, `${name}_dec8_2`, { activation: 'relu' });
  d = bn(d, `${name}_dec8_bn`);
  // 1/4 → 1/2
  d = conv(up2(d, `${name}_up9`), c2, seeds, `${name}_dec9_up`);
  d = conv(d, c2, seeds, `${name}_dec9_1`, { activation: 'relu' });
  d = bn(d, `${name}_dec9_bn`);
  // 1/2 → 1
  d = conv(up2(d, `${name}_up10`), c1, seeds, `${name}_dec10_up`, { activation: 'relu' });
  d = conv(d, cfg.outChannels, seeds, `${name}_out`, { activation: 'relu' });
  return tfl.model({ inputs: input, outputs: d, name });
}

/**
 * Refinement hourglass: `concat(L, diffused features)` `[B,H,W,1+d]` → ab `[B,H,W,2]` in (−1, 1)
 * (tanh; ab/110). Conv block, two strided down blocks, residual blocks, two up blocks with skips.
 */
export function buildRefinement(cfg: RefinementConfig, inChannels: number, seed: number, name = 'refine', padding: ConvPadding = 'same'): tfl.LayersModel {
  const seeds = new Seeds(seed + 23);
  const [c1, c2, c3] = cfg.widths;
  const input = tfl.input({ shape: [null, null, inChannels], name: `${name}_in` });
  let f1 = conv(input, c1, seeds, `${name}_in_1`, { activation: 'relu' });
  f1 = bn(conv(f1, c1, seeds, `${name}_in_2`, { activation: 'relu' }), `${name}_in_bn`);
  let f2 = conv(f1, c2, seeds, `${name}_down1_1`, { strides: 2, activation: 'relu', padding });
  f2 = bn(conv(f2, c2, seeds, `${name}_down1_2`, { activation: 'relu' }), `${name}_down1_bn`);
  let f3 = conv(f2, c3, seeds, `${name}_down2_1`, { strides: 2, activation: 'relu', padding });
  f3 = bn(conv(f3, c3, seeds, `${name}_down2_2`, { activation: 'relu' }), `${name}_down2_bn`);
  let r: T = f3;
  for (let b = 0; b < cfg.residualBlocks; b++) {
    let y = conv(r, c3, seeds, `${name}_res${b + 1}_1`);
    y = conv(y, c3, seeds, `${name}_res${b + 1}_2`, { activation: 'relu' });
    y = conv(y, c3, seeds, `${name}_res${b + 1}_3`);
    r = tfl.layers.reLU({ name: `${name}_res${b + 1}_relu` }).apply(tfl.layers.add({ name: `${name}_res${b + 1}_add` }).apply([r, y]) as T) as T;
  }
  const upBlock = (x: T, skip: T, width: number, tag: string): T => {
    let y = up2(conv(x, width, seeds, `${name}_${tag}_1`), `${name}_${tag}_up`);
    y = tfl.layers.concatenate({ name: `${name}_${tag}_cat` }).apply([y, skip]) as T;
    y = conv(y, width, seeds, `${name}_${tag}_combine`, { activation: 'relu' });
    y = conv(y, width, seeds, `${name}_${tag}_2`, { activation: 'relu' });
    y = conv(y, width, seeds, `${name}_${tag}_3`, { activation: 'relu' });
    return bn(y, `${name}_${tag}_bn`);
  };
  const u2 = upBlock(r, f2, c2, 'up2');
  const u1 = upBlock(u2, f1, c1, 'up1');
  // Small output weights: training starts from near-grey predictions instead of saturated tanh.
  const out = conv(u1, 2, seeds, `${name}_out`, { activation: 'tanh', smallInit: true });
  return tfl.model({ inputs: input, outputs: out, name });
}

/**
 * Per-pixel head of the two baselines (`arch: 'regression' | 'classification'`): backbone
 * features `[B,H,W,inChannels]` → one 3×3 convolution (`inChannels` wide, ReLU) → a 1×1
 * convolution to `outChannels` at full resolution. `regression`: 2 channels through tanh (ab/110,
 * small initial weights so training starts near grey); `classification`: 313 logits, linear.
 */
export function buildPixelHead(inChannels: number, outChannels: number, output: 'tanh' | 'linear', seed: number, name = 'head'): tfl.LayersModel {
  const seeds = new Seeds(seed + 37);
  const input = tfl.input({ shape: [null, null, inChannels], name: `${name}_in` });
  const h = conv(input, inChannels, seeds, `${name}_1`, { activation: 'relu' });
  const outSeed = seeds.next();
  // The 1×1 convolution as a dense layer on the channel axis (a matrix product: faster gradients on wasm).
  let y = tfl.layers
    .dense({ units: outChannels, kernelInitializer: output === 'tanh' ? tfl.initializers.randomNormal({ mean: 0, stddev: 1e-3, seed: outSeed }) : tfl.initializers.heNormal({ seed: outSeed }), name: `${name}_out` })
    .apply(h) as T;
  if (output === 'tanh') y = tfl.layers.activation({ activation: 'tanh', name: `${name}_out_tanh` }).apply(y) as T;
  return tfl.model({ inputs: input, outputs: y, name });
}
