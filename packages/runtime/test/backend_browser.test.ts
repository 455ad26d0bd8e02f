import * as path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKEND_CHOICES, BROWSER_BACKEND_CHOICES, describeBackend, detectPlatform, selectBackend } from '../src/index.js';

// The browser order run under Node with `platform: 'browser'`: Node has no navigator.gpu and
// tfjs-backend-webgl registers nothing outside a browser, so these cover the fallback chain.
// The real browser path (webgl in headless Chromium) is exercised by packages/demo's tests.
describe('selectBackend, browser platform', () => {
  it('detects Node as node', () => {
    expect(detectPlatform()).toBe('node');
  });
  it('auto without wasmPaths falls back through webgpu, webgl and wasm to cpu, saying why in the log line', async () => {
    const lines: string[] = [];
    const info = await selectBackend({ platform: 'browser', log: (l) => lines.push(l) });
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.platform).toBe('browser');
    expect(info.skipped).toEqual([
      'webgpu: navigator.gpu is not available (no WebGPU in this browser or context)',
      'webgl: not registered (import @tensorflow/tfjs-backend-webgl)',
      'wasm: no wasmPaths given (a page must say where its .wasm binaries are served)',
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^backend: cpu \(pure JavaScript; slow for training; fell back from webgpu: navigator\.gpu is not available .*; webgl: not registered .*; wasm: no wasmPaths given .*\)$/);
  });
  it('auto with wasmPaths (one URL per binary) picks wasm', async () => {
    const dir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    const at = (f: string) => path.join(dir, 'dist', f);
    const info = await selectBackend({
      platform: 'browser',
      wasmPaths: { 'tfjs-backend-wasm.wasm': at('tfjs-backend-wasm.wasm'), 'tfjs-backend-wasm-simd.wasm': at('tfjs-backend-wasm-simd.wasm'), 'tfjs-backend-wasm-threaded-simd.wasm': at('tfjs-backend-wasm-threaded-simd.wasm') },
    });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped.map((s) => s.split(':')[0])).toEqual(['webgpu', 'webgl']);
  });
  it('an explicit webgl choice that cannot load fails with one line naming the reason', async () => {
    await expect(selectBackend({ platform: 'browser', backend: 'webgl' })).rejects.toThrow("backend 'webgl' is not available: webgl: not registered (import @tensorflow/tfjs-backend-webgl)");
  });
  it('validates against the browser choices in a browser and the Node choices in Node', async () => {
    await expect(selectBackend({ platform: 'browser', backend: 'tensorflow' })).rejects.toThrow(`backend: unknown 'tensorflow'; valid: ${BROWSER_BACKEND_CHOICES.join(', ')}`);
    await expect(selectBackend({ backend: 'webgl' })).rejects.toThrow(`backend: unknown 'webgl'; valid: ${BACKEND_CHOICES.join(', ')}`);
  });
  it('describes the GPU backends, and a fallback only in a browser', () => {
    expect(describeBackend({ name: 'webgl', nativePackage: null, skipped: [], platform: 'browser' })).toBe('backend: webgl (WebGL shaders)');
    expect(describeBackend({ name: 'webgl', nativePackage: null, skipped: ['webgpu: x'], platform: 'browser' })).toBe('backend: webgl (WebGL shaders; fell back from webgpu: x)');
    expect(describeBackend({ name: 'webgpu', nativePackage: null, skipped: [], platform: 'browser' })).toMatch(/^backend: webgpu /);
    expect(describeBackend({ name: 'wasm', nativePackage: null, skipped: ['tensorflow: x'] })).toBe('backend: wasm (XNNPACK; DISCO training kernels registered)');
  });
});

describe('selectBackend, browser platform with stand-ins for a page without a GPU', () => {
  // A page whose WebGPU has no adapter and whose WebGL is SwiftShader (a machine without a GPU);
  // the 'webgpu' and 'webgl' factories here are cpu backends under those names.
  const fakeGl = {
    RENDERER: 0x1f01,
    getExtension: (n: string) => (n === 'WEBGL_debug_renderer_info' ? { UNMASKED_RENDERER_WEBGL: 0x9246 } : null),
    getParameter: () => 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
  };
  beforeAll(() => {
    vi.stubGlobal('document', { createElement: () => ({ getContext: () => fakeGl }) });
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => null } });
    tf.registerBackend('webgl', () => new MathBackendCPU(), 0);
    tf.registerBackend('webgpu', () => new MathBackendCPU(), 0);
  });
  afterAll(() => {
    vi.unstubAllGlobals();
    tf.removeBackend('webgl');
    tf.removeBackend('webgpu');
  });
  it('auto skips an adapter-less WebGPU and a software-rendered WebGL, naming both', async () => {
    const info = await selectBackend({ platform: 'browser' });
    expect(info.name).toBe('cpu');
    expect(info.skipped[0]).toBe('webgpu: no WebGPU adapter');
    expect(info.skipped[1]).toMatch(/^webgl: software renderer only \(ANGLE .*SwiftShader driver\); wasm is faster on a CPU\)$/);
  });
  it('an explicit webgl choice uses the software renderer anyway', async () => {
    const info = await selectBackend({ platform: 'browser', backend: 'webgl' });
    expect(info.name).toBe('webgl');
    expect(tf.getBackend()).toBe('webgl');
    expect(describeBackend(info)).toBe('backend: webgl (WebGL shaders)');
  });
});
