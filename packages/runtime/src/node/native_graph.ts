/**
 * Whole networks on onnxruntime-node, for inference: a tfjs-layers model (its own layer list and
 * its current weights, never a hand-written copy) becomes one ONNX graph with dynamic batch,
 * height and width — so one compiled session per network, whatever the image sizes — and runs in
 * one call on onnxruntime's native CPU engine instead of layer by layer on tfjs.
 *
 * The graph computes in NCHW with one transpose at each boundary (the model's NHWC input and
 * output); a batch norm that directly follows a convolution without activation is folded into
 * its kernel and bias, any other one becomes one per-channel multiply-add; activations follow
 * their convolution as separate nodes, which onnxruntime fuses into the convolution. Supported
 * layers: Conv2D, Conv2DTranspose, Dense (on the channel axis), BatchNormalization, ReLU,
 * LeakyReLU, Activation, Softmax (channel axis), ZeroPadding2D, UpSampling2D, Concatenate, Add,
 * Dropout; anything else leaves the network to tfjs (one log line). Training never uses this.
 *
 * The tfjs path stays the reference: {@link enableNativeNetworks} registers this engine through
 * `setNetworkEngine` (`@disco/runtime`), and a model's `runNetwork(net, x)` falls back to
 * `net.apply(x)` whenever the engine declines. Results equal the tfjs path to float32 rounding
 * (tested on the shipped and the published models), and do not depend on the thread count
 * (tested: 1 and 2 threads give the same bytes; see {@link NATIVE_INFERENCE_THREADS_ENV}). Each
 * compiled network owns one session — one per network whatever the image sizes — and with
 * `threads > 1` one pool of `threads − 1` threads; at most {@link MAX_NATIVE_NETWORKS} are kept.
 */
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { setNetworkEngine, type NetworkEngine } from '../network_engine.js';
import { encodeOnnxModel, onnxActivation, type OnnxFloatConstant, type OnnxGraph, type OnnxInt64Constant, type OnnxNode } from './onnx.js';
import { loadOrt, type BindingSession, type OrtModules, type OrtTensor } from './ort.js';

/** Environment variable: `auto` (default: whole networks on onnxruntime-node when it loads), `onnxruntime` (fail without it), `tfjs` (never). */
export const NATIVE_INFERENCE_ENV = 'DISCO_INFERENCE';

/**
 * Environment variable: onnxruntime threads per network run, 1 … the core count (default: all
 * cores on the main thread, 1 in a worker thread, so workers split the cores). The results do not
 * depend on it: onnxruntime splits a whole-graph convolution between threads by output, never
 * inside a sum, and the tests check 1 and 2 threads give the same bytes.
 */
export const NATIVE_INFERENCE_THREADS_ENV = 'DISCO_INFERENCE_THREADS';

/**
 * Networks compiled at once, per process (least recently used are freed first). Each holds its
 * weights natively and, with more than one thread, its own pool of `threads − 1` threads, so this
 * bounds the process's threads and native memory however many models and image sizes it sees.
 */
export const MAX_NATIVE_NETWORKS = 6;

/** A model that is not a plain graph of supported layers: it stays on tfjs. */
export class UnsupportedNetwork extends Error {}

// ---------------------------------------------------------------------------------------------
// tfjs-layers model → ONNX graph (pure)

/** A functional tfjs-layers model's graph, as far as the converter reads it. */
type Layer = tfl.layers.Layer;
type Symbolic = tfl.SymbolicTensor;

/** Config fields read by the converter (tfjs-layers `getConfig()` values). */
interface LayerConfig {
  activation?: string;
  alpha?: number;
  axis?: number | number[];
  center?: boolean;
  dataFormat?: string;
  dilationRate?: number | number[];
  epsilon?: number;
  interpolation?: string;
  kernelSize?: number | number[];
  maxValue?: number | null;
  padding?: string | number | number[] | number[][];
  scale?: boolean;
  size?: number | number[];
  strides?: number | number[];
  useBias?: boolean;
}

const pair = (v: number | number[] | undefined, dflt: number): [number, number] => (v == null ? [dflt, dflt] : Array.isArray(v) ? [v[0]!, v[1] ?? v[0]!] : [v, v]);

/** The single inbound node of a layer (shared layers are not supported). */
function inbound(layer: Layer): { inputs: Symbolic[]; outputs: Symbolic[] } {
  if (layer.inboundNodes.length !== 1) throw new UnsupportedNetwork(`layer ${layer.name} is applied ${layer.inboundNodes.length} times`);
  const node = layer.inboundNodes[0]!;
  return { inputs: node.inputTensors, outputs: node.outputTensors };
}

/** The layer's weights by their last name part (`kernel`, `bias`, `gamma`, …), as float32 arrays. */
function weightsOf(layer: Layer): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const w of layer.weights) {
    const t = w.read();
    const key = w.originalName.split('/').pop()!;
    out.set(key, { shape: t.shape, values: t.dataSync() as Float32Array });
  }
  return out;
}

/** tfjs `[kh,kw,a,b]` → `[b,a,kh,kw]` (Conv `OIHW` from HWIO; ConvTranspose `[in,out,kh,kw]` from `[kh,kw,out,in]`). */
function toOIHW(k: { shape: number[]; values: Float32Array }): { dims: number[]; values: Float32Array } {
  const [kh, kw, a, b] = k.shape as [number, number, number, number];
  const out = new Float32Array(k.values.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < a; i++) for (let o = 0; o < b; o++) out[((o * a + i) * kh + y) * kw + x] = k.values[((y * kw + x) * a + i) * b + o]!;
  return { dims: [b, a, kh, kw], values: out };
}


/** A convolution whose kernel and bias may still absorb a following batch norm. */
interface PendingConv {
  kernel: OnnxFloatConstant;
  bias: OnnxFloatConstant;
  /** Its output value (before any activation). */
  value: string;
  /** Kernel layout: `Conv` `[O,I,kh,kw]` (axis 0 is the output channel) or `ConvTranspose` `[I,O,kh,kw]` (axis 1). */
  outAxis: 0 | 1;
}

/** What {@link layersModelToOnnx} produced: the graph and how many batch norms it folded. */
export interface ConvertedNetwork {
  /** The ONNX graph: input `x` `[N,H,W,C]` (NHWC, dynamic N, H, W), output `y` NHWC. */
  graph: OnnxGraph;
  /** Batch norms folded into the preceding convolution. */
  foldedBatchNorms: number;
  /** Batch norms left as a per-channel multiply-add (after an activation). */
  affineBatchNorms: number;
  /** Channels of the input. */
  inChannels: number;
}

/**
 * Converts a functional tfjs-layers model (one `[N,H,W,C]` float input, one 4-D output; each
 * layer applied once) with its current weights into one NCHW ONNX graph with NHWC boundaries.
 * Throws {@link UnsupportedNetwork} (one line) for anything else.
 *
 * @example
 * const { graph } = layersModelToOnnx(model.backbone);
 * const bytes = encodeOnnxModel(graph);
 */
export function layersModelToOnnx(net: tfl.LayersModel): ConvertedNetwork {
  if (net.inputs.length !== 1 || net.outputs.length !== 1) throw new UnsupportedNetwork(`${net.inputs.length} inputs and ${net.outputs.length} outputs (one of each supported)`);
  const input = net.inputs[0]!;
  const output = net.outputs[0]!;
  if (input.shape.length !== 4 || output.shape.length !== 4) throw new UnsupportedNetwork('input and output must be 4-D [batch, height, width, channels]');
  const inChannels = input.shape[3];
  if (inChannels == null) throw new UnsupportedNetwork('the input has no static channel count');

  const nodes: OnnxNode[] = [];
  const floats: OnnxFloatConstant[] = [];
  const ints: OnnxInt64Constant[] = [];
  /** Symbolic tensor id → ONNX value name (NCHW). */
  const value = new Map<number, string>();
  /** ONNX value → the convolution that produced it, while a batch norm may still fold into it. */
  const pending = new Map<string, PendingConv>();
  /** How many layers read each symbolic tensor (a convolution read twice cannot absorb a norm). */
  const readers = new Map<number, number>();
  for (const layer of net.layers) for (const t of layer.inboundNodes.length === 1 ? layer.inboundNodes[0]!.inputTensors : []) readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
  readers.set(output.id, (readers.get(output.id) ?? 0) + 1);
  let folded = 0;
  let affine = 0;
  let n = 0;
  const fresh = (tag: string): string => `${tag}_${n++}`;
  const constant = (tag: string, dims: number[], values: Float32Array): string => {
    const name = fresh(tag);
    floats.push({ name, dims, values });
    return name;
  };
  const intConstant = (tag: string, values: number[]): string => {
    const name = fresh(tag);
    ints.push({ name, values });
    return name;
  };
  const valueOf = (t: Symbolic): string => {
    const v = value.get(t.id);
    if (v == null) throw new UnsupportedNetwork(`tensor ${t.name} is used before it is computed`);
    return v;
  };
  const channelsLast = (layer: Layer, c: LayerConfig): void => {
    if (c.dataFormat != null && c.dataFormat !== 'channelsLast') throw new UnsupportedNetwork(`layer ${layer.name}: dataFormat ${c.dataFormat}`);
  };
  const channelAxis = (layer: Layer, axis: number | number[] | undefined): void => {
    const a = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : NaN) : (axis ?? -1);
    if (a !== -1 && a !== 3) throw new UnsupportedNetwork(`layer ${layer.name}: axis ${String(axis)} (only the channel axis)`);
  };
  /** Emits `out = act(pre)`; `linear` aliases the value. */
  const activate = (act: string | undefined, pre: string, sym: Symbolic): void => {
    if (act == null || act === 'linear') {
      value.set(sym.id, pre);
      return;
    }
    const out = fresh('act');
    const act2 = onnxActivation(act, pre, out);
    if (!act2) throw new UnsupportedNetwork(`activation '${act}'`);
    nodes.push(...act2);
    value.set(sym.id, out);
  };

  nodes.push({ op: 'Transpose', inputs: ['x'], outputs: ['x_nchw'], attrs: { perm: [0, 3, 1, 2] } });
  for (const layer of net.layers) {
    const cls = layer.getClassName();
    const c = layer.getConfig() as LayerConfig;
    const { inputs, outputs } = inbound(layer);
    if (outputs.length !== 1) throw new UnsupportedNetwork(`layer ${layer.name} has ${outputs.length} outputs`);
    const out = outputs[0]!;
    if (cls === 'InputLayer') {
      if (out.id !== input.id) throw new UnsupportedNetwork(`input layer ${layer.name} is not the model's input`);
      value.set(out.id, 'x_nchw');
      continue;
    }
    if (cls !== 'Concatenate' && cls !== 'Add' && inputs.length !== 1) throw new UnsupportedNetwork(`layer ${layer.name} (${cls}) has ${inputs.length} inputs`);
    const x = inputs.map(valueOf);
    const w = layer.weights.length > 0 ? weightsOf(layer) : new Map<string, { shape: number[]; values: Float32Array }>();
    switch (cls) {
      case 'Conv2D':
      case 'Conv2DTranspose':
      case 'Dense': {
        channelsLast(layer, c);
        const k = w.get('kernel');
        if (k == null) throw new UnsupportedNetwork(`layer ${layer.name}: no kernel`);
        let kernel: { dims: number[]; values: Float32Array };
        const attrs: Record<string, number | string | number[]> = {};
        if (cls === 'Dense') {
          if (inputs[0]!.shape.length !== 4) throw new UnsupportedNetwork(`layer ${layer.name}: Dense on a ${inputs[0]!.shape.length}-D input`);
          kernel = toOIHW({ shape: [1, 1, k.shape[0]!, k.shape[1]!], values: k.values });
        } else {
          kernel = toOIHW(k);
          const [kh, kw] = [k.shape[0]!, k.shape[1]!];
          const [sh, sw] = pair(c.strides, 1);
          const [dh, dw] = pair(c.dilationRate, 1);
          attrs['kernel_shape'] = [kh, kw];
          attrs['strides'] = [sh, sw];
          if (cls === 'Conv2D') {
            attrs['dilations'] = [dh, dw];
            if (c.padding === 'valid') attrs['pads'] = [0, 0, 0, 0];
            else if (c.padding !== 'same') throw new UnsupportedNetwork(`layer ${layer.name}: padding ${String(c.padding)}`);
            else if (sh === 1 && sw === 1) {
              // tfjs 'same' at stride 1: total (k−1)·d, the odd row at the end.
              const th = dh * (kh - 1);
              const tw = dw * (kw - 1);
              attrs['pads'] = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
            } else attrs['auto_pad'] = 'SAME_UPPER'; // TensorFlow's 'same': the odd row at the end, depends on the input size
          } else {
            // Transposed: the output has in·s rows ('same') or (in−1)·s + k ('valid'); the padding is the forward conv's.
            if (dh !== 1 || dw !== 1) throw new UnsupportedNetwork(`layer ${layer.name}: dilated transposed convolution`);
            if (kh < sh || kw < sw) throw new UnsupportedNetwork(`layer ${layer.name}: transposed kernel smaller than its stride`);
            if (c.padding === 'valid') attrs['pads'] = [0, 0, 0, 0];
            else if (c.padding === 'same') {
              const [th, tw] = [kh - sh, kw - sw];
              attrs['pads'] = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
            } else throw new UnsupportedNetwork(`layer ${layer.name}: padding ${String(c.padding)}`);
          }
        }
        const outAxis = cls === 'Conv2DTranspose' ? 1 : 0;
        const co = kernel.dims[outAxis]!;
        const b = w.get('bias');
        const kName = constant(`${layer.name}_w`, kernel.dims, kernel.values);
        const bName = constant(`${layer.name}_b`, [co], b != null ? Float32Array.from(b.values) : new Float32Array(co));
        const pre = fresh(layer.name);
        nodes.push({ op: cls === 'Conv2DTranspose' ? 'ConvTranspose' : 'Conv', inputs: [x[0]!, kName, bName], outputs: [pre], attrs });
        const act = c.activation ?? 'linear';
        if (act === 'linear' && (readers.get(out.id) ?? 0) === 1) pending.set(pre, { kernel: floats.at(-2)!, bias: floats.at(-1)!, value: pre, outAxis });
        activate(act, pre, out);
        break;
      }
      case 'BatchNormalization': {
        channelAxis(layer, c.axis);
        const mean = w.get('moving_mean');
        const variance = w.get('moving_variance');
        if (mean == null || variance == null) throw new UnsupportedNetwork(`layer ${layer.name}: no moving statistics`);
        const gamma = c.scale === false ? null : w.get('gamma');
        const beta = c.center === false ? null : w.get('beta');
        const eps = c.epsilon ?? 1e-3;
        const C = mean.values.length;
        // y = (x − mean)·γ/√(var + ε) + β = x·s + t, computed in float64.
        const s = new Float64Array(C);
        const t = new Float64Array(C);
        for (let i = 0; i < C; i++) {
          s[i] = (gamma?.values[i] ?? 1) / Math.sqrt(variance.values[i]! + eps);
          t[i] = (beta?.values[i] ?? 0) - mean.values[i]! * s[i]!;
        }
        const conv = pending.get(x[0]!);
        if (conv != null) {
          // Fold into the convolution: W'[o,…] = W[o,…]·s[o], b' = b·s + t.
          const { kernel, bias, outAxis } = conv;
          const [d0, d1] = kernel.dims as [number, number];
          const inner = kernel.values.length / (d0 * d1);
          for (let a = 0; a < d0; a++) for (let b2 = 0; b2 < d1; b2++) {
            const o = outAxis === 0 ? a : b2;
            const base = (a * d1 + b2) * inner;
            for (let r = 0; r < inner; r++) kernel.values[base + r] = kernel.values[base + r]! * s[o]!;
          }
          for (let o = 0; o < C; o++) bias.values[o] = bias.values[o]! * s[o]! + t[o]!;
          pending.delete(x[0]!);
          value.set(out.id, x[0]!);
          folded += 1;
        } else {
          const mul = fresh(`${layer.name}_mul`);
          const y = fresh(layer.name);
          nodes.push(
            { op: 'Mul', inputs: [x[0]!, constant(`${layer.name}_s`, [1, C, 1, 1], Float32Array.from(s))], outputs: [mul] },
            { op: 'Add', inputs: [mul, constant(`${layer.name}_t`, [1, C, 1, 1], Float32Array.from(t))], outputs: [y] },
          );
          value.set(out.id, y);
          affine += 1;
        }
        break;
      }
      case 'LeakyReLU': {
        const y = fresh(layer.name);
        nodes.push({ op: 'LeakyRelu', inputs: [x[0]!], outputs: [y], attrs: { alpha: { float: c.alpha ?? 0.3 } } });
        value.set(out.id, y);
        break;
      }
      case 'ReLU':
        if (c.maxValue != null) throw new UnsupportedNetwork(`layer ${layer.name}: ReLU with maxValue`);
        activate('relu', x[0]!, out);
        break;
      case 'Activation':
        activate(c.activation, x[0]!, out);
        break;
      case 'Softmax':
        channelAxis(layer, c.axis);
        activate('softmax', x[0]!, out);
        break;
      case 'Dropout':
        value.set(out.id, x[0]!);
        break;
      case 'ZeroPadding2D': {
        channelsLast(layer, c);
        const p = c.padding as number | number[] | number[][];
        const [[t, b], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]] : Array.isArray(p[0]) ? (p as number[][]) : [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
        const y = fresh(layer.name);
        nodes.push({ op: 'Pad', inputs: [x[0]!, intConstant('pads', [0, 0, t!, l!, 0, 0, b!, r!])], outputs: [y], attrs: { mode: 'constant' } });
        value.set(out.id, y);
        break;
      }
      case 'UpSampling2D': {
        channelsLast(layer, c);
        const [sh, sw] = pair(c.size, 2);
        const mode = c.interpolation ?? 'nearest';
        if (mode !== 'nearest' && mode !== 'bilinear') throw new UnsupportedNetwork(`layer ${layer.name}: interpolation ${mode}`);
        const y = fresh(layer.name);
        // tfjs: nearest repeats each pixel; bilinear without corner alignment or half-pixel centres.
        const attrs: Record<string, string> = mode === 'nearest' ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } : { mode: 'linear', coordinate_transformation_mode: 'asymmetric' };
        nodes.push({ op: 'Resize', inputs: [x[0]!, '', constant('scales', [4], Float32Array.from([1, 1, sh, sw]))], outputs: [y], attrs });
        value.set(out.id, y);
        break;
      }
      case 'Concatenate': {
        channelAxis(layer, c.axis);
        const y = fresh(layer.name);
        nodes.push({ op: 'Concat', inputs: x, outputs: [y], attrs: { axis: 1 } });
        value.set(out.id, y);
        break;
      }
      case 'Add': {
        const y = fresh(layer.name);
        nodes.push({ op: x.length === 2 ? 'Add' : 'Sum', inputs: x, outputs: [y] });
        value.set(out.id, y);
        break;
      }
      default:
        throw new UnsupportedNetwork(`layer ${layer.name}: ${cls} is not supported`);
    }
  }
  nodes.push({ op: 'Transpose', inputs: [valueOf(output)], outputs: ['y'], attrs: { perm: [0, 2, 3, 1] } });
  const outChannels = output.shape[3];
  return {
    graph: {
      inputs: [{ name: 'x', shape: ['N', 'H', 'W', inChannels] }],
      outputs: [{ name: 'y', shape: ['N', 'OH', 'OW', outChannels ?? 'C'] }],
      nodes,
      constants: ints,
      floats,
    },
    foldedBatchNorms: folded,
    affineBatchNorms: affine,
    inChannels,
  };
}

// ---------------------------------------------------------------------------------------------
// onnxruntime sessions



/** One compiled network. */
interface Compiled {
  session: BindingSession;
  /** The weights' tensor data ids when compiled: a training step or a weight load replaces them. */
  weightIds: object[];
  folded: number;
  affine: number;
}

const weightIds = (net: tfl.LayersModel): object[] => net.weights.map((w) => w.read().dataId);
const sameIds = (a: readonly object[], b: readonly object[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Options of {@link enableNativeNetworks}. */
export interface NativeNetworkOptions {
  /** `auto` (default): use onnxruntime-node if it loads; `onnxruntime`: fail if it does not; `tfjs`: do nothing. Default `$DISCO_INFERENCE`, else `auto`. */
  mode?: 'auto' | 'onnxruntime' | 'tfjs';
  /** onnxruntime threads per network run, 1 … the core count. Default `$DISCO_INFERENCE_THREADS`, else all cores on the main thread and 1 in a worker thread. */
  threads?: number;
  /** Where the one line about a network left on tfjs goes. Default: stderr. */
  log?: (line: string) => void;
}

/** What {@link enableNativeNetworks} did. */
export interface NativeNetworkInfo {
  /** Whether whole networks now run on onnxruntime at inference. */
  enabled: boolean;
  /** `whole networks on onnxruntime-node <version>, <n> thread(s)` when enabled, else why not. */
  detail: string;
  /** Threads per run when enabled. */
  threads?: number;
}

/**
 * The {@link NetworkEngine} on onnxruntime-node: one session per network (dynamic sizes), built
 * on first use from the network's layers and current weights, rebuilt when its weights change.
 */
export class NativeNetworks implements NetworkEngine {
  private readonly compiled = new Map<tfl.LayersModel, Compiled>();
  /** Networks onnxruntime or the converter refused, with the reason: they run on tfjs. */
  private readonly refused = new WeakMap<tfl.LayersModel, string>();
  readonly detail: string;

  constructor(
    private readonly ort: OrtModules,
    readonly threads: number,
    private readonly log: (line: string) => void,
  ) {
    this.detail = `whole networks on onnxruntime-node ${ort.version}, ${threads} thread${threads === 1 ? '' : 's'}`;
  }

  run(net: tfl.LayersModel, x: tf.Tensor): tf.Tensor | null {
    if (x.rank !== 4 || x.dtype !== 'float32' || this.refused.has(net)) return null;
    let c: Compiled | undefined;
    try {
      c = this.session(net);
    } catch (e) {
      this.refuse(net, e);
      return null;
    }
    let out: OrtTensor;
    try {
      out = c.session.run({ x: new this.ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) }, { y: null }, {})['y']!;
    } catch (e) {
      // A shape this network cannot take (tfjs would assert) or a runtime failure: let tfjs run it.
      this.log(`inference: ${net.name} at [${x.shape}] left to tfjs: ${firstLine(e)}`);
      return null;
    }
    return tf.tensor(out.data as Float32Array, [...out.dims]);
  }

  /** The compiled session of `net`, built (or rebuilt after its weights changed) on demand. */
  private session(net: tfl.LayersModel): Compiled {
    const ids = weightIds(net);
    const have = this.compiled.get(net);
    if (have != null) {
      this.compiled.delete(net); // re-inserted below: most recently used last
      if (sameIds(have.weightIds, ids)) {
        this.compiled.set(net, have);
        return have;
      }
      have.session.dispose();
    }
    const converted = layersModelToOnnx(net);
    const bytes = encodeOnnxModel(converted.graph);
    const session = new this.ort.InferenceSession();
    session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Idle pool threads must not spin: tfjs runs on the same cores between two networks.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
    if (this.compiled.size >= MAX_NATIVE_NETWORKS) {
      const [oldNet, old] = this.compiled.entries().next().value as [tfl.LayersModel, Compiled];
      old.session.dispose();
      this.compiled.delete(oldNet);
    }
    const c: Compiled = { session, weightIds: ids, folded: converted.foldedBatchNorms, affine: converted.affineBatchNorms };
    this.compiled.set(net, c);
    return c;
  }

  private refuse(net: tfl.LayersModel, e: unknown): void {
    const why = firstLine(e);
    this.refused.set(net, why);
    this.log(`inference: ${net.name} runs on tfjs (onnxruntime ${e instanceof UnsupportedNetwork ? 'cannot express it' : 'refused it'}: ${why})`);
  }

  /** Compiled networks: name, folded and affine batch norms. */
  state(): { threads: number; networks: Array<{ name: string; foldedBatchNorms: number; affineBatchNorms: number }> } {
    return { threads: this.threads, networks: [...this.compiled].map(([net, c]) => ({ name: net.name, foldedBatchNorms: c.folded, affineBatchNorms: c.affine })) };
  }

  /** Frees every session. */
  dispose(): void {
    for (const c of this.compiled.values()) c.session.dispose();
    this.compiled.clear();
  }
}

const firstLine = (e: unknown): string => String(e instanceof Error ? e.message : e).split('\n')[0] ?? '';

function resolveMode(mode: NativeNetworkOptions['mode'], env: NodeJS.ProcessEnv): 'auto' | 'onnxruntime' | 'tfjs' {
  const raw = env[NATIVE_INFERENCE_ENV]?.trim();
  const [value, source] = mode != null ? [mode, 'mode'] : raw ? [raw, NATIVE_INFERENCE_ENV] : ['auto', 'default'];
  if (value !== 'auto' && value !== 'onnxruntime' && value !== 'tfjs') throw new Error(`${source}: unknown inference engine '${value}'; valid: auto, onnxruntime, tfjs`);
  return value;
}

/**
 * onnxruntime threads per network run: `threads`, else `$DISCO_INFERENCE_THREADS`, else all
 * cores on the main thread and 1 in a worker thread; refused with one line unless an integer
 * from 1 to the core count.
 */
export function resolveNetworkThreads(threads: number | undefined, env: NodeJS.ProcessEnv = process.env, mainThread: boolean = isMainThread): number {
  const fromEnv = env[NATIVE_INFERENCE_THREADS_ENV]?.trim();
  const name = threads != null ? 'threads' : NATIVE_INFERENCE_THREADS_ENV;
  const cores = availableParallelism();
  const raw = threads != null ? String(threads) : fromEnv ? fromEnv : String(mainThread ? cores : 1);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > cores) throw new Error(`${name} must be an integer from 1 to ${cores} (the cores of this machine); got '${raw}'`);
  return n;
}

let engine: NativeNetworks | null = null;

/**
 * Runs the frozen CNNs of every model on onnxruntime-node at inference, one graph per network
 * (`runNetwork` of `@disco/runtime`); idempotent, and called again with another thread count it
 * starts over. Needs no particular tfjs backend. {@link disableNativeNetworks} undoes it.
 *
 * @example
 * enableNativeNetworks(); // { enabled: true, detail: 'whole networks on onnxruntime-node 1.30.0, 1 thread' }
 */
export function enableNativeNetworks(options: NativeNetworkOptions = {}, env: NodeJS.ProcessEnv = process.env): NativeNetworkInfo {
  const mode = resolveMode(options.mode, env);
  if (mode === 'tfjs') {
    disableNativeNetworks();
    return { enabled: false, detail: `${NATIVE_INFERENCE_ENV}=tfjs` };
  }
  const threads = resolveNetworkThreads(options.threads, env);
  if (engine != null && engine.threads === threads) return { enabled: true, detail: engine.detail, threads };
  disableNativeNetworks();
  const ort = loadOrt();
  if (typeof ort === 'string') {
    if (mode === 'onnxruntime') throw new Error(`inference: ${ort}`);
    return { enabled: false, detail: ort };
  }
  ort.initOrt();
  engine = new NativeNetworks(ort, threads, options.log ?? ((l) => process.stderr.write(`${l}\n`)));
  setNetworkEngine(engine);
  return { enabled: true, detail: engine.detail, threads };
}

/** Back to tfjs for every network; frees the sessions. */
export function disableNativeNetworks(): void {
  if (engine == null) return;
  setNetworkEngine(null);
  engine.dispose();
  engine = null;
}

/** Whether whole networks run natively, with how many threads, and the compiled networks. */
export function nativeNetworkState(): { enabled: boolean; threads: number | null; networks: Array<{ name: string; foldedBatchNorms: number; affineBatchNorms: number }> } {
  const s = engine?.state();
  return { enabled: engine != null, threads: s?.threads ?? null, networks: s?.networks ?? [] };
}
