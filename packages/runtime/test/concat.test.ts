import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/index.js';
import { CONCAT_SHORT_ROW } from '../src/internal/kernels.js';
import { wasmOwnKernel } from '../src/internal/wasm_own.js';
import { randomTensor } from '../src/testing.js';

/** [name, shapes, axis, dtype]: short rows, long rows, a mix, empty parts, every rank used. */
const CASES: Array<[string, number[][], number, 'float32' | 'int32' | 'bool']> = [
  ['channels of two [8,64,64,4] (short rows)', [[8, 64, 64, 4], [8, 64, 64, 4]], 3, 'float32'],
  ['channels [2,5,6,1] + [2,5,6,32] (short and long rows)', [[2, 5, 6, 1], [2, 5, 6, 32]], -1, 'float32'],
  ['axis 1 of three rank-3 tensors (long rows)', [[3, 4, 20], [3, 7, 20], [3, 1, 20]], 1, 'float32'],
  ['axis 0 (one row each)', [[2, 3], [5, 3]], 0, 'float32'],
  ['int32 channels', [[4, 3, 2], [4, 3, 5]], 2, 'int32'],
  ['bool channels', [[4, 3, 2], [4, 3, 1]], 2, 'bool'],
  ['an empty part is skipped', [[3, 0], [3, 4], [3, 2]], 1, 'float32'],
  ['one non-empty part', [[3, 0], [3, 4]], 1, 'float32'],
];

function make(shape: number[], dtype: 'float32' | 'int32' | 'bool', seed: number): tf.Tensor {
  const t = randomTensor(shape, seed);
  if (dtype === 'float32') return t;
  const c = dtype === 'int32' ? tf.cast(tf.mul(t, 1000), 'int32') : tf.greater(t, 0);
  t.dispose();
  return c;
}

describe('Concat on wasm (DISCO kernel)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('replaced wasm’s own kernel and keeps it for strings and bool', () => {
    expect(wasmOwnKernel('Concat')).not.toBeNull();
    expect(tf.getKernel('Concat', 'wasm')!.kernelFunc).not.toBe(wasmOwnKernel('Concat'));
    expect(CONCAT_SHORT_ROW).toBeGreaterThan(4);
    const s = tf.concat([tf.tensor(['a', 'b']), tf.tensor(['c'])]);
    expect(s.arraySync()).toEqual(['a', 'b', 'c']);
    s.dispose();
  });

  for (const [name, shapes, axis, dtype] of CASES) {
    it(`${name}: the same bytes as wasm’s own kernel, no tensor left behind`, () => {
      const parts = shapes.map((s, i) => make(s, dtype, 10 + i));
      const before = tf.memory().numTensors;
      const ours = tf.concat(parts, axis);
      expect(tf.memory().numTensors).toBe(before + 1);
      const own = tf.engine().makeTensorFromTensorInfo(
        wasmOwnKernel('Concat')!({ inputs: parts as never, attrs: { axis } as never, backend: tf.backend() }) as tf.TensorInfo,
      );
      expect(ours.shape).toEqual(own.shape);
      expect(ours.dtype).toBe(own.dtype);
      expect(Buffer.from((ours.dataSync() as Float32Array).buffer).equals(Buffer.from((own.dataSync() as Float32Array).buffer))).toBe(true);
      tf.dispose([ours, own, ...parts]);
    });
  }

  it('a mismatched shape is one error naming the shapes', () => {
    const [a, b] = [tf.zeros([2, 3]), tf.zeros([3, 3])];
    expect(() => tf.concat([a, b], 1)).toThrow(/2,3.*3,3|shape/i);
    tf.dispose([a, b]);
  });
});
