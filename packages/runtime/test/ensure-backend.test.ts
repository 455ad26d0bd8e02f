// ensureBackend: the silent backend set-up of the one-call library paths. One process per test
// file (Vitest forks), so the first test sees tfjs with no backend set.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { convolutionEngineStatus, disableNativeConvolutions, ensureBackend } from '../src/node.js';

describe('ensureBackend', () => {
  it('with none set: picks auto (wasm here) silently, concurrent calls share one selection; then keeps it; a named one switches', async () => {
    expect(tf.getBackend()).toBeFalsy();
    const writes: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const [a, b] = await Promise.all([ensureBackend(), ensureBackend()]);
      expect(a?.name).toBe('wasm');
      expect(b).toBe(a);
      expect(tf.getBackend()).toBe('wasm');
      expect(tf.tensor1d([1, 2]).shape).toEqual([2]); // usable at once
      expect(await ensureBackend()).toBeNull(); // kept
      expect(await ensureBackend({ backend: 'wasm' })).toBeNull();
      const c = await ensureBackend({ backend: 'cpu' });
      expect(c?.name).toBe('cpu');
      expect(tf.getBackend()).toBe('cpu');
      await tf.setBackend('wasm'); // a backend the program set itself is kept
      expect(await ensureBackend()).toBeNull();
      expect(tf.getBackend()).toBe('wasm');
    } finally {
      process.stderr.write = orig;
      disableNativeConvolutions();
    }
    expect(writes).toEqual([]);
    await expect(ensureBackend({ backend: 'nosuch' as 'cpu' })).rejects.toThrow(/^backend: unknown 'nosuch'; valid: auto, tensorflow, wasm, cpu$/);
  });

  it('convolutionEngineStatus names the engine, and the fix when onnxruntime-node is missing or turned off', () => {
    const here = convolutionEngineStatus({});
    expect(here.line).toMatch(here.native ? /^convolutions: onnxruntime-node \d+\.\d+\.\d+ \(native CPU engine; DISCO_CONV_THREADS threads per convolution, default 1\)$/ : /^convolutions: wasm \(XNNPACK, one thread; onnxruntime-node did not load: .*\)\. For the native engine \(paper-size inference 3.8× faster here\): ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node@\^1\.30$/);
    expect(convolutionEngineStatus({ DISCO_CONV: 'wasm' })).toEqual({ native: false, line: 'convolutions: wasm (XNNPACK; DISCO_CONV=wasm)' });
  });
});
