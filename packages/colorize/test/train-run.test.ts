// trainDisco, the library stage-2 loop: hooks fire at the right steps, `shouldStop` checkpoints and
// returns, a resumed run ends bit-identical to an uninterrupted one, and the checkpoint is readable
// as a model.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { modelFromCheckpoint, readDiscoCheckpoint, trainDisco, type TrainDiscoSpec, type TrainStepReport } from '../src/train/run.js';
import { makeImage } from './photos.js';

let dir: string;
let data: string;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-trainrun-'));
  data = path.join(dir, 'photos');
  fs.mkdirSync(data);
  for (let i = 0; i < 10; i++) await makeImage(path.join(data, `p${i}.png`), i, 48, 40);
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const spec = (out: string, extra: Partial<TrainDiscoSpec> = {}): TrainDiscoSpec => ({
  config: resolveDiscoConfig({ seed: 3, imageSize: 32, anchors: 4 }, 'tiny'),
  data: [data],
  out,
  options: { steps: 5, learningRate: 5e-4, seed: 3, perceptualWeight: 0, extensions: { pixelWeight: 1 } },
  batchSize: 2,
  validateEvery: 0,
  checkpointEvery: 2,
  ...extra,
});
const quiet = { log: () => {}, progress: null };

describe('trainDisco', () => {
  it('calls its hooks, stops when asked, and resumes bit-identically', async () => {
    const steps: TrainStepReport[] = [];
    const checkpoints: number[] = [];
    const full = await trainDisco(spec(path.join(dir, 'full')), { ...quiet, onStep: (r) => steps.push(r), onCheckpoint: (s) => checkpoints.push(s) });
    expect(full.status).toBe('finished');
    expect(full.step).toBe(5);
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5]);
    for (const s of steps) expect(Number.isFinite(s.losses.total) && s.learningRate > 0).toBe(true);
    expect(steps[4]!.learningRate).toBeCloseTo(5e-6, 12); // linear decay to 1 % at the last step
    expect(checkpoints).toEqual([2, 4, 5]);

    const part = path.join(dir, 'part');
    const stopped = await trainDisco(spec(part), { ...quiet, shouldStop: (s) => s === 3 });
    expect(stopped).toMatchObject({ status: 'stopped', step: 3, model: null });
    expect(fs.existsSync(path.join(part, 'model'))).toBe(false);
    const resumed = await trainDisco(spec(part, { resume: true }), quiet);
    expect(resumed.status).toBe('finished');
    const a = fs.readFileSync(path.join(dir, 'full', 'model', 'weights.bin'));
    const b = fs.readFileSync(path.join(part, 'model', 'weights.bin'));
    expect(b.equals(a)).toBe(true);
    const strip = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => { const { ms: _ms, ...rest } = JSON.parse(l); return rest; });
    expect(strip(path.join(part, 'log.jsonl'))).toEqual(strip(path.join(dir, 'full', 'log.jsonl')));
  }, 180_000);

  it('a checkpoint reads back as the same model', async () => {
    const ck = readDiscoCheckpoint(path.join(dir, 'full'), '--run');
    expect(ck.state.step).toBe(5);
    expect(ck.state.config.anchors).toBe(4);
    const before = tf.memory().numTensors;
    const m = modelFromCheckpoint(ck);
    const w = m.namedWeights();
    const name = Object.keys(w).find((k) => k.startsWith('generator'))!;
    const decoded = tf.io.decodeWeights(ck.weights, ck.state.specs);
    expect(Array.from(w[name]!.dataSync())).toEqual(Array.from(decoded[`model:${name}`]!.dataSync()));
    tf.dispose(Object.values(decoded));
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads checkpoints of earlier versions: a config without the fields added since (arch) and "/" weight names', async () => {
    const legacy = path.join(dir, 'legacy');
    fs.cpSync(path.join(dir, 'full', 'checkpoint'), path.join(legacy, 'checkpoint'), { recursive: true });
    const sf = path.join(legacy, 'checkpoint', 'state.json');
    const state = JSON.parse(fs.readFileSync(sf, 'utf8')) as { config: Record<string, unknown>; specs: { name: string }[] };
    delete state.config['arch'];
    delete state.config['pretrainedFeatures'];
    for (const sp of state.specs) sp.name = sp.name.replace(/^model:(spixnet|backbone|refine)\.(.*)$/, (_m, b: string, rest: string) => `model:${b}/${rest.replaceAll('.', '/')}`);
    expect(state.specs.some((sp) => sp.name.startsWith('model:backbone/'))).toBe(true);
    fs.writeFileSync(sf, JSON.stringify(state));
    const old = modelFromCheckpoint(readDiscoCheckpoint(legacy, '--run'));
    const now = modelFromCheckpoint(readDiscoCheckpoint(path.join(dir, 'full'), '--run'));
    expect(old.extensions.arch).toBe('disco');
    expect(old).toBeInstanceOf(DiscoModel);
    const [wo, wn] = [old.namedWeights(), now.namedWeights()];
    expect(Object.keys(wo)).toEqual(Object.keys(wn));
    for (const k of Object.keys(wn)) expect(Array.from(wo[k]!.dataSync())).toEqual(Array.from(wn[k]!.dataSync()));
    old.dispose();
    now.dispose();
  });

  it('trains data parallel (workers: 2), DISCO and a baseline, and resumes bit-identically with workers', async () => {
    const par = (out: string, extra: Partial<TrainDiscoSpec> = {}) => spec(out, { workers: 2, options: { steps: 4, learningRate: 5e-4, seed: 3, perceptualWeight: 0, extensions: { pixelWeight: 1 } }, ...extra });
    const full = await trainDisco(par(path.join(dir, 'w-full')), quiet);
    expect(full.status).toBe('finished');
    expect(Object.values(full.lastLosses!).every(Number.isFinite)).toBe(true);
    const run = JSON.parse(fs.readFileSync(path.join(dir, 'w-full', 'run.json'), 'utf8')) as { workers: number };
    expect(run.workers).toBe(2);
    const part = path.join(dir, 'w-part');
    expect((await trainDisco(par(part), { ...quiet, shouldStop: (s) => s === 2 })).status).toBe('stopped');
    expect((await trainDisco(par(part, { resume: true }), quiet)).status).toBe('finished');
    const a = fs.readFileSync(path.join(dir, 'w-full', 'model', 'weights.bin'));
    expect(fs.readFileSync(path.join(part, 'model', 'weights.bin')).equals(a)).toBe(true);
    // a single-thread run of the same spec ends elsewhere (shards normalise batch norm on their own) but close
    const one = await trainDisco(spec(path.join(dir, 'w-one'), { options: { steps: 4, learningRate: 5e-4, seed: 3, perceptualWeight: 0, extensions: { pixelWeight: 1 } } }), quiet);
    expect(Math.abs(one.lastLosses!.total - full.lastLosses!.total)).toBeLessThan(0.5 * one.lastLosses!.total);
    const base = await trainDisco(par(path.join(dir, 'w-reg'), { config: resolveDiscoConfig({ seed: 3, imageSize: 32, extensions: { arch: 'regression' } }, 'tiny'), options: { steps: 2, learningRate: 5e-4, seed: 3, perceptualWeight: 0 } }), quiet);
    expect(base.status).toBe('finished');
    await expect(trainDisco(spec(path.join(dir, 'w-bad'), { workers: 3 }), quiet)).rejects.toThrow(/^--workers: 3 workers need a batch of at least 3 images/);
  }, 300_000);

  it('bad specs fail with one line naming the argument', async () => {
    await expect(trainDisco(spec(path.join(dir, 'x'), { perceptual: 'vgg' }), quiet)).rejects.toThrow(/^--perceptual: unknown network 'vgg'/);
    await expect(trainDisco(spec(path.join(dir, 'y'), { spixnet: path.join(dir, 'missing') }), quiet)).rejects.toThrow(/^--spixnet: '.*missing' does not exist/);
    await expect(trainDisco(spec(path.join(dir, 'z'), { resume: true }), quiet)).rejects.toThrow(/^--resume: no checkpoint in/);
    await expect(trainDisco(spec(path.join(dir, 'w'), { batchSize: 64 }), quiet)).rejects.toThrow(/^--data: \d+ training images are fewer than one batch of 64/);
  });
});
