// Stage 1 as a library: trainSpixNetRun stops when asked, resumes from its checkpoint, and ends
// with the weights of an uninterrupted run bit for bit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { trainSpixNetRun, type TrainSpixNetRunSpec } from '../src/node/run.js';

let root: string;
beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'spixnet-run-'));
  fs.mkdirSync(path.join(root, 'photos'));
  for (let k = 0; k < 4; k++) {
    const px = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < 32 * 32; i++) px.set((i % 32) + 3 * Math.sin(i / 32 + k) < 14 ? [210, 50 + 30 * k, 40] : [20, 100, 200 - 20 * k], 3 * i);
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(path.join(root, 'photos', `p${k}.png`));
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const spec = (out: string, extra: Partial<TrainSpixNetRunSpec> = {}): TrainSpixNetRunSpec => ({ data: path.join(root, 'photos'), out: path.join(root, out), size: 32, cell: 8, batchSize: 2, steps: 4, lr: 0.01, seed: 3, checkpointEvery: 10, ...extra });
const quiet = { log: () => {}, progress: null };

describe('trainSpixNetRun', () => {
  it('stops when asked (checkpointed, no model), resumes, and ends bit-identical to an uninterrupted run', async () => {
    const steps: number[] = [];
    const full = await trainSpixNetRun(spec('full'), { ...quiet, onStep: (s) => steps.push(s.step) });
    expect(full).toMatchObject({ status: 'finished', step: 4, model: path.join(root, 'full', 'model') });
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(Number.isFinite(full.loss)).toBe(true);
    const stopped = await trainSpixNetRun(spec('part'), { ...quiet, shouldStop: (s) => s === 2 });
    expect(stopped).toMatchObject({ status: 'stopped', step: 2, model: null });
    expect(fs.existsSync(path.join(root, 'part', 'model'))).toBe(false);
    expect((JSON.parse(fs.readFileSync(path.join(root, 'part', 'checkpoint', 'state.json'), 'utf8')) as { step: number }).step).toBe(2);
    const resumed = await trainSpixNetRun(spec('part', { resume: true }), quiet);
    expect(resumed).toMatchObject({ status: 'finished', step: 4 });
    const a = fs.readFileSync(path.join(root, 'full', 'model', 'weights.bin'));
    expect(fs.readFileSync(path.join(root, 'part', 'model', 'weights.bin')).equals(a)).toBe(true);
    const run = JSON.parse(fs.readFileSync(path.join(root, 'full', 'run.json'), 'utf8')) as { backend: string; run: { gitCommit: string }; resolved: { seed: number } };
    expect(run.backend).toBe('wasm');
    expect(run.resolved.seed).toBe(3);
    expect(tf.memory().numTensors).toBeLessThan(50);
  }, 120_000);

  it('bad specs are one-line errors naming the argument', async () => {
    await expect(trainSpixNetRun(spec('x', { data: path.join(root, 'nope') }), quiet)).rejects.toThrow(/^--data: '.*nope' is not a folder/);
    await expect(trainSpixNetRun(spec('y', { size: 30 }), quiet)).rejects.toThrow(/^--size: 30 must be a multiple of/);
    await expect(trainSpixNetRun(spec('z', { resume: true }), quiet)).rejects.toThrow(/^--resume: no checkpoint in/);
  });
});
