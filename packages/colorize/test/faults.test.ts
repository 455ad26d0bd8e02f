// Fault injection, deterministic (a counting file-system layer, no timing): a kill at every write
// point of a checkpoint commit of both trainers resumes to the byte-identical final weights; a
// full disk or a permission error at every write point of `disco colorize`, and at chosen points
// of a training checkpoint, leaves no half-written file and reports one line naming the path.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultyFileSystem, loadCheckpoint, type FaultKind, type MutatingOp } from '@disco/runtime/node';
import { runDiscoCli } from '../src/cli/disco.js';
import { makeImage } from './photos.js';
import { runSpixnetCli, type CliIo } from '@disco/superpixel/node';

let dir = '';
let data = '';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-faults-'));
  data = path.join(dir, 'photos');
  fs.mkdirSync(data);
  for (let i = 0; i < 12; i++) await makeImage(path.join(data, `p${i}.png`), i);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function capture(files?: FaultyFileSystem): CliIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => void lines.push(l), err: (l) => void lines.push(l), ...(files ? { fs: files } : {}) };
}

const CKPT_TMP = /\.checkpoint\.\d+\.[0-9a-f]{8}\.tmp$/;
const CKPT_OLD = /\.checkpoint\.\d+\.[0-9a-f]{8}\.old$/;

interface Snapshot {
  dir: string;
  op: MutatingOp;
  at: string;
  torn: boolean;
}

/**
 * A recording file system that copies the run folder before every write point of the `commit`-th
 * checkpoint commit: each copy is the disk as a kill at that point leaves it. For a write, a
 * second copy also gets the first half of the bytes (a kill in the middle of the write).
 */
function snapshotter(run: string, commit: number, into: string): { fs: FaultyFileSystem; snaps: Snapshot[]; written: Map<string, Uint8Array> } {
  const snaps: Snapshot[] = [];
  const written = new Map<string, Uint8Array>();
  let commits = 0;
  let inside = false;
  const copy = (op: MutatingOp, at: string): string => {
    const d = path.join(into, `s${String(snaps.length).padStart(2, '0')}`);
    fs.cpSync(run, d, { recursive: true });
    snaps.push({ dir: d, op, at, torn: false });
    return d;
  };
  const ffs = new FaultyFileSystem({
    onOp: (_i, op, p, bytes) => {
      if (op === 'mkdirSync' && CKPT_TMP.test(p)) inside = ++commits === commit;
      if (!inside) return;
      copy(op, p);
      if (op === 'writeSync' && bytes && bytes.length > 1) {
        written.set(path.basename(p), bytes.slice());
        const d = copy(op, p);
        snaps[snaps.length - 1]!.torn = true;
        fs.appendFileSync(path.join(d, path.relative(run, p)), bytes.subarray(0, Math.floor(bytes.length / 2)));
      }
      if (op === 'rmSync' && CKPT_OLD.test(p)) inside = false;
    },
  });
  return { fs: ffs, snaps, written };
}

/** Groups the snapshots by the checkpoint recovery finds in them (without changing them). */
function recovered(snaps: Snapshot[], legacyFiles: string[]): Map<number, Snapshot[]> {
  const groups = new Map<number, Snapshot[]>();
  for (const s of snaps) {
    const ck = loadCheckpoint<{ step: number }>(s.dir, { repair: false, legacyFiles });
    expect(ck, `${s.op} ${s.at}`).not.toBeNull();
    expect(ck!.verified).toBe(true);
    groups.set(ck!.state.step, [...(groups.get(ck!.state.step) ?? []), s]);
  }
  return groups;
}

describe('disco train: a kill at every write point of a checkpoint commit', () => {
  const args = (out: string, extra: string[] = []) => ['train', '--config', 'tiny', '--data', data, '--out', out, '--steps', '3', '--batch-size', '2', '--perceptual', 'none', '--validate-every', '0', '--checkpoint-every', '1', '--backend', 'wasm', ...extra];

  it('recovers the previous or the new checkpoint (sha256-verified, byte for byte), and resuming from either gives the byte-identical final weights', async () => {
    const a = path.join(dir, 'train-a');
    const snapRoot = path.join(dir, 'train-snaps');
    const rec = snapshotter(a, 2, snapRoot);
    await runDiscoCli(args(a), capture(rec.fs));
    const final = fs.readFileSync(path.join(a, 'model', 'weights.bin'));
    expect(rec.snaps.length).toBeGreaterThanOrEqual(16); // mkdir, 2 files × (open, write, torn write, fsync, close), folder flushes, 2 renames, rm
    const ops = new Set(rec.snaps.map((s) => s.op));
    for (const op of ['mkdirSync', 'openSync', 'writeSync', 'fsyncSync', 'closeSync', 'renameSync', 'rmSync']) expect(ops.has(op as MutatingOp)).toBe(true);
    const ck1 = fs.readFileSync(path.join(rec.snaps[0]!.dir, 'checkpoint', 'weights.bin'));
    const ck2 = rec.written.get('weights.bin')!;
    const groups = recovered(rec.snaps, ['weights.bin']);
    expect([...groups.keys()].sort()).toEqual([1, 2]);
    for (const [step, snaps] of groups)
      for (const s of snaps) {
        const w = loadCheckpoint<{ step: number }>(s.dir, { repair: false })!.files['weights.bin']!;
        expect(Buffer.from(w).equals(Buffer.from(step === 1 ? ck1 : ck2)), `${s.op} ${s.at}`).toBe(true);
      }
    // One resume per recovered state, from its hardest layout: a torn write (step 1), and the
    // moment between the two renames when checkpoint/ is absent (step 2).
    const between = groups.get(2)!.find((s) => !fs.existsSync(path.join(s.dir, 'checkpoint')));
    const torn = groups.get(1)!.find((s) => s.torn);
    expect(between && torn).toBeTruthy();
    for (const s of [torn!, between!]) {
      const io = capture();
      await runDiscoCli(args(s.dir, ['--resume']), io);
      expect(fs.readFileSync(path.join(s.dir, 'model', 'weights.bin')).equals(final), `resume after ${s.op} ${s.at}`).toBe(true);
      expect(fs.readdirSync(s.dir).filter((f) => f.startsWith('.'))).toEqual([]);
    }
  });

  it('ENOSPC in the weights write and EACCES at the commit rename: one line naming the path, the previous checkpoint kept and verified, no temporary folder', async () => {
    const probe = new FaultyFileSystem();
    await runDiscoCli(args(path.join(dir, 'train-p'), ['--steps', '2']), capture(probe));
    const second = probe.ops.filter((o) => o.op === 'mkdirSync' && CKPT_TMP.test(o.path))[1]!.index;
    const weightsWrite = probe.ops.find((o) => o.index > second && o.op === 'writeSync' && o.path.endsWith('weights.bin'))!.index;
    const commitRename = probe.ops.filter((o) => o.index > second && o.op === 'renameSync')[1]!.index;
    for (const [at, fault] of [
      [weightsWrite, 'ENOSPC'],
      [commitRename, 'EACCES'],
    ] as Array<[number, FaultKind]>) {
      const out = path.join(dir, `train-${fault}`);
      const err = await runDiscoCli(args(out, ['--steps', '2']), capture(new FaultyFileSystem({ at, fault }))).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message.split('\n')).toHaveLength(1);
      expect(err?.message).toMatch(new RegExp(`^train: checkpoint at step 2 not written: cannot (write|commit) ${out.replace(/[.]/g, '\\.')}/.*: ${fault}: .*; the checkpoint of step 1 is kept in ${out.replace(/[.]/g, '\\.')}/checkpoint$`));
      const ck = loadCheckpoint<{ step: number }>(out, { repair: false })!;
      expect([ck.state.step, ck.verified]).toEqual([1, true]);
      expect(fs.readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    }
  });
});

describe('spixnet train: a kill at every write point of a checkpoint commit', () => {
  it('recovers the previous or the new checkpoint, and resuming from either gives the byte-identical final weights', async () => {
    const train = path.join(dir, 'sp-data');
    fs.mkdirSync(train);
    for (let i = 0; i < 4; i++) await sharp(path.join(data, `p${i}.png`)).resize(32, 32).toFile(path.join(train, `i${i}.png`));
    const common = (out: string, extra: string[] = []) => ['train', '--data', train, '--out', out, '--steps', '3', '--checkpoint-every', '1', '--preset', 'tiny', '--size', '32', '--cell', '8', '--batch-size', '2', '--lr', '0.01', '--seed', '3', '--backend', 'wasm', ...extra];
    const a = path.join(dir, 'sp-a');
    const rec = snapshotter(a, 2, path.join(dir, 'sp-snaps'));
    await runSpixnetCli(common(a), capture(rec.fs));
    const final = fs.readFileSync(path.join(a, 'model', 'weights.bin'));
    const files = ['model.json', 'weights.bin', 'optimizer.bin'];
    const groups = recovered(rec.snaps, files);
    expect([...groups.keys()].sort()).toEqual([1, 2]);
    const between = groups.get(2)!.find((s) => !fs.existsSync(path.join(s.dir, 'checkpoint')));
    const torn = groups.get(1)!.find((s) => s.torn);
    for (const s of [torn!, between!]) {
      await runSpixnetCli(common(s.dir, ['--resume']), capture());
      expect(fs.readFileSync(path.join(s.dir, 'model', 'weights.bin')).equals(final), `resume after ${s.op} ${s.at}`).toBe(true);
      expect(fs.readdirSync(s.dir).filter((f) => f.startsWith('.'))).toEqual([]);
    }
  });
});

describe('disco colorize under faults', () => {
  const input = () => path.join(data, 'p1.png');
  const listPngs = (out: string) => (fs.existsSync(out) ? fs.readdirSync(out).filter((f) => f.endsWith('.png')) : []);

  it('ENOSPC, EACCES and a kill at every write point: no half-written or temporary file, every error one line naming a path in the output folder', async () => {
    const ref = path.join(dir, 'col-ref');
    const probe = new FaultyFileSystem();
    await runDiscoCli(['colorize', input(), '-o', ref, '--backend', 'wasm'], capture(probe));
    const refPng = fs.readFileSync(path.join(ref, 'p1.png'));
    const points = probe.ops.length;
    expect(points).toBeGreaterThan(15);
    let n = 0;
    let cleaned = 0;
    // Kills: at the points of the image and manifest writes (the others come before any output).
    const firstPng = probe.ops.find((o) => /\.p1\.png\.\d+\.[0-9a-f]{8}\.tmp$/.test(o.path))!.index;
    for (const fault of ['ENOSPC', 'EACCES', 'kill'] as FaultKind[])
      for (let at = fault === 'kill' ? firstPng : 1; at <= points; at++) {
        const out = path.join(dir, `col-${n++}`);
        const ffs = new FaultyFileSystem({ at, fault });
        const io = capture(ffs);
        const where = `${fault} at ${at} (${probe.ops[at - 1]!.op} ${probe.ops[at - 1]!.path})`;
        const err = await runDiscoCli(['colorize', input(), '-o', out, '--backend', 'wasm'], io).then(
          () => null,
          (e: Error) => e,
        );
        expect(ffs.fired, where).toBe(true);
        if (fault !== 'kill') {
          const reported = [...(err ? [err.message] : []), ...io.lines.filter((l) => l.startsWith('colorize: '))];
          expect(reported.length, where).toBeGreaterThan(0);
          for (const m of reported) {
            expect(m.split('\n'), where).toHaveLength(1);
            expect(m, where).toContain(out);
            expect(m, where).toContain(fault);
          }
          if (!err) expect(io.lines.some((l) => l.startsWith('colorized ')), where).toBe(true);
          if (fs.existsSync(path.join(out, 'colorize.json'))) expect(() => JSON.parse(fs.readFileSync(path.join(out, 'colorize.json'), 'utf8'))).not.toThrow();
        }
        for (const f of listPngs(out)) expect(fs.readFileSync(path.join(out, f)).equals(refPng), where).toBe(true);
        const leftovers = fs.existsSync(out) ? fs.readdirSync(out).filter((f) => f.endsWith('.tmp')) : [];
        if (fault !== 'kill') expect(leftovers, where).toEqual([]);
        else if (leftovers.length > 0) {
          // The next run removes what the killed one left, then works.
          cleaned++;
          await runDiscoCli(['colorize', input(), '-o', out, '--backend', 'wasm'], capture());
          expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp')), where).toEqual([]);
          expect(fs.readFileSync(path.join(out, 'p1.png')).equals(refPng), where).toBe(true);
        }
      }
    expect(cleaned).toBeGreaterThan(0);
  });

  it('an output folder that takes no files is found before any image is read: one line naming the read-only parent', async () => {
    const parent = path.join(dir, 'ro');
    fs.mkdirSync(parent);
    const out = path.join(parent, 'a', 'b');
    const opened: string[] = [];
    const ffs = new FaultyFileSystem({ readOnly: (p) => p.startsWith(parent), unreadable: (p) => {
        opened.push(p);
        return false;
      },
    });
    await expect(runDiscoCli(['colorize', input(), '-o', out, '--backend', 'wasm'], capture(ffs))).rejects.toThrow(`-o: cannot create '${out}': '${parent}' is not writable (EROFS: read-only file system)`);
    expect(opened.filter((p) => p.endsWith('.png'))).toEqual([]);
    fs.mkdirSync(out, { recursive: true });
    await expect(runDiscoCli(['colorize', input(), '-o', out, '--backend', 'wasm'], capture(ffs))).rejects.toThrow(`-o: folder '${out}' is not writable: EROFS: read-only file system`);
  });

  it('a folder that stops taking files mid-batch stops the batch with a summary; the manifest keeps what was finished', async () => {
    const out = path.join(dir, 'col-stop');
    const inputs = [1, 2, 3].map((i) => path.join(data, `p${i}.png`));
    const probe = new FaultyFileSystem();
    await runDiscoCli(['colorize', ...inputs, '-o', path.join(dir, 'col-stop-ref'), '--backend', 'wasm'], capture(probe));
    const secondPng = probe.ops.find((o) => o.op === 'openSync' && /\.p2\.png\.\d+\.[0-9a-f]{8}\.tmp$/.test(o.path))!.index;
    const io = capture(new FaultyFileSystem({ at: secondPng, fault: 'EACCES' }));
    await runDiscoCli(['colorize', ...inputs, '-o', out, '--backend', 'wasm'], io);
    expect(process.exitCode).toBe(2);
    process.exitCode = 0;
    expect(io.lines.filter((l) => l.startsWith('colorize: '))).toEqual([expect.stringMatching(new RegExp(`^colorize: ${inputs[1]}: cannot write ${out}/p2\\.png: EACCES: permission denied$`))]);
    expect(io.lines.at(-1)).toMatch(new RegExp(`^colorized 1/3 images into ${out} \\(1 failed\\); stopped, 1 not attempted: the output folder takes no more files`));
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'colorize.json'), 'utf8'));
    expect(manifest.complete).toBe(false);
    expect(manifest.results.map((r: { outputs?: string[]; error?: string }) => (r.outputs ? 'ok' : r.error!.slice(0, 13)))).toEqual(['ok', 'cannot write ', 'not attempted']);
    expect(listPngs(out)).toEqual(['p1.png']);
    // A kill at the second image: the incremental manifest (colorize.jsonl) holds the first.
    const killed = path.join(dir, 'col-killed');
    await runDiscoCli(['colorize', ...inputs, '-o', killed, '--backend', 'wasm'], capture(new FaultyFileSystem({ at: secondPng, fault: 'kill' }))).catch(() => undefined);
    const lines = fs.readFileSync(path.join(killed, 'colorize.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { input: string; outputs: string[] });
    expect(lines).toEqual([{ input: inputs[0], outputs: [path.join(killed, 'p1.png')], anchors: 8, outputsSha256: [expect.stringMatching(/^[0-9a-f]{64}$/)], key: expect.objectContaining({ input: expect.stringMatching(/^[0-9a-f]{64}$/) }) }]);
    expect(listPngs(killed)).toEqual(['p1.png']);
  });
});
