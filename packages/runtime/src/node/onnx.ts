/**
 * A minimal ONNX graph writer: just enough of the ONNX IR (onnx/onnx.proto, IR version 8) to
 * describe small graphs — one convolution and its layout transposes, or a whole CNN with its
 * weights and dynamic batch and image sizes — and encode them with protobufjs. Field numbers follow onnx.proto; only the messages and fields used here
 * are declared.
 */
import protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message TensorShapeProto { message Dimension { int64 dim_value = 1; string dim_param = 2; } repeated Dimension dim = 1; }
message TypeProto { message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; } Tensor tensor_type = 1; }
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; string name = 8; bytes raw_data = 9; }
message AttributeProto {
  string name = 1; float f = 2; int64 i = 3; bytes s = 4; repeated float floats = 7; repeated int64 ints = 8; int32 type = 20;
}
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; repeated AttributeProto attribute = 5; string domain = 7; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message ModelProto { int64 ir_version = 1; string producer_name = 2; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
`;

let modelType: protobuf.Type | null = null;
function model(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** ONNX `TensorProto.DataType` codes used here. */
export const ONNX_FLOAT = 1;
/** ONNX `TensorProto.DataType` code of int64. */
export const ONNX_INT64 = 7;

/** ONNX `AttributeProto.AttributeType` codes. */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** One attribute value: a number (int unless `float` is set), a string or an int list. */
export type OnnxAttribute = number | string | number[] | { float: number };

/** One graph node. */
export interface OnnxNode {
  /** ONNX operator type of the default domain, e.g. `Conv`. */
  op: string;
  /** Names of its input values, in the operator's order. */
  inputs: string[];
  /** Names of its output values. */
  outputs: string[];
  /** Operator attributes by name. */
  attrs?: Record<string, OnnxAttribute>;
}

/** A graph value with its element type and shape. */
export interface OnnxValue {
  /** Value name, unique in the graph. */
  name: string;
  /** Shape: a number per static dimension, a name (ONNX `dim_param`) per dynamic one. */
  shape: readonly (number | string)[];
  /** Default {@link ONNX_FLOAT}. */
  dtype?: number;
}

/** A constant int64 tensor stored in the graph. */
export interface OnnxInt64Constant {
  /** Value name, unique in the graph. */
  name: string;
  /** The 1-D tensor's entries (integers). */
  values: readonly number[];
}

/** A constant float32 tensor stored in the graph (weights, scales). */
export interface OnnxFloatConstant {
  /** Value name, unique in the graph. */
  name: string;
  /** Its shape. */
  dims: readonly number[];
  /** Its entries, row-major (`product(dims)` of them). */
  values: Float32Array;
}

/** A whole single-graph model. */
export interface OnnxGraph {
  /** Graph inputs, fed at each run. */
  inputs: OnnxValue[];
  /** Graph outputs. */
  outputs: OnnxValue[];
  /** Nodes in topological order. */
  nodes: OnnxNode[];
  /** int64 constants stored as initializers (shapes, pads, slice bounds). */
  constants?: OnnxInt64Constant[];
  /** float32 constants stored as initializers (weights). */
  floats?: OnnxFloatConstant[];
}

/** The default opset: 17 (ONNX 1.12), supported by every onnxruntime since 1.12. */
export const ONNX_OPSET = 17;

function attribute(name: string, v: OnnxAttribute): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  if (typeof v === 'object') return { name, type: ATTR.FLOAT, f: v.float };
  if (!Number.isInteger(v)) throw new Error(`onnx attribute ${name}: ${v} is not an integer (wrap floats as { float })`);
  return { name, type: ATTR.INT, i: v };
}

function valueInfo(v: OnnxValue): Record<string, unknown> {
  return { name: v.name, type: { tensor_type: { elem_type: v.dtype ?? ONNX_FLOAT, shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } } };
}

/**
 * Encodes a graph as an ONNX model (binary protobuf).
 *
 * @example
 * const bytes = encodeOnnxModel({
 *   inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1, 4] }],
 *   nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
 * });
 */
export function encodeOnnxModel(g: OnnxGraph, opset = ONNX_OPSET): Uint8Array {
  const initializer = (g.constants ?? []).map((c) => ({
    name: c.name,
    data_type: ONNX_INT64,
    dims: [c.values.length],
    raw_data: new Uint8Array(BigInt64Array.from(c.values, (x) => BigInt(x)).buffer),
  }));
  for (const f of g.floats ?? []) {
    const n = f.dims.reduce((a, b) => a * b, 1);
    if (f.values.length !== n) throw new Error(`onnx constant ${f.name}: ${f.values.length} values for dims [${f.dims}]`);
    // Little-endian float32, as ONNX raw_data requires (every platform onnxruntime-node ships for).
    initializer.push({ name: f.name, data_type: ONNX_FLOAT, dims: [...f.dims], raw_data: new Uint8Array(f.values.buffer as ArrayBuffer, f.values.byteOffset, f.values.byteLength) });
  }
  const message = {
    ir_version: 8,
    producer_name: '@disco/runtime',
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: g.nodes.map((n, i) => ({
        name: `n${i}`,
        op_type: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  };
  const type = model();
  return type.encode(type.fromObject(message)).finish();
}

/**
 * The ONNX node of a tfjs activation name (`relu`, `leakyrelu` with `alpha`, `tanh`, `sigmoid`,
 * `elu`, `selu`, `softplus`, `softmax` over axis 1, i.e. the channels of an NCHW value; `linear` is
 * an `Identity`), or null for one without an ONNX equivalent here (`relu6`, `prelu`, …). The one
 * mapping of both native engines (per-convolution kernels and whole networks).
 *
 * @example
 * ```ts
 * onnxActivation('relu', 'pre', 'out'); // [{ op: 'Relu', inputs: ['pre'], outputs: ['out'] }]
 * ```
 */
export function onnxActivation(name: string, input: string, output: string, alpha = 0.2): OnnxNode[] | null {
  const node = (op: string, attrs?: OnnxNode['attrs']): OnnxNode[] => [{ op, inputs: [input], outputs: [output], ...(attrs ? { attrs } : {}) }];
  switch (name) {
    case 'linear':
      return node('Identity');
    case 'relu':
      return node('Relu');
    case 'leakyrelu':
      return node('LeakyRelu', { alpha: { float: alpha } });
    case 'tanh':
      return node('Tanh');
    case 'sigmoid':
      return node('Sigmoid');
    case 'elu':
      return node('Elu', { alpha: { float: 1 } });
    case 'selu':
      return node('Selu');
    case 'softplus':
      return node('Softplus');
    case 'softmax':
      return node('Softmax', { axis: 1 });
    default:
      return null;
  }
}
