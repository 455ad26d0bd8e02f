import { execFileSync, spawn } from 'node:child_process';
import * as os from 'node:os';
import sharp from 'sharp';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('bin/disco.mjs', () => {
  it('--version and -V print the package version without loading the CLI', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const out = execFileSync(process.execPath, [path.join(pkgDir, 'bin', 'disco.mjs'), flag], { encoding: 'utf8' });
      expect(out).toBe(`${version}\n`);
    }
  });
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-bin-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function greyPng(file: string, w = 40, h = 36): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7) % 251;
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

/** Runs the bin from `cwd` (outside the repository); resolves with its exit status, signal and stderr. */
function runBin(args: string[], cwd: string, onStart?: (pid: number) => void, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(pkgDir, 'bin', 'disco.mjs'), ...args], { cwd, env: { ...process.env, DISCO_BACKEND: 'wasm', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    onStart?.(p.pid!);
    p.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The process ids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return fs.readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(pid);
    } catch {
      return false;
    }
  }).map(Number);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bin/disco.mjs outside the repository (issue 27 #10, #11)', () => {
  it('colorize --workers 2 runs from a folder outside the repository', async () => {
    for (const n of ['a', 'b']) await greyPng(path.join(tmp, `${n}.png`));
    const r = await runBin(['colorize', 'a.png', 'b.png', '-o', 'out', '--workers', '2'], tmp);
    expect(r.stderr).not.toMatch(/Cannot find package/);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(path.join(tmp, 'out')).filter((f) => f.endsWith('.png')).sort()).toEqual(['a.png', 'b.png']);
  }, 120_000);

  it('DISCO_CONV_THREADS=1000 is one line and exit 1 before anything is written (issue 27 #13)', async () => {
    await greyPng(path.join(tmp, 'c.png'));
    const r = await runBin(['colorize', 'c.png', '-o', 'out13'], tmp, undefined, { DISCO_CONV_THREADS: '1000' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^disco: DISCO_CONV_THREADS must be an integer from 1 to \d+ \(the cores of this machine\); got '1000'/);
    expect(fs.existsSync(path.join(tmp, 'out13'))).toBe(false);
  }, 60_000);

  it.skipIf(process.platform !== 'linux')('SIGTERM to the launcher ends the CLI too; a CLI killed by SIGKILL is reported with the signal', async () => {
    fs.mkdirSync(path.join(tmp, 'many'), { recursive: true });
    for (let k = 0; k < 40; k++) await greyPng(path.join(tmp, 'many', `p${k}.png`), 200, 150);
    let launcher = 0;
    const term = runBin(['colorize', 'many', '-o', 'out-term', '--workers', '1'], tmp, (pid) => (launcher = pid));
    let cli: number[] = [];
    for (let i = 0; i < 100 && cli.length === 0; i++) {
      await sleep(100);
      cli = childrenOf(launcher);
    }
    expect(cli).toHaveLength(1);
    process.kill(launcher, 'SIGTERM');
    const t = await term;
    expect(t.code).toBe(143);
    expect(t.stderr).toMatch(/disco: the command was ended by SIGTERM/);
    await sleep(200);
    expect(alive(cli[0]!)).toBe(false);
    // The CLI killed outright: the launcher says so.
    const kill = runBin(['colorize', 'many', '-o', 'out-kill', '--workers', '1', '--overwrite'], tmp, (pid) => (launcher = pid));
    cli = [];
    for (let i = 0; i < 100 && cli.length === 0; i++) {
      await sleep(100);
      cli = childrenOf(launcher);
    }
    process.kill(cli[0]!, 'SIGKILL');
    const k = await kill;
    expect(k.code).toBe(137);
    expect(k.stderr.trim().split('\n').at(-1)).toBe('disco: the command was ended by SIGKILL (kill -9, or the system ran out of memory)');
  }, 120_000);
});
