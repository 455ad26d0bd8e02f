// A full-size FID Inception weights file (≈ 95 MB, torch.save's zip format written with @disco/pth
// from the fixture's rule weights) through `disco-experiments parity --weights` and
// `eval-fid --inception`, end to end: the fixture's 12 batch images as PNG files, the first 6
// against the last 6, give the reference pytorch-fid FID (batch.json) and IS over the 1008 classes;
// the network is named by the file's sha256 (not the standard file: not "comparable"); a file with
// wrong keys fails naming one.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PyDict, writePth, type TensorSpec } from '@disco/pth';
import { readRuleStateDict } from '@disco/runtime/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperimentsCli } from '../src/cli/experiments.js';
import { inceptionScore, softmaxRows } from '../src/index.js';
import { loadFidInception, PT_INCEPTION_SHA256_PREFIX } from '../src/node.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..');
const FIXTURE = path.join(here, 'fixtures', 'fid-inception');
const run = promisify(execFile);

let dir: string;
let weights: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fid-pth-'));
  // The state dict as torch.save writes it: an OrderedDict of every entry, counters included.
  const sd = await readRuleStateDict(FIXTURE, { verify: false });
  const entries: [string, TensorSpec][] = [...sd.values()].map((t) => [t.key, t.dtype === 'int64' ? { dtype: 'int64', shape: t.shape, data: [0n] } : { dtype: 'float32', shape: t.shape, data: t.toFloat32() }]);
  weights = path.join(dir, 'fid-weights.pth');
  fs.writeFileSync(weights, writePth(new PyDict(entries, 'collections.OrderedDict')));
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a full-size FID Inception .pth file [566 entries, ≈ 95 MB]', () => {
  it('passes the parity through --weights (syn64x64; every case and the batch run in fid-inception.test.ts)', async () => {
    expect(fs.statSync(weights).size).toBeGreaterThan(95_000_000);
    const json = path.join(dir, 'parity.json');
    process.exitCode = undefined;
    await runExperimentsCli(['parity', FIXTURE, '--weights', weights, '--cases', 'syn64x64', '--no-batch', '--json', json]);
    expect(process.exitCode ?? 0).toBe(0);
    const rep = JSON.parse(fs.readFileSync(json, 'utf8')) as { pass: boolean; weights: string; rows: { case: string; stage: string }[] };
    expect(rep.pass).toBe(true);
    expect(rep.weights).toMatch(/fid-weights\.pth \(sha256 [0-9a-f]{12}\)/);
    expect(rep.rows.map((r) => `${r.case} ${r.stage}`)).toEqual(['syn64x64 pool3', 'syn64x64 logits', 'syn64x64 softmax', 'syn64x64 logits', 'syn64x64 softmax']);
  });

  it('goes through eval-fid --inception end to end: the reference FID and IS of the batch, the network named by the file’s sha256', async () => {
    const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'batch.json'), 'utf8')) as { arrays: { name: string; shape: number[]; byteOffset: number; byteLength: number }[] };
    const ref = (JSON.parse(fs.readFileSync(path.join(FIXTURE, 'fixture.json'), 'utf8')) as { batch: { fid: number } }).batch.fid;
    const bin = fs.readFileSync(path.join(FIXTURE, 'batch.bin'));
    const arr = (name: string) => meta.arrays.find((a) => a.name === name)!;
    const rgb = arr('rgb_in');
    const l = arr('logits');
    const logits = new Float32Array(new Uint8Array(bin.subarray(l.byteOffset, l.byteOffset + l.byteLength)).buffer);
    const [n, h, w] = rgb.shape as [number, number, number];
    for (const set of ['real', 'fake']) fs.mkdirSync(path.join(dir, set));
    for (let i = 0; i < n; i++) {
      const px = bin.subarray(rgb.byteOffset + i * h * w * 3, rgb.byteOffset + (i + 1) * h * w * 3);
      await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, i < n / 2 ? 'real' : 'fake', `im${String(i).padStart(2, '0')}.png`));
    }
    const env: NodeJS.ProcessEnv = { ...process.env, DISCO_BACKEND: 'wasm' };
    delete env['INIT_CWD'];
    const out = path.join(dir, 'out.json');
    const args = ['--real', path.join(dir, 'real'), '--fake', path.join(dir, 'fake'), '--inception', weights, '--out', out, '--features-out', path.join(dir, 'features.json'), '--kid-subsets', '5', '--batch-size', '6'];
    const r = await run('node', ['--conditions=@disco/source', '--import', 'tsx', 'src/cli/eval-fid.ts', ...args], { cwd: pkg, env, maxBuffer: 1 << 26 });
    const rep = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      network: { name: string; weightsSha256: string; comparability: string; caveat: string; classes: number; resize: string };
      scores: { fid: Record<string, number>; inceptionScore: { available: boolean; splits: number; real: { mean: number; std: number }; fake: { mean: number; std: number } } };
    };
    // FID: the reference value of pytorch-fid on these images.
    const key = `FID[${rep.network.name}-2048]`;
    expect(Object.keys(rep.scores.fid)).toEqual([key]);
    expect(Math.abs(rep.scores.fid[key]! - ref) / ref).toBeLessThan(1e-3);
    // IS: 6 splits of 6 images per set, as from the reference logits.
    const is = rep.scores.inceptionScore;
    expect(is.available).toBe(true);
    expect(is.splits).toBe(6);
    const refIs = (lo: number) => inceptionScore({ rows: 6, cols: 1008, data: softmaxRows({ rows: 6, cols: 1008, data: logits.subarray(lo * 1008, (lo + 6) * 1008) }) }, { splits: 6 });
    expect(Math.abs(is.real.mean - refIs(0).mean) / refIs(0).mean).toBeLessThan(1e-3);
    expect(Math.abs(is.fake.mean - refIs(6).mean) / refIs(6).mean).toBeLessThan(1e-3);
    expect(Math.abs(is.fake.std - refIs(6).std)).toBeLessThan(1e-4);
    // Named by the file's sha256; other weights than the standard file are not "comparable".
    expect(rep.network.name).toBe(`fid-inception-${rep.network.weightsSha256.slice(0, 12)}`);
    expect(rep.network.weightsSha256.startsWith(PT_INCEPTION_SHA256_PREFIX)).toBe(false);
    expect(rep.network.classes).toBe(1008);
    expect(rep.network.comparability).toBe('project-relative');
    expect(rep.network.caveat).toMatch(/NOT the standard pt_inception-2015-12-05-6726825d\.pth/);
    expect(rep.network.resize).toMatch(/pytorch-fid/);
    expect(r.stderr).toMatch(/scores: project-relative/);
    const header = fs.readFileSync(path.join(dir, 'features.jsonl'), 'utf8').split('\n')[0]!;
    expect(JSON.parse(header).network).toBe(rep.network.name); // the feature cache is keyed on the weights' hash
  }, 120_000);

  it('a fixture folder loads its rule weights, named by the hash of weights.json + explicit.bin', async () => {
    const net = await loadFidInception(FIXTURE);
    expect(net.name).toMatch(/^fid-inception-[0-9a-f]{12}$/);
    expect(net.comparableWithPublished).toBe(false);
    net.dispose();
  });

  it('a file with other keys fails in one line naming a key', async () => {
    const bad = path.join(dir, 'bad.pth');
    fs.writeFileSync(bad, writePth({ 'module.fc.weight': { dtype: 'float32', shape: [2, 2], data: [1, 2, 3, 4] } }));
    await expect(loadFidInception(bad)).rejects.toThrow(/^FID Inception state dict: missing key 'Conv2d_1a_3x3\.conv\.weight' \(shape \[32, 3, 3, 3\]\) \(and \d+ more problems\)$/);
  });
});
