import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeBackends, expectClose, randomTensor } from '@disco/runtime/testing';
import { flattenTokens, resolveSinePositionOptions, sinePositionEncoding2D, unflattenTokens } from '../src/index.js';

describeBackends(describe, beforeAll, 'sinePositionEncoding2D', () => {
  it('hand-computed entries of a 2×3 grid, 8 channels (npf 4, dimT = [1, 1, 100, 100])', () => {
    const p = sinePositionEncoding2D(2, 3, { channels: 8 });
    expect(p.shape).toEqual([1, 2, 3, 8]);
    expect(p.dtype).toBe('float32');
    const v = p.arraySync()[0]!;
    // Row 0: y = 1/(2+1e-6)·2π = π(1 − 5e-7) ≈ 3.14159108; row 1: y = 2/(2+1e-6)·2π ≈ 6.28318216.
    // Column 1: x = 2/(3+1e-6)·2π ≈ 4.18879; column 2: x ≈ 6.28318322.
    // Channels 0..3 are y: sin(y), cos(y), sin(y/100), cos(y/100); 4..7 are x likewise.
    const expected00 = [1.5708e-6, -1, 0.031410759, 0.999506560, 1.5708e-6, -1, 0.031410759, 0.999506560];
    // (0,0): x for column 0 is 1/(3+1e-6)·2π ≈ 2.0943944: sin = 0.8660254, cos = -0.5, /100: 0.020942 → sin 0.0209424, cos 0.99978068
    expected00.splice(4, 4, 0.86602540, -0.5, 0.020942419, 0.999780683);
    expectClose(v[0]![0]!, expected00, { rtol: 0, atol: 2e-6, what: '(0,0)' });
    // (1,1): y ≈ 2π(1 − 5e-7): sin ≈ -3.1416e-6, cos ≈ 1; y/100 = 0.0628318: sin 0.06279052, cos 0.99802673
    //        x = 4.18879: sin = -0.8660254, cos = -0.5; x/100 = 0.0418879: sin 0.04187565, cos 0.99912283
    expectClose(v[1]![1]!, [-3.1416e-6, 1, 0.062790520, 0.998026728, -0.86602540, -0.5, 0.041875654, 0.999122830], { rtol: 0, atol: 2e-6, what: '(1,1)' });
    p.dispose();
  });

  it('unnormalised coordinates (i + 1, j + 1), temperature 4, 4 channels at (1, 2)', () => {
    // npf 2: dimT = [1, 1]; y = 2 → sin 2, cos 2; x = 3 → sin 3, cos 3.
    const p = sinePositionEncoding2D(2, 3, { channels: 4, normalize: false, temperature: 4 });
    expectClose(p.arraySync()[0]![1]![2]!, [0.909297427, -0.416146837, 0.141120008, -0.989992497], { rtol: 0, atol: 1e-6 });
    p.dispose();
    // 8 channels, temperature 4: dimT = [1, 1, 2, 2]; (0, 0): y = x = 1 → [sin 1, cos 1, sin .5, cos .5] twice
    const q = sinePositionEncoding2D(1, 1, { channels: 8, normalize: false, temperature: 4 });
    const e = [0.841470985, 0.540302306, 0.479425539, 0.877582562];
    expectClose(q, [...e, ...e], { rtol: 0, atol: 1e-6 });
    q.dispose();
  });

  it('rejects bad arguments', () => {
    expect(() => sinePositionEncoding2D(0, 3)).toThrow(/sinePositionEncoding2D: height must be a positive integer/);
    expect(() => sinePositionEncoding2D(2, 2.5)).toThrow(/sinePositionEncoding2D: width/);
    expect(() => sinePositionEncoding2D(2, 2, { channels: 6 })).toThrow(/resolveSinePositionOptions: channels must be a multiple of 4/);
    expect(() => resolveSinePositionOptions({ temp: 1 } as never)).toThrow(/unknown option 'temp'; valid: channels, temperature, normalize, scale, epsilon/);
  });
});


describeBackends(describe, beforeAll, 'flattenTokens / unflattenTokens', () => {
  it('row-major: token t = row·w + col ([2,3,4,5] ↔ [2,12,5]); round trip; bad input', () => {
    const x = randomTensor([2, 3, 4, 5], 1);
    const t = flattenTokens(x as tf.Tensor4D);
    expect(t.shape).toEqual([2, 12, 5]);
    const xv = x.arraySync() as number[][][][];
    const tv = t.arraySync();
    expectClose(tv[1]![2 * 4 + 3]!, xv[1]![2]![3]!, { rtol: 0, atol: 0 });
    expectClose(unflattenTokens(t, 3, 4), x, { rtol: 0, atol: 0 });
    expect(() => unflattenTokens(t, 4, 4)).toThrow(/unflattenTokens: x has 12 tokens, expected height\*width = 16/);
    expect(() => flattenTokens(tf.zeros([2, 3]) as unknown as tf.Tensor4D)).toThrow(/flattenTokens: x must be/);
  });
});
