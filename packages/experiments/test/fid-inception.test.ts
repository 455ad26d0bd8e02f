// The FID Inception network (pytorch-fid's InceptionV3) against the reference PyTorch fixture
// (test/fixtures/fid-inception, recorded from the reference Python code): layout and strict
// keys, the rule weights' sha256, the preprocessing bit for bit, every case and the batch's FID/IS
// within the fixture's tolerances, and the FID-specific choices (pooling, BatchNorm ε) pinned.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@disco/runtime';
import { enableNativeConvolutions, readRuleStateDict } from '@disco/runtime/node';
import { expectNoLeaks } from '@disco/runtime/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  avgPool3x3,
  checkFidInceptionStateDict,
  FID_INCEPTION_BLOCKS,
  FID_INCEPTION_CONVS,
  FID_INCEPTION_DEFAULTS,
  fidInceptionInput,
  fidInceptionKeys,
  FidInception,
  resolveFidInceptionOptions,
  type StateTensorLike,
} from '../src/index.js';
import { runFidInceptionParity, type ParityReport } from '../src/node.js';
import { runExperimentsCli } from '../src/cli/experiments.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fid-inception');
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(FIXTURE, f), 'utf8'));

let stateDict: Map<string, StateTensorLike>;
let net: FidInception;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  enableNativeConvolutions();
  stateDict = await readRuleStateDict(FIXTURE, { verify: true }); // every entry's sha256 checked
  net = FidInception.fromStateDict(stateDict);
});
afterAll(() => net?.dispose());

const row = (r: ParityReport, c: string, stage: string, mode: string) => {
  const found = r.rows.find((x) => x.case === c && x.stage === stage && x.mode === mode);
  if (found === undefined) throw new Error(`no row ${c} ${stage} ${mode}`);
  return found;
};

describe('FID Inception layout and keys', () => {
  it('has 94 BasicConv2d units and exactly the fixture’s state_dict keys and shapes', () => {
    expect(FID_INCEPTION_CONVS.length).toBe(94);
    const index = readJson('weights.json') as { entries: { key: string; shape: number[] }[] };
    const want = fidInceptionKeys();
    const counters = index.entries.filter((e) => e.key.endsWith('.num_batches_tracked'));
    expect(counters.length).toBe(94);
    const params = index.entries.filter((e) => !e.key.endsWith('.num_batches_tracked'));
    expect(params.map((e) => e.key)).toEqual([...want.keys()]); // same keys, state_dict order
    expect(new Map(params.map((e) => [e.key, e.shape]))).toEqual(want);
    const n = [...want.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
    expect(n).toBe(23_850_960 + 34_432); // parameters + BatchNorm statistics (fixture.json)
  });

  it('pins the FID-specific choices: BatchNorm ε 0.001, pools without padding in A/C/Mixed_7b, max pool in Mixed_7c', () => {
    expect(FID_INCEPTION_DEFAULTS.batchNormEps).toBe(0.001);
    expect(Object.fromEntries(FID_INCEPTION_BLOCKS.map((b) => [b.name, b.pool]))).toEqual({
      Mixed_5b: 'avg-exclude-pad',
      Mixed_5c: 'avg-exclude-pad',
      Mixed_5d: 'avg-exclude-pad',
      Mixed_6a: 'max',
      Mixed_6b: 'avg-exclude-pad',
      Mixed_6c: 'avg-exclude-pad',
      Mixed_6d: 'avg-exclude-pad',
      Mixed_6e: 'avg-exclude-pad',
      Mixed_7a: 'max',
      Mixed_7b: 'avg-exclude-pad',
      Mixed_7c: 'max',
    });
  });

  it('names a missing, extra or misshapen key in one line', () => {
    const shapes = new Map([...fidInceptionKeys()].map(([k, shape]) => [k, { shape }]));
    expect(() => checkFidInceptionStateDict(shapes)).not.toThrow();
    const missing = new Map(shapes);
    missing.delete('Mixed_6b.branch7x7dbl_3.bn.running_var');
    expect(() => checkFidInceptionStateDict(missing)).toThrow(/^FID Inception state dict: missing key 'Mixed_6b.branch7x7dbl_3.bn.running_var' \(shape \[128\]\)$/);
    const extra = new Map(shapes).set('AuxLogits.fc.weight', { shape: [1000, 768] });
    expect(() => checkFidInceptionStateDict(extra)).toThrow(/unexpected key 'AuxLogits.fc.weight'/);
    const bad = new Map(shapes).set('Mixed_7c.branch3x3_2a.conv.weight', { shape: [384, 384, 3, 1] });
    expect(() => checkFidInceptionStateDict(bad)).toThrow(/key 'Mixed_7c.branch3x3_2a.conv.weight' has shape \[384, 384, 3, 1\], expected \[384, 384, 1, 3\]/);
    const prefixed = new Map([...shapes].map(([k, v]) => [`module.${k}`, v]));
    expect(() => checkFidInceptionStateDict(prefixed)).toThrow(/missing key 'Conv2d_1a_3x3.conv.weight'.*and 943 more problems/);
    const counters = new Map(shapes).set('Conv2d_1a_3x3.bn.num_batches_tracked', { shape: [] });
    expect(() => checkFidInceptionStateDict(counters)).not.toThrow();
    expect(() => FidInception.fromStateDict(missing as never)).toThrow(/missing key/);
    expect(() => resolveFidInceptionOptions({ eps: 1 } as never)).toThrow(/unknown option 'eps'/);
  });
});

describe('FID Inception ops', () => {
  it('avgPool3x3 divides by the real pixels (9 / 6 / 4) without counting padding, or by 9 with it [1x3x4x1]', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 3, 4, 1]);
    const ex = await avgPool3x3(x, false).data();
    // corner (0,0): (1+2+5+6)/4; edge (0,1): (1+2+3+5+6+7)/6; inside (1,1): (1+2+3+5+6+7+9+10+11)/9
    expect(ex[0]).toBeCloseTo(14 / 4, 5);
    expect(ex[1]).toBeCloseTo(24 / 6, 5);
    expect(ex[5]).toBeCloseTo(54 / 9, 5);
    const inc = await avgPool3x3(x, true).data();
    expect(inc[0]).toBeCloseTo(14 / 9, 5);
    expect(inc[1]).toBeCloseTo(24 / 9, 5);
    x.dispose();
  });

  it('preprocesses like pytorch-fid bit for bit (input299 of every resized case; identity at 299)', () => {
    const fx = readJson('fixture.json') as { cases: { name: string; index: string; data: string }[] };
    let checked = 0;
    for (const c of fx.cases) {
      const meta = readJson(c.index) as { arrays: { name: string; shape: number[]; byteOffset: number; byteLength: number }[] };
      const bin = fs.readFileSync(path.join(FIXTURE, c.data));
      const arr = (n: string) => meta.arrays.find((a) => a.name === n);
      const rgb = arr('rgb_in')!;
      const [h, w] = rgb.shape as [number, number];
      const x = fidInceptionInput({ width: w, height: h, data: new Uint8Array(bin.subarray(rgb.byteOffset, rgb.byteOffset + rgb.byteLength)) });
      expect(x.length).toBe(299 * 299 * 3);
      const a = arr('input299');
      if (a !== undefined) {
        const ref = new Float32Array(new Uint8Array(bin.subarray(a.byteOffset, a.byteOffset + a.byteLength)).buffer); // [1, 3, 299, 299]
        let diff = 0;
        for (let ch = 0; ch < 3; ch++) for (let i = 0; i < 299 * 299; i++) diff = Math.max(diff, Math.abs(x[i * 3 + ch]! - ref[ch * 299 * 299 + i]!));
        expect(diff, c.name).toBe(0);
        checked++;
      }
      if (h === 299 && w === 299) {
        const data = bin.subarray(rgb.byteOffset, rgb.byteOffset + rgb.byteLength);
        for (let i = 0; i < data.length; i += 997) expect(x[i]).toBe(Math.fround(2 * Math.fround(data[i]! / 255) - 1));
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('predict frees its intermediates and returns pool3 [2x2048] and logits [2x1008]', async () => {
    const x = tf.randomUniform([2, 299, 299, 3], -1, 1) as tf.Tensor4D;
    await expectNoLeaks(() => {
      const { pool3, logits } = net.predict(x);
      expect(pool3.shape).toEqual([2, 2048]);
      expect(logits.shape).toEqual([2, 1008]);
      tf.dispose([pool3, logits]);
    }, 'FidInception.predict');
    x.dispose();
  });
});

describe('FID Inception batches', () => {
  it('a batch of two equals two batches of one [2x299x299x3 → 2x2048, 2x1008]', async () => {
    const x = tf.randomUniform([2, 299, 299, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const both = net.predict(x);
    const p2 = await both.pool3.data();
    const l2 = await both.logits.data();
    for (let i = 0; i < 2; i++) {
      const xi = tf.slice(x, [i, 0, 0, 0], [1, 299, 299, 3]);
      const one = net.predict(xi);
      const p1 = await one.pool3.data();
      const l1 = await one.logits.data();
      for (let j = 0; j < 2048; j++) expect(Math.abs(p1[j]! - p2[i * 2048 + j]!)).toBeLessThan(1e-4);
      for (let j = 0; j < 1008; j++) expect(Math.abs(l1[j]! - l2[i * 1008 + j]!)).toBeLessThan(1e-3);
      tf.dispose([xi, one.pool3, one.logits]);
    }
    tf.dispose([x, both.pool3, both.logits]);
  });
});

describe('FID Inception parity with the reference (fixture tolerances)', () => {
  it('passes on every case (every stage, end to end and from its stored input) and on the batch’s pool3, logits, FID and IS', async () => {
    const r = await runFidInceptionParity(FIXTURE, { network: net });
    const failed = r.rows.filter((x) => !x.pass).map((x) => `${x.case} ${x.stage} ${x.mode}: ${x.value} > ${x.tolerance}`);
    expect(failed).toEqual([]);
    const fx = readJson('fixture.json') as { cases: { name: string; stored: string[] }[] };
    for (const c of fx.cases) for (const s of c.stored.filter((s) => s !== 'rgb_in')) expect(r.rows.some((x) => x.case === c.name && x.stage === s && x.mode === 'end-to-end')).toBe(true);
    for (const s of ['fid', 'inceptionScoreMean', 'inceptionScoreStd']) {
      expect(row(r, 'batch', s, 'from stored pool3/logits').pass).toBe(true);
      expect(row(r, 'batch', s, 'end-to-end').pass).toBe(true);
    }
    expect(row(r, 'batch', 'fid', 'from stored pool3/logits').value).toBeLessThan(1e-5); // float64 formula vs the reference's sqrtm: 1.1e-6
    expect(r.pass).toBe(true);
  });

  it('the unfolded reference form (conv → BatchNorm → ReLU) matches too (syn299x299, every stage from its stored input)', async () => {
    const unfolded = FidInception.fromStateDict(stateDict, { foldBatchNorm: false });
    try {
      const r = await runFidInceptionParity(FIXTURE, { network: unfolded, cases: ['syn299x299'], batch: false });
      expect(r.rows.filter((x) => !x.pass)).toEqual([]);
    } finally {
      unfolded.dispose();
    }
  });

  it('fails when the BatchNorm ε or the FID blocks’ pooling is changed (syn299x299 from stored inputs)', async () => {
    const variants = [
      { options: { batchNormEps: 1e-5 }, failing: ['after_maxpool2', 'Mixed_5d'] },
      { options: { blocks: 'torchvision' as const }, failing: ['Mixed_5d', 'Mixed_6e', 'Mixed_7c'] },
    ];
    for (const v of variants) {
      const wrong = FidInception.fromStateDict(stateDict, v.options);
      try {
        const r = await runFidInceptionParity(FIXTURE, { network: wrong, cases: ['syn299x299'], batch: false });
        expect(r.pass, JSON.stringify(v.options)).toBe(false);
        for (const s of v.failing) {
          const rows = r.rows.filter((x) => x.stage === s);
          expect(rows.length).toBeGreaterThan(0);
          expect(rows.every((x) => !x.pass), `${s} with ${JSON.stringify(v.options)}`).toBe(true);
        }
      } finally {
        wrong.dispose();
      }
    }
  });
});

describe('disco-experiments parity', () => {
  it('exits 0 within tolerance, writes --json, and exits 1 when fixture.json’s tolerance is tighter than the port', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fid-parity-'));
    const json = path.join(tmp, 'parity.json');
    process.exitCode = undefined;
    await runExperimentsCli(['parity', FIXTURE, '--cases', 'syn64x64', '--no-batch', '--json', json]);
    expect(process.exitCode ?? 0).toBe(0);
    const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(rep.pass).toBe(true);
    expect(rep.rows.map((r: { stage: string }) => r.stage)).toEqual(['pool3', 'logits', 'softmax', 'logits', 'softmax']);
    // A copy whose pool3 tolerance no float32 port meets: read from fixture.json, so it fails.
    const strict = path.join(tmp, 'strict');
    fs.cpSync(FIXTURE, strict, { recursive: true });
    const fx = JSON.parse(fs.readFileSync(path.join(strict, 'fixture.json'), 'utf8'));
    fx.tolerances.pool3 = { relToMax: 1e-9 };
    fs.writeFileSync(path.join(strict, 'fixture.json'), JSON.stringify(fx));
    await runExperimentsCli(['parity', strict, '--cases', 'syn64x64', '--no-batch', '--no-from-stored']);
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
