// The checkpoint commit protocol under a kill, a full disk or a permission error at every write
// point; recovery of older layouts; verification of damaged files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FaultyFileSystem, loadCheckpoint, saveCheckpoint, type FaultKind } from '../src/node.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-ckpt-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = path.join(root, `r${n++}`);
  fs.mkdirSync(d);
  return d;
};

const bytes = (seed: number, len: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (i * 31 + seed * 7) & 255);
const A = { files: { 'weights.bin': bytes(1, 3000), 'optimizer.bin': bytes(2, 1000) }, state: { step: 3, note: 'a' } };
const B = { files: { 'weights.bin': bytes(3, 3000), 'optimizer.bin': bytes(4, 1000) }, state: { step: 6, note: 'b' } };
/** A dead process id (above Linux's pid_max). */
const DEAD = 4194305;

function expectIs(got: ReturnType<typeof loadCheckpoint<{ step: number; note: string }>>, want: typeof A): void {
  expect(got).not.toBeNull();
  expect(got!.state).toEqual(want.state);
  expect(Object.keys(got!.files).sort()).toEqual(Object.keys(want.files).sort());
  for (const [k, v] of Object.entries(want.files)) expect(Buffer.from(got!.files[k]!).equals(Buffer.from(v))).toBe(true);
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips files and state, records sha256 per file, leaves only checkpoint/', () => {
    const d = fresh();
    saveCheckpoint(d, A.files, A.state);
    saveCheckpoint(d, B.files, B.state);
    const state = JSON.parse(fs.readFileSync(path.join(d, 'checkpoint', 'state.json'), 'utf8'));
    expect(state.integrity.files['weights.bin']).toEqual({ bytes: 3000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const got = loadCheckpoint<{ step: number; note: string }>(d);
    expectIs(got, B);
    expect(got!.verified).toBe(true);
    expect(fs.readdirSync(d)).toEqual(['checkpoint']);
    expect(loadCheckpoint(fresh())).toBeNull();
  });

  const pd = fresh();
  saveCheckpoint(pd, A.files, A.state);
  const probeB = new FaultyFileSystem();
  saveCheckpoint(pd, B.files, B.state, { fs: probeB });
  const points = probeB.ops.length;

  it(`a kill at each of the ${points} write points of a commit (torn writes included) recovers the old or the new checkpoint, byte for byte`, () => {
    const seen = new Set<number>();
    for (let at = 1; at <= points; at++) {
      const d = fresh();
      saveCheckpoint(d, A.files, A.state);
      const ffs = new FaultyFileSystem({ at, fault: 'kill' });
      try {
        saveCheckpoint(d, B.files, B.state, { fs: ffs });
      } catch {
        // killed (a kill at the final removal of the old folder is swallowed by its best-effort clean-up)
      }
      expect(ffs.killed).toBe(true);
      const got = loadCheckpoint<{ step: number; note: string }>(d);
      expectIs(got, got!.state.step === 6 ? B : A);
      seen.add(got!.state.step);
      expect(fs.readdirSync(d), `kill at ${at} (${probeB.ops[at - 1]!.op})`).toEqual(['checkpoint']);
      // and the next commit works
      saveCheckpoint(d, B.files, { ...B.state, step: 7 });
      expect(loadCheckpoint<{ step: number }>(d)!.state.step).toBe(7);
    }
    expect([...seen].sort()).toEqual([3, 6]);
  });

  it('a kill between the two renames (checkpoint/ absent, old and new both complete) resumes from the new one', () => {
    const d = fresh();
    saveCheckpoint(d, A.files, A.state);
    const at = probeB.ops.findIndex((o) => o.op === 'renameSync') + 2; // the second rename
    expect(probeB.ops[at - 1]!.op).toBe('renameSync');
    expect(() => saveCheckpoint(d, B.files, B.state, { fs: new FaultyFileSystem({ at, fault: 'kill' }) })).toThrow();
    expect(fs.existsSync(path.join(d, 'checkpoint'))).toBe(false);
    const lines: string[] = [];
    const got = loadCheckpoint<{ step: number; note: string }>(d, { log: (l) => lines.push(l) });
    expectIs(got, B);
    expect(got!.repaired).toMatch(/completed an interrupted checkpoint commit: step 6/);
    expect(lines.join('\n')).toMatch(/removed 1 temporary folder/);
  });

  for (const fault of ['ENOSPC', 'EACCES'] as FaultKind[]) {
    it(`${fault} at each of the ${points} write points: one line naming a path in the run folder, the previous checkpoint kept, no partial folder`, () => {
      for (let at = 1; at <= points; at++) {
        const d = fresh();
        saveCheckpoint(d, A.files, A.state);
        const ffs = new FaultyFileSystem({ at, fault });
        let err: Error | null = null;
        try {
          saveCheckpoint(d, B.files, B.state, { fs: ffs });
        } catch (e) {
          err = e as Error;
        }
        const where = `${fault} at ${at} (${probeB.ops[at - 1]!.op} ${probeB.ops[at - 1]!.path})`;
        expect(ffs.fired, where).toBe(true);
        // A failure to flush the run folder after the commit, or to remove the parked old one, is
        // not an error of the commit: the new checkpoint is in place.
        const committed = loadCheckpoint<{ step: number; note: string }>(d, { repair: false })!.state.step === 6;
        if (err) {
          expect(err.message.split('\n'), where).toHaveLength(1);
          expect(err.message, where).toContain(d);
          expect(err.message, where).toContain(fault);
        } else {
          expect(committed, where).toBe(true);
        }
        const names = fs.readdirSync(d);
        if (!committed) expect(names, where).toEqual(['checkpoint']);
        expectIs(loadCheckpoint(d), committed ? B : A);
        expect(fs.readdirSync(d)).toEqual(['checkpoint']);
      }
    });
  }

  it('a damaged checkpoint is an error naming the file, never silently replaced', () => {
    const d = fresh();
    saveCheckpoint(d, A.files, A.state);
    const w = path.join(d, 'checkpoint', 'weights.bin');
    fs.truncateSync(w, 100);
    expect(() => loadCheckpoint(d)).toThrow(`checkpoint ${path.join(d, 'checkpoint')} is damaged: ${w}: 100 bytes, the checkpoint recorded 3000 (truncated or damaged)`);
    fs.writeFileSync(w, Buffer.alloc(3000));
    expect(() => loadCheckpoint(d)).toThrow(/weights\.bin: sha256 differs from the one recorded/);
    const s = path.join(d, 'checkpoint', 'state.json');
    fs.writeFileSync(s, fs.readFileSync(s, 'utf8').slice(0, 40));
    expect(() => loadCheckpoint(d)).toThrow(/state\.json: not valid JSON \(truncated or damaged\)/);
    expect(fs.existsSync(path.join(d, 'checkpoint'))).toBe(true);
  });

  it('recovers the layouts older versions left after a kill between renames (no checksums: legacy files must exist)', () => {
    const legacy = (dir: string, step: number, file: string): void => {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, file), bytes(step, 10));
      fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ step }));
    };
    // disco train: `.checkpoint.old` + `.checkpoint.<pid>.tmp`
    const d = fresh();
    legacy(path.join(d, '.checkpoint.old'), 3, 'weights.bin');
    legacy(path.join(d, `.checkpoint.${DEAD}.tmp`), 6, 'weights.bin');
    expect(loadCheckpoint(d)).toBeNull(); // a reader that cannot check them finds none, and discards nothing
    expect(fs.readdirSync(d).sort()).toEqual([`.checkpoint.${DEAD}.tmp`, '.checkpoint.old']);
    const got = loadCheckpoint<{ step: number }>(d, { legacyFiles: ['weights.bin'] });
    expect(got!.state.step).toBe(6);
    expect(got!.verified).toBe(false);
    expect(fs.readdirSync(d)).toEqual(['checkpoint']);
    // spixnet train: `.checkpoint.<pid>.old` + `.checkpoint.<pid>.tmp` (the tmp incomplete here: no state.json)
    const e = fresh();
    legacy(path.join(e, `.checkpoint.${DEAD}.old`), 4, 'optimizer.bin');
    fs.mkdirSync(path.join(e, `.checkpoint.${DEAD}.tmp`));
    fs.writeFileSync(path.join(e, `.checkpoint.${DEAD}.tmp`, 'optimizer.bin'), 'partial');
    expect(loadCheckpoint<{ step: number }>(e, { legacyFiles: ['optimizer.bin'] })!.state.step).toBe(4);
    expect(fs.readdirSync(e)).toEqual(['checkpoint']);
  });

  it("leaves a running process's temporary folder alone", () => {
    const d = fresh();
    saveCheckpoint(d, A.files, A.state);
    const live = path.join(d, `.checkpoint.${process.ppid}.0123abcd.tmp`);
    fs.mkdirSync(live);
    saveCheckpoint(d, B.files, B.state);
    expect(loadCheckpoint<{ step: number }>(d)!.state.step).toBe(6);
    expect(fs.existsSync(live)).toBe(true);
  });
});
