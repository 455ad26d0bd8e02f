// eval-fid --inception with the FID Inception network, end to end: the fixture's 12 batch images
// written as PNG files, its first 6 against its last 6, must give the reference pytorch-fid FID
// (batch.json) within the fixture's tolerance; IS from the 1008 classes; the network named by the
// weights' sha256 (here the fixture's rule weights: not the standard file, so not "comparable").
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inceptionScore, softmaxRows } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..');
const FIXTURE = path.join(here, 'fixtures', 'fid-inception');
const run = promisify(execFile);

interface Report {
  network: { name: string; caveat: string; comparability: string; weightsSha256: string; classes: number; resize: string };
  scores: { fid: Record<string, number>; inceptionScore: { available: boolean; splits: number; real: { mean: number; std: number }; fake: { mean: number; std: number } } };
}

describe('eval-fid --inception <FID Inception weights> [the fixture batch: 6 vs 6 images of 64x64]', () => {
  let dir: string;
  let report: Report;
  let stderr: string;
  let batch: { fid: number };
  let logits: Float32Array;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-fid-inception-'));
    const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'batch.json'), 'utf8')) as { arrays: { name: string; shape: number[]; byteOffset: number; byteLength: number }[] };
    batch = (JSON.parse(fs.readFileSync(path.join(FIXTURE, 'fixture.json'), 'utf8')) as { batch: { fid: number } }).batch;
    const bin = fs.readFileSync(path.join(FIXTURE, 'batch.bin'));
    const arr = (n: string) => meta.arrays.find((a) => a.name === n)!;
    const rgb = arr('rgb_in');
    const [n, h, w] = rgb.shape as [number, number, number];
    const l = arr('logits');
    logits = new Float32Array(new Uint8Array(bin.subarray(l.byteOffset, l.byteOffset + l.byteLength)).buffer);
    for (const set of ['real', 'fake']) fs.mkdirSync(path.join(dir, set));
    for (let i = 0; i < n; i++) {
      const px = bin.subarray(rgb.byteOffset + i * h * w * 3, rgb.byteOffset + (i + 1) * h * w * 3);
      await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, i < n / 2 ? 'real' : 'fake', `im${String(i).padStart(2, '0')}.png`));
    }
    const env: NodeJS.ProcessEnv = { ...process.env, DISCO_BACKEND: 'wasm' };
    delete env['INIT_CWD'];
    const r = await run(
      'node',
      ['--conditions=@disco/source', '--import', 'tsx', 'src/cli/eval-fid.ts', '--real', path.join(dir, 'real'), '--fake', path.join(dir, 'fake'), '--inception', FIXTURE, '--out', path.join(dir, 'out.json'), '--features-out', path.join(dir, 'features.json'), '--kid-subsets', '5', '--batch-size', '6'],
      { cwd: pkg, env, maxBuffer: 1 << 26 },
    );
    stderr = r.stderr;
    report = JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')) as Report;
  }, 170_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the reference FID of the batch (pytorch-fid, batch.json) within 1e-3 relative', () => {
    const key = `FID[${report.network.name}-2048]`;
    expect(Object.keys(report.scores.fid)).toEqual([key]);
    expect(Math.abs(report.scores.fid[key]! - batch.fid) / batch.fid).toBeLessThan(1e-3);
  });

  it('computes IS from the 1008 classes (6 splits of 6 images per set), as from the reference logits', () => {
    const is = report.scores.inceptionScore;
    expect(is.available).toBe(true);
    expect(is.splits).toBe(6);
    const ref = (lo: number) => inceptionScore({ rows: 6, cols: 1008, data: softmaxRows({ rows: 6, cols: 1008, data: logits.subarray(lo * 1008, (lo + 6) * 1008) }) }, { splits: 6 });
    expect(Math.abs(is.real.mean - ref(0).mean) / ref(0).mean).toBeLessThan(1e-3);
    expect(Math.abs(is.fake.mean - ref(6).mean) / ref(6).mean).toBeLessThan(1e-3);
    expect(Math.abs(is.fake.std - ref(6).std)).toBeLessThan(1e-4);
  });

  it('names the network by the weights’ sha256 and does not call other weights comparable with published values', () => {
    expect(report.network.name).toMatch(/^fid-inception-[0-9a-f]{12}$/);
    expect(report.network.name).toBe(`fid-inception-${report.network.weightsSha256.slice(0, 12)}`);
    expect(report.network.classes).toBe(1008);
    expect(report.network.comparability).toBe('project-relative');
    expect(report.network.caveat).toMatch(/NOT the standard pt_inception-2015-12-05-6726825d\.pth/);
    expect(report.network.resize).toMatch(/pytorch-fid/);
    expect(stderr).toMatch(/scores: project-relative/);
    const header = fs.readFileSync(path.join(dir, 'features.jsonl'), 'utf8').split('\n')[0]!;
    expect(JSON.parse(header).network).toBe(report.network.name); // the feature cache is keyed on the weights' hash
  });
});
