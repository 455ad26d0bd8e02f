// eval-fid at scale: shards extracted by separate processes and merged with --features-in score
// what one process scores; a restarted shard resumes from its incremental features file.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@disco/runtime';
import { writeSyntheticPhotos } from './images.js';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

function evalFid(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DISCO_BACKEND: 'wasm' };
  delete env['INIT_CWD'];
  return run('node', ['--conditions=@disco/source', '--import', 'tsx', 'src/cli/eval-fid.ts', ...args], { cwd: pkg, env, maxBuffer: 1 << 26 });
}
const failure = (args: string[]) => evalFid(args).then(() => '', (e: { stderr: string }) => e.stderr.trim().split('\n').at(-1)!);

interface Report {
  real: { count: number };
  fake: { count: number };
  scores: { fid: Record<string, number>; kid: Record<string, { mean: number }>; inceptionScore: { real: { mean: number } }; colorfulness: { fake: { mean: number } } };
}
interface Features {
  real: { rels: string[]; pool: number[][] };
  fake: { rels: string[] };
}

let dir = '';
let sets: { photos: string; gray: string };
let net = '';
const common = () => ['--real', sets.photos, '--fake', sets.gray, '--inception', net, '--inception-range', '[0,1]', '--kid-subsets', '5', '--batch-size', '3'];
const read = <T>(f: string): T => JSON.parse(fs.readFileSync(f, 'utf8')) as T;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-fid-shards-'));
  sets = await writeSyntheticPhotos(dir, 9, 40, 32);
  // A small stand-in for InceptionV3 in layers format: conv 'mixed5', pooled 'avg_pool', 1000-way softmax.
  await selectBackend({ backend: 'cpu' });
  const input = tfl.input({ shape: [24, 24, 3] });
  const mixed = tfl.layers.conv2d({ filters: 12, kernelSize: 3, strides: 2, activation: 'relu', name: 'mixed5', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  const pool = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(mixed) as tfl.SymbolicTensor;
  const probs = tfl.layers.dense({ units: 1000, activation: 'softmax', name: 'predictions', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(pool) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: probs });
  const netDir = path.join(dir, 'net');
  fs.mkdirSync(netDir);
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      fs.writeFileSync(path.join(netDir, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
      fs.writeFileSync(path.join(netDir, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, format: a.format, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  net = path.join(netDir, 'model.json');
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('eval-fid --shard / --features-in [9 synthetic 40x32 photos, 3 shards as separate processes, wasm]', () => {
  it('the merged shards score what one process scores (float64 rounding); each image is in exactly one shard; a restarted shard resumes', async () => {
    await evalFid([...common(), '--out', path.join(dir, 'single.json'), '--features-out', path.join(dir, 'single-features.json')]);
    await Promise.all([0, 1, 2].map((i) => evalFid([...common(), '--shard', `${i}/3`, '--out', path.join(dir, `shard${i}`, 'eval-fid.json'), '--features-out', path.join(dir, `shard${i}`, 'features.json')])));
    const { stderr } = await evalFid(['--features-in', path.join(dir, 'shard*/features.json'), '--out', path.join(dir, 'merged.json'), '--kid-subsets', '5']);
    expect(stderr).toMatch(/merged 3 feature file\(s\): 9 real \/ 9 fake images/);
    const single = read<Report>(path.join(dir, 'single.json'));
    const merged = read<Report>(path.join(dir, 'merged.json'));
    expect([merged.real.count, merged.fake.count]).toEqual([9, 9]);
    const labels = Object.keys(single.scores.fid);
    expect(labels).toHaveLength(2);
    expect(Object.keys(merged.scores.fid)).toEqual(labels);
    for (const l of labels) {
      expect(single.scores.fid[l]!).toBeGreaterThan(0);
      expect(Math.abs(merged.scores.fid[l]! - single.scores.fid[l]!), l).toBeLessThanOrEqual(1e-12 * single.scores.fid[l]!);
    }
    for (const l of Object.keys(single.scores.kid)) expect(merged.scores.kid[l]!.mean).toBeCloseTo(single.scores.kid[l]!.mean, 12);
    expect(merged.scores.inceptionScore.real.mean).toBeCloseTo(single.scores.inceptionScore.real.mean, 12);
    expect(merged.scores.colorfulness.fake.mean).toBeCloseTo(single.scores.colorfulness.fake.mean, 12);
    // Every image in exactly one shard, and more than one shard non-empty.
    const shards = [0, 1, 2].map((i) => read<Features>(path.join(dir, `shard${i}`, 'features.json')));
    const all = read<Features>(path.join(dir, 'single-features.json'));
    for (const set of ['real', 'fake'] as const) {
      expect(shards.flatMap((s) => s[set].rels).sort()).toEqual(all[set].rels.slice().sort());
      expect(shards.filter((s) => s[set].rels.length > 0).length).toBeGreaterThan(1);
    }
    // A restart with the same command keeps the finished images and writes the same file.
    const before = fs.readFileSync(path.join(dir, 'shard0', 'features.json'), 'utf8');
    const again = await evalFid([...common(), '--shard', '0/3', '--out', path.join(dir, 'shard0', 'eval-fid.json'), '--features-out', path.join(dir, 'shard0', 'features.json')]);
    expect(again.stderr).toMatch(new RegExp(`real: ${shards[0]!.real.rels.length} of ${shards[0]!.real.rels.length} images already extracted`));
    expect(fs.readFileSync(path.join(dir, 'shard0', 'features.json'), 'utf8')).toBe(before);
    // A missing shard is refused, by name.
    expect(await failure(['--features-in', path.join(dir, 'shard0/features.json'), path.join(dir, 'shard1/features.json'), '--out', path.join(dir, 'x.json')])).toMatch(/^eval-fid: --features-in: real has \d of 9 images across 2 file\(s\); a shard's features file is missing$/);
  }, 120_000);

  it('5: cached features are keyed on each image\'s bytes and the network: a changed fake image or network file is extracted again, and the FID equals a fresh run\'s', async () => {
    const work = path.join(dir, 'stale');
    fs.cpSync(sets.gray, path.join(work, 'gray'), { recursive: true });
    const netCopy = path.join(work, 'net');
    fs.cpSync(path.dirname(net), netCopy, { recursive: true });
    const args = (out: string, features: string) => ['--real', sets.photos, '--fake', path.join(work, 'gray'), '--inception', path.join(netCopy, 'model.json'), '--inception-range', '[0,1]', '--kid-subsets', '5', '--batch-size', '3', '--out', out, '--features-out', features];
    const cached = path.join(work, 'f.json');
    await evalFid(args(path.join(work, 'a.json'), cached));
    // Replace one fake image by another one's bytes.
    const names = fs.readdirSync(path.join(work, 'gray')).sort();
    fs.copyFileSync(path.join(work, 'gray', names[1]!), path.join(work, 'gray', names[0]!));
    const again = await evalFid(args(path.join(work, 'b.json'), cached));
    expect(again.stderr).toMatch(/fake: 1 image changed since extracted in .*f\.jsonl; extracting again/);
    expect(again.stderr).toMatch(/fake: 8 of 9 images already extracted/);
    await evalFid(args(path.join(work, 'fresh.json'), path.join(work, 'fresh-features.json')));
    const [a, b, fresh] = ['a', 'b', 'fresh'].map((n) => read<Report>(path.join(work, `${n}.json`)).scores.fid);
    for (const l of Object.keys(fresh!)) {
      expect(Math.abs(a![l]! - fresh![l]!), `${l}: the images did change the score`).toBeGreaterThan(1e-3 * fresh![l]!);
      expect(Math.abs(b![l]! - fresh![l]!), l).toBeLessThanOrEqual(1e-6 * fresh![l]!); // float32 features of other batch compositions
    }
    // Another network file (same name, other weights): nothing is kept.
    const w = fs.readFileSync(path.join(netCopy, 'weights.bin'));
    w[100] ^= 1;
    fs.writeFileSync(path.join(netCopy, 'weights.bin'), w);
    const other = await evalFid(args(path.join(work, 'c.json'), cached));
    expect(other.stderr).not.toMatch(/already extracted/);
  }, 120_000);

  it.each([
    ['3/3', 'eval-fid: --shard: the shard index must be < 3 (0-based); got 3'],
    ['1-of-2', "eval-fid: --shard must be i/n (e.g. 0/4) or auto; got '1-of-2'"],
  ])('--shard %s: one line naming the flag', async (spec, line) => {
    expect(await failure([...common(), '--shard', spec, '--features-out', path.join(dir, 'f.json')])).toBe(line);
  });
});
