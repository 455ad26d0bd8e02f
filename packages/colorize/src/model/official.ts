/**
 * The published DISCO checkpoints (Xia et al. 2022, the authors' released PyTorch code) in this
 * model: the key map from their state dict to {@link DiscoModel}'s parameter table, with the
 * layout changes (OIHW → HWIO kernels, `[in, out, kH, kW]` → `[kH, kW, out, in]` transposed
 * kernels, Linear `[out, in]` → `[in, out]`, `nn.MultiheadAttention`'s packed `in_proj` split into
 * query / key / value) and the spectral-norm reparametrisation folded into plain kernels.
 * Browser-safe: it takes tensors from any reader (`@disco/pth`, or the parity fixtures' rule).
 */
import * as tf from '@tensorflow/tfjs-core';
import { PAPER_CONFIG, type DiscoConfig } from './config.js';
import { DiscoModel } from './disco.js';

/** One tensor of a PyTorch state dict as this module needs it (the shape of `@disco/pth`'s `TorchTensor` and `@disco/runtime`'s `StateTensor`). */
export interface StateDictTensor {
  /** PyTorch shape, row-major. */
  readonly shape: readonly number[];
  /** The values in row-major order, as float32. */
  toFloat32(): Float32Array;
}

/**
 * The configuration of the published model (the released `AnchorColorProb` with `enhanced`:
 * 256², S = 16, K = 8, d = 64, 6 + 6 layers, symmetric stride-2 padding, the published anchor rules).
 * It is the `paper` preset.
 */
export const OFFICIAL_CONFIG: Readonly<DiscoConfig> = PAPER_CONFIG;

/** How one of our weights is made from official entries. */
type Source =
  /** A convolution kernel `[O,I,kH,kW]` → `[kH,kW,I,O]`. */
  | { kind: 'conv'; key: string }
  /** A spectral-normalised convolution: `weight_orig / (u · W_mat v)`, then as `conv`. */
  | { kind: 'sn'; key: string }
  /** A transposed-convolution kernel `[I,O,kH,kW]` → `[kH,kW,O,I]`. */
  | { kind: 'deconv'; key: string }
  /** A Linear weight `[out,in]` → `[in,out]`; `rows` takes a row range of a packed weight first. */
  | { kind: 'linear'; key: string; rows?: [number, number] }
  /** A vector, copied; `range` takes a slice of a packed one. */
  | { kind: 'vector'; key: string; range?: [number, number] };

/** The official keys of a BatchNorm module, mapped onto a tfjs-layers BatchNormalization. */
function bn(out: Map<string, Source>, ours: string, theirs: string): void {
  out.set(`${ours}.gamma`, { kind: 'vector', key: `${theirs}.weight` });
  out.set(`${ours}.beta`, { kind: 'vector', key: `${theirs}.bias` });
  out.set(`${ours}.moving_mean`, { kind: 'vector', key: `${theirs}.running_mean` });
  out.set(`${ours}.moving_variance`, { kind: 'vector', key: `${theirs}.running_var` });
}

function conv(out: Map<string, Source>, ours: string, theirs: string, opts: { sn?: boolean; bias?: boolean } = {}): void {
  out.set(`${ours}.kernel`, { kind: opts.sn ? 'sn' : 'conv', key: theirs });
  if (opts.bias ?? true) out.set(`${ours}.bias`, { kind: 'vector', key: `${theirs}.bias` });
}

/**
 * Our parameter name → where its value comes from in an official state dict. The plan of the
 * released model (`OFFICIAL_CONFIG`); the transformers follow the config's layer count.
 */
function officialPlan(config: DiscoConfig): Map<string, Source> {
  const p = new Map<string, Source>();
  // SPixNet (segnet.net): conv (no bias) + BatchNorm + LeakyReLU blocks, transposed convs, head.
  for (let i = 0; i <= 4; i++) {
    for (const ab of ['a', 'b']) {
      conv(p, `spixnet.enc${i}${ab}_conv`, `segnet.net.conv${i}${ab}.0.weight`, { bias: false });
      bn(p, `spixnet.enc${i}${ab}_bn`, `segnet.net.conv${i}${ab}.1`);
    }
  }
  for (let i = 3; i >= 0; i--) {
    p.set(`spixnet.dec${i}_up.kernel`, { kind: 'deconv', key: `segnet.net.deconv${i}.0.weight` });
    p.set(`spixnet.dec${i}_up.bias`, { kind: 'vector', key: `segnet.net.deconv${i}.0.bias` });
    conv(p, `spixnet.dec${i}_conv`, `segnet.net.conv${i}_1.0.weight`, { bias: false });
    bn(p, `spixnet.dec${i}_bn`, `segnet.net.conv${i}_1.1`);
  }
  p.set('spixnet.assoc_logits.kernel', { kind: 'conv', key: 'segnet.net.pred_mask0.weight' });
  p.set('spixnet.assoc_logits.bias', { kind: 'vector', key: 'segnet.net.pred_mask0.bias' });

  // Backbone (repnet, "ColorProbNet"): spectral-normalised encoder conv1_2 … conv7_3, each
  // Sequential [conv, LeakyReLU, conv, LeakyReLU, (conv, LeakyReLU,) BatchNorm].
  const b = (name: string) => `backbone.backbone_${name}`;
  const encoder: [string, string, number][] = [
    ['conv1_2', 'enc1', 2],
    ['conv2_3', 'enc2', 3],
    ['conv3_3', 'enc3', 3],
    ['conv4_3', 'enc4', 3],
    ['conv5_3', 'mid1', 3],
    ['conv6_3', 'mid2', 3],
    ['conv7_3', 'mid3', 3],
  ];
  for (const [theirs, ours, n] of encoder) {
    for (let i = 0; i < n; i++) conv(p, b(`${ours}_${i + 1}`), `repnet.${theirs}.${2 * i}`, { sn: true });
    bn(p, b(`${ours}_bn`), `repnet.${theirs}.${2 * n}`);
  }
  conv(p, b('dec8_up'), 'repnet.conv8up.1');
  conv(p, b('dec8_short'), 'repnet.conv3short8.0');
  conv(p, b('dec8_1'), 'repnet.conv8_3.1');
  conv(p, b('dec8_2'), 'repnet.conv8_3.3');
  bn(p, b('dec8_bn'), 'repnet.conv8_3.5');
  conv(p, b('dec9_up'), 'repnet.conv9up.1');
  conv(p, b('dec9_1'), 'repnet.conv9_2.0');
  bn(p, b('dec9_bn'), 'repnet.conv9_2.2');
  conv(p, b('dec10_up'), 'repnet.conv10up.1');
  conv(p, b('out'), 'repnet.conv10_2.1');

  // Transformers: the color modeler (wildpath) and the color generator (hintpath).
  const d = config.backbone.outChannels;
  for (const [ours, theirs] of [['modeler', 'wildpath'], ['generator', 'hintpath']] as const) {
    for (let l = 0; l < config.transformer.layers; l++) {
      const o = `${ours}.layers.${l}`;
      const t = `${theirs}.layers.${l}`;
      (['query', 'key', 'value'] as const).forEach((name, j) => {
        p.set(`${o}.selfAttn.${name}.kernel`, { kind: 'linear', key: `${t}.self_attn.in_proj_weight`, rows: [j * d, (j + 1) * d] });
        p.set(`${o}.selfAttn.${name}.bias`, { kind: 'vector', key: `${t}.self_attn.in_proj_bias`, range: [j * d, (j + 1) * d] });
      });
      p.set(`${o}.selfAttn.output.kernel`, { kind: 'linear', key: `${t}.self_attn.out_proj.weight` });
      p.set(`${o}.selfAttn.output.bias`, { kind: 'vector', key: `${t}.self_attn.out_proj.bias` });
      for (const lin of ['linear1', 'linear2']) {
        p.set(`${o}.${lin}.kernel`, { kind: 'linear', key: `${t}.${lin}.weight` });
        p.set(`${o}.${lin}.bias`, { kind: 'vector', key: `${t}.${lin}.bias` });
      }
      for (const norm of ['norm1', 'norm2']) {
        p.set(`${o}.${norm}.gamma`, { kind: 'vector', key: `${t}.${norm}.weight` });
        p.set(`${o}.${norm}.beta`, { kind: 'vector', key: `${t}.${norm}.bias` });
      }
    }
  }
  p.set('modelerHead.kernel', { kind: 'linear', key: 'mid_word_prj.weight' });
  p.set('hintEmbedding.kernel', { kind: 'linear', key: 'trg_word_emb.weight' });
  p.set('generatorHead.kernel', { kind: 'linear', key: 'trg_word_prj.weight' });

  // Refinement (enhanceNet, "HourGlass2"); the middle conv of each residual block is spectral-normalised.
  const r = (name: string) => `refine.refine_${name}`;
  conv(p, r('in_1'), 'enhanceNet.inConv.inConv.0');
  conv(p, r('in_2'), 'enhanceNet.inConv.conv.0');
  bn(p, r('in_bn'), 'enhanceNet.inConv.conv.2');
  for (const down of ['down1', 'down2']) {
    conv(p, r(`${down}_1`), `enhanceNet.${down}.conv.0`);
    conv(p, r(`${down}_2`), `enhanceNet.${down}.conv.2`);
    bn(p, r(`${down}_bn`), `enhanceNet.${down}.conv.4`);
  }
  for (let k = 0; k < config.refinement.residualBlocks; k++) {
    conv(p, r(`res${k + 1}_1`), `enhanceNet.residual.${k}.conv.0`);
    conv(p, r(`res${k + 1}_2`), `enhanceNet.residual.${k}.conv.1`, { sn: true });
    conv(p, r(`res${k + 1}_3`), `enhanceNet.residual.${k}.conv.3`);
  }
  for (const up of ['up2', 'up1']) {
    conv(p, r(`${up}_1`), `enhanceNet.${up}.conv1`);
    conv(p, r(`${up}_combine`), `enhanceNet.${up}.combine`);
    conv(p, r(`${up}_2`), `enhanceNet.${up}.conv2.0`);
    conv(p, r(`${up}_3`), `enhanceNet.${up}.conv2.2`);
    bn(p, r(`${up}_bn`), `enhanceNet.${up}.conv2.4`);
  }
  conv(p, r('out'), 'enhanceNet.outConv');
  return p;
}

/** The official state-dict keys a source reads. */
function sourceKeys(s: Source): string[] {
  if (s.kind === 'sn') return [`${s.key}.weight_orig`, `${s.key}.weight_u`, `${s.key}.weight_v`];
  if (s.kind === 'conv' || s.kind === 'deconv') return [s.key.endsWith('.weight') ? s.key : `${s.key}.weight`];
  return [s.key];
}

/** The official shape a source must have for our weight of shape `ours`. */
function expectedShapes(s: Source, ours: readonly number[], d: number): number[][] {
  switch (s.kind) {
    case 'conv':
      return [[ours[3]!, ours[2]!, ours[0]!, ours[1]!]];
    case 'sn': {
      const [kh, kw, i, o] = ours as [number, number, number, number];
      return [[o, i, kh, kw], [o], [i * kh * kw]];
    }
    case 'deconv':
      return [[ours[3]!, ours[2]!, ours[0]!, ours[1]!]];
    case 'linear':
      return [s.rows ? [3 * d, ours[0]!] : [ours[1]!, ours[0]!]];
    case 'vector':
      return [s.range ? [3 * d] : [...ours]];
  }
}

/** `[A,B,C,D]` row-major → the axes permuted by `perm` (output axis j is input axis perm[j]). */
function permute4(v: Float32Array, shape: readonly number[], perm: [number, number, number, number]): Float32Array {
  const strides = [shape[1]! * shape[2]! * shape[3]!, shape[2]! * shape[3]!, shape[3]!, 1];
  const outShape = perm.map((a) => shape[a]!);
  const out = new Float32Array(v.length);
  let n = 0;
  const s = perm.map((a) => strides[a]!);
  for (let a = 0; a < outShape[0]!; a++) {
    for (let b = 0; b < outShape[1]!; b++) {
      for (let c = 0; c < outShape[2]!; c++) {
        const base = a * s[0]! + b * s[1]! + c * s[2]!;
        for (let e = 0; e < outShape[3]!; e++) out[n++] = v[base + e * s[3]!]!;
      }
    }
  }
  return out;
}

/** `[R,C]` row-major → `[C,R]`. */
function transpose2(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = v[r * cols + c]!;
  return out;
}

/**
 * The spectral-norm kernel of the published code at inference: `weight_orig / σ` with
 * `σ = u · (W_mat v)`, `W_mat` = `weight_orig` as `[out, in·kH·kW]`, from the stored `u` and `v`
 * (no power iteration; the stored σ is not the true largest singular value). σ is accumulated in
 * float64 and rounded to float32, the division rounded to float32, as PyTorch's float32 ops.
 *
 * @param weight `weight_orig`, row-major `[out, in, kH, kW]`.
 * @param u `weight_u` `[out]`.
 * @param v `weight_v` `[in·kH·kW]`.
 * @returns The folded kernel, row-major `[out, in, kH, kW]`.
 */
export function foldSpectralNorm(weight: Float32Array, u: Float32Array, v: Float32Array): Float32Array {
  const out = u.length;
  const cols = v.length;
  if (weight.length !== out * cols) throw new Error(`foldSpectralNorm: weight_orig holds ${weight.length} values, u · v needs ${out} × ${cols}`);
  let sigma = 0;
  for (let o = 0; o < out; o++) {
    let row = 0;
    for (let c = 0; c < cols; c++) row += weight[o * cols + c]! * v[c]!;
    sigma += u[o]! * row;
  }
  const s = Math.fround(sigma);
  if (!(Math.abs(s) > 0) || !Number.isFinite(s)) throw new Error(`foldSpectralNorm: σ = u · (W v) is ${s}; the spectral-norm vectors are damaged`);
  const folded = new Float32Array(weight.length);
  for (let i = 0; i < weight.length; i++) folded[i] = weight[i]! / s;
  return folded;
}

/** Removes a prefix every key shares (`module.` of a `DataParallel` checkpoint), if any. */
function stripCommonPrefix<T>(sd: ReadonlyMap<string, T>): Map<string, T> {
  for (const prefix of ['module.', 'model.']) {
    if (sd.size > 0 && [...sd.keys()].every((k) => k.startsWith(prefix))) return new Map([...sd].map(([k, v]) => [k.slice(prefix.length), v]));
  }
  return new Map(sd);
}

/** Options of {@link officialToNamedWeights}. */
export interface OfficialConversionOptions {
  /** What the state dict is called in errors (e.g. the file). Default `checkpoint`. */
  source?: string;
}

/**
 * Converts an official DISCO state dict (the `state_dict` of a released `.pth.tar`, key names as
 * in the authors' code) into this model's named weights (`DiscoModel.setNamedWeights`): every
 * weight of {@link OFFICIAL_CONFIG} is taken from its key(s) with the layout changed, the 23
 * spectral-normalised kernels folded ({@link foldSpectralNorm}), and the packed attention
 * projections split. Strict: a missing key, an unexpected key or a wrongly shaped key throws one
 * line naming it. `num_batches_tracked` counters are accepted and ignored; a shared `module.`
 * prefix (DataParallel) is removed.
 *
 * @param stateDict Official key → tensor (`shape`, `toFloat32()`), e.g. `stateDictOf(readPth(bytes))`.
 * @param model The model to convert for: its config (`paper`, the published architecture) and the
 *   shapes of its weights.
 * @param options See {@link OfficialConversionOptions}.
 * @returns Our dotted names → float32 tensors in our layouts (the caller disposes them).
 *
 * @example
 * ```ts
 * const model = DiscoModel.create(OFFICIAL_CONFIG);
 * const named = officialToNamedWeights(stateDictOf(readPth(bytes)), model, { source: 'disco-c0.2.pth.tar' });
 * model.setNamedWeights(named);
 * tf.dispose(Object.values(named));
 * ```
 */
export function officialToNamedWeights(stateDict: ReadonlyMap<string, StateDictTensor>, model: DiscoModel, options: OfficialConversionOptions = {}): Record<string, tf.Tensor> {
  const where = options.source ?? 'checkpoint';
  const config = model.config;
  const d = config.backbone.outChannels;
  const sd = stripCommonPrefix(stateDict);
  const plan = officialPlan(config);
  const shapes = new Map(Object.entries(model.namedWeights()).map(([k, t]) => [k, t.shape]));
  const notInPlan = [...shapes.keys()].filter((k) => !plan.has(k));
  if (notInPlan.length > 0 || model.extensions.arch !== 'disco' || model.extensions.hintBroadcast || model.extensions.residualRefinement || model.extensions.pretrainedFeatures) {
    throw new Error(`${where}: the published checkpoints fit the 'paper' architecture; this model's config has weights they do not hold (${notInPlan[0] ? `'${notInPlan[0]}'` : 'an extension'})`);
  }
  const get = (key: string, shape: number[]): Float32Array => {
    const t = sd.get(key);
    if (!t) throw new Error(`${where}: missing key '${key}' (expected shape [${shape}])`);
    if (!tf.util.arraysEqual([...t.shape], shape)) throw new Error(`${where}: key '${key}' has shape [${t.shape}], expected [${shape}]`);
    return t.toFloat32();
  };
  // Check every key's presence and shape before converting anything.
  for (const [ours, src] of plan) {
    const mine = shapes.get(ours);
    if (!mine) throw new Error(`${where}: the model has no weight '${ours}' for '${sourceKeys(src)[0]}' (not the 'paper' architecture)`);
    const want = expectedShapes(src, mine, d);
    sourceKeys(src).forEach((k, i) => {
      const t = sd.get(k);
      if (!t) throw new Error(`${where}: missing key '${k}' (expected shape [${want[i]}])`);
      if (!tf.util.arraysEqual([...t.shape], want[i]!)) throw new Error(`${where}: key '${k}' has shape [${t.shape}], expected [${want[i]}]`);
    });
  }
  const counters = new Set([...plan.values()].flatMap(sourceKeys).map((k) => k.replace(/\.(weight|bias|running_mean|running_var)$/, '.num_batches_tracked')));
  const extra = [...sd.keys()].filter((k) => !new Set([...plan.values()].flatMap(sourceKeys)).has(k) && !(k.endsWith('.num_batches_tracked') && counters.has(k)));
  if (extra.length > 0) throw new Error(`${where}: unexpected key '${extra[0]}'${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}; not part of the published DISCO model`);

  const out: Record<string, tf.Tensor> = {};
  try {
    for (const [ours, src] of plan) {
      const shape = shapes.get(ours)!;
      const want = expectedShapes(src, shape, d);
      let values: Float32Array;
      if (src.kind === 'conv' || src.kind === 'sn') {
        const [key] = sourceKeys(src);
        const w = src.kind === 'sn' ? foldSpectralNorm(get(key!, want[0]!), get(`${src.key}.weight_u`, want[1]!), get(`${src.key}.weight_v`, want[2]!)) : get(key!, want[0]!);
        values = permute4(w, want[0]!, [2, 3, 1, 0]); // [O,I,kH,kW] → [kH,kW,I,O]
      } else if (src.kind === 'deconv') {
        values = permute4(get(src.key, want[0]!), want[0]!, [2, 3, 1, 0]); // [I,O,kH,kW] → [kH,kW,O,I]
      } else if (src.kind === 'linear') {
        const full = get(src.key, want[0]!);
        const [outDim, inDim] = src.rows ? [src.rows[1] - src.rows[0], want[0]![1]!] : [want[0]![0]!, want[0]![1]!];
        const rows = src.rows ? full.subarray(src.rows[0] * inDim, src.rows[1] * inDim) : full;
        values = transpose2(rows, outDim, inDim); // [out,in] → [in,out]
      } else {
        const full = get(src.key, want[0]!);
        values = src.range ? full.slice(src.range[0], src.range[1]) : full;
      }
      out[ours] = tf.tensor(values, shape, 'float32');
    }
  } catch (e) {
    tf.dispose(Object.values(out));
    throw e;
  }
  return out;
}

/**
 * Builds the published model ({@link OFFICIAL_CONFIG}) from an official state dict; errors name `source`.
 *
 * @example
 * ```ts
 * const model = officialModel(stateDictOf(readPth(bytes, { source: 'disco.pth.tar' })), 'disco.pth.tar');
 * ```
 */
export function officialModel(stateDict: ReadonlyMap<string, StateDictTensor>, source = 'checkpoint'): DiscoModel {
  const model = DiscoModel.create(OFFICIAL_CONFIG);
  try {
    const named = officialToNamedWeights(stateDict, model, { source });
    model.setNamedWeights(named);
    tf.dispose(Object.values(named));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
