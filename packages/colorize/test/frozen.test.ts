// The one frozen-network path: a registry by name, loadLayersModel from a URL (file:// here, as a
// browser fetches http://…/model.json), batch norm folded, cut at named layers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { nsfwInceptionFiles } from '../src/io/nsfw_inception.js';
import { cutFrozenModel, frozenNetwork, loadFrozenModel, loadFrozenNetwork, registerFrozenNetwork, unloadFrozenNetwork } from '../src/model/frozen.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-frozen-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('frozen networks (wasm)', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('one-line errors: an unregistered name, a registered network not yet loaded, a missing layer', async () => {
    expect(() => frozenNetwork('nope', ['mixed0'])).toThrow("frozen network 'nope' is not registered (import '@disco/colorize/node' in Node, or call registerFrozenNetwork('nope', source) in a browser)");
    await expect(loadFrozenNetwork('nope')).rejects.toThrow(/frozen network 'nope' is not registered/);
    registerFrozenNetwork('later', () => 'file:///nowhere/model.json');
    expect(() => frozenNetwork('later', ['mixed0'])).toThrow("frozen network 'later' is not loaded: await loadFrozenNetwork('later') first");
  });

  it("nsfw-inception from its served files (model.json + 6 .bin shards) at a file:// URL equals the registry's, bit for bit, at activation_1 and mixed5 [1,96,96,3]", async () => {
    const { modelJson, shards } = nsfwInceptionFiles();
    expect(shards.map((s) => s.name)).toEqual([1, 2, 3, 4, 5, 6].map((k) => `group1-shard${k}of6.bin`));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
    for (const s of shards) fs.writeFileSync(path.join(dir, s.name), s.bytes);
    const url = pathToFileURL(path.join(dir, 'model.json')).href;
    registerFrozenNetwork('served', () => url);
    await loadFrozenNetwork('nsfw-inception');
    await loadFrozenNetwork('served');
    const a = frozenNetwork('served', ['activation_1', 'mixed5']);
    const b = frozenNetwork('nsfw-inception', ['activation_1', 'mixed5']);
    expect(a.channels).toEqual([32, 768]);
    expect(a.name).toBe('served:activation_1,mixed5');
    const x = tf.randomUniform([1, 96, 96, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const [fa, fb] = [a.extract(x), b.extract(x)];
    expect(fa.map((t) => t.shape)).toEqual([[1, 47, 47, 32], [1, 4, 4, 768]]);
    fa.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(fb[i]!.dataSync())));
    expect(() => a.extract(tf.zeros([1, 40, 40, 3]) as tf.Tensor4D)).toThrow('served:activation_1,mixed5: extract: images must be at least 75×75, got 40×40');
    const n = tf.memory().numTensors;
    unloadFrozenNetwork('served');
    expect(tf.memory().numTensors).toBeLessThan(n); // its weights are freed
    tf.dispose([x, ...fa, ...fb]);
  });

  it('loadFrozenModel + cutFrozenModel: folded parameter count (kernel + one bias per channel), a missing layer named', async () => {
    const model = await loadFrozenModel(pathToFileURL(path.join(dir, 'model.json')).href);
    expect(model.trainableWeights).toEqual([]);
    const stem = cutFrozenModel(model, ['activation_1'], { minSize: 32 });
    expect(stem.countParams()).toBe(3 * 3 * 3 * 32 + 32);
    expect(() => cutFrozenModel(model, ['mixed99'])).toThrow(/cutFrozenModel: no layer 'mixed99'/);
    model.dispose();
  });
});
