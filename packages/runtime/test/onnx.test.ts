import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encodeOnnxModel } from '../src/node/onnx.js';

const require = createRequire(import.meta.url);

describe('encodeOnnxModel', () => {
  it('writes a model onnxruntime loads and runs: LeakyRelu (float attribute) then Transpose (int list), shapes declared', async () => {
    const bytes = encodeOnnxModel({
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y', shape: [3, 2] }],
      nodes: [
        { op: 'LeakyRelu', inputs: ['x'], outputs: ['h'], attrs: { alpha: { float: 0.25 } } },
        { op: 'Transpose', inputs: ['h'], outputs: ['y'], attrs: { perm: [1, 0] } },
      ],
    });
    const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['x']);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, -4, 2, -8, 3, 0]), [2, 3]) });
    expect(out['y']!.dims).toEqual([3, 2]);
    expect(Array.from(out['y']!.data as Float32Array)).toEqual([1, -2, -1, 3, 2, 0]);
  });

  it('stores int64 constants as initializers (Reshape by a constant shape)', async () => {
    const bytes = encodeOnnxModel({
      inputs: [{ name: 'x', shape: [6] }],
      outputs: [{ name: 'y', shape: [2, 3] }],
      nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
      constants: [{ name: 'shape', values: [2, -1] }],
    });
    const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([0, 1, 2, 3, 4, 5]), [6]) });
    expect(out['y']!.dims).toEqual([2, 3]);
  });

  it('rejects a non-integer plain attribute with a one-line error naming it', () => {
    expect(() => encodeOnnxModel({ inputs: [], outputs: [], nodes: [{ op: 'Elu', inputs: ['x'], outputs: ['y'], attrs: { alpha: 0.5 } }] })).toThrow(
      /^onnx attribute alpha: 0\.5 is not an integer \(wrap floats as \{ float \}\)$/,
    );
  });
});
