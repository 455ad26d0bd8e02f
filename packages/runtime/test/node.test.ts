import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectRunInfo, formatDuration, Progress, resolveBackendChoice, writeFileAtomic, writeJsonAtomic } from '../src/node.js';

describe('resolveBackendChoice', () => {
  it('prefers the flag, then DISCO_BACKEND, then auto', () => {
    expect(resolveBackendChoice('cpu', { DISCO_BACKEND: 'wasm' })).toBe('cpu');
    expect(resolveBackendChoice(undefined, { DISCO_BACKEND: 'wasm' })).toBe('wasm');
    expect(resolveBackendChoice(undefined, {})).toBe('auto');
  });
  it('names the source of a bad value', () => {
    expect(() => resolveBackendChoice('gpu', {})).toThrow("--backend: unknown backend 'gpu'; valid: auto, tensorflow, wasm, cpu");
    expect(() => resolveBackendChoice(undefined, { DISCO_BACKEND: 'webgl' })).toThrow(/^DISCO_BACKEND: unknown backend 'webgl'/);
  });
});

describe('writeFileAtomic', () => {
  it('writes, replaces and leaves no temporary file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-'));
    const f = path.join(dir, 'sub', 'a.json');
    writeJsonAtomic(f, { a: 1 });
    writeJsonAtomic(f, { a: 2 });
    expect(JSON.parse(fs.readFileSync(f, 'utf8'))).toEqual({ a: 2 });
    expect(fs.readdirSync(path.dirname(f))).toEqual(['a.json']);
  });
  it('keeps the old file and removes the temporary one when the write fails', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-'));
    const target = path.join(dir, 'target');
    fs.mkdirSync(target); // renaming a file over a directory fails
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    expect(() => writeFileAtomic(target, 'data')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['target']);
  });
});

describe('Progress', () => {
  it('prints rate and ETA at the interval and always the last step', () => {
    let t = 0;
    const lines: string[] = [];
    const p = new Progress({ total: 10, label: 'train', intervalMs: 1000, now: () => t, write: (l) => lines.push(l) });
    t = 2000;
    expect(p.update(4, { loss: 1.5 })).toBe('train 4/10 (40.0%) 2.00 it/s elapsed 0:02 ETA 0:03 loss=1.5000');
    t = 2500;
    expect(p.update(5)).toBeNull();
    t = 2600;
    expect(p.update(10)).toMatch(/^train 10\/10 \(100\.0%\)/);
    expect(lines).toHaveLength(2);
  });
  it('formats durations', () => {
    expect(formatDuration(59.6)).toBe('1:00');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Infinity)).toBe('?');
  });
});

describe('collectRunInfo', () => {
  it('reports a commit hash or unknown, and the machine', () => {
    const info = collectRunInfo();
    expect(info.gitCommit === 'unknown' || /^[0-9a-f]{40}$/.test(info.gitCommit)).toBe(true);
    expect(info.machine.cores).toBeGreaterThan(0);
  });
});
