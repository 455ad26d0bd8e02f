// The shared CLI launcher (`@disco/runtime/launch`), as an installed package sees it: a bin two
// lines long, the compiled CLI in dist/cli/, no TypeScript source.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const launch = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'launch.mjs')).href;
let pkg: string;

beforeAll(() => {
  pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-launch-'));
  fs.mkdirSync(path.join(pkg, 'bin'));
  fs.mkdirSync(path.join(pkg, 'dist', 'cli'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'fake', version: '9.8.7', type: 'module' }));
  fs.writeFileSync(path.join(pkg, 'bin', 'fake.mjs'), `import { launchCli } from '${launch}';\nlaunchCli(import.meta.url, { name: 'fake', cli: 'fake', project: 'fakeproj' });\n`);
  fs.writeFileSync(path.join(pkg, 'dist', 'cli', 'fake.js'), `process.stdout.write(JSON.stringify(process.argv.slice(2)));\nprocess.exit(Number(process.env.FAKE_EXIT ?? 0));\n`);
});
afterAll(() => fs.rmSync(pkg, { recursive: true, force: true }));

const runBin = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [path.join(pkg, 'bin', 'fake.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('launchCli', () => {
  it('prints the package version for --version and -V without running the CLI', () => {
    for (const flag of ['--version', '-V']) {
      const r = runBin([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('9.8.7\n');
    }
  });

  it('runs the compiled CLI with plain node, passing arguments and the exit status through', () => {
    const r = runBin(['train', '--steps', '3', 'a b']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['train', '--steps', '3', 'a b']);
    expect(runBin(['x'], { FAKE_EXIT: '3' }).status).toBe(3);
  });

  it('names the missing compiled file and the build command in one line, exit 1', () => {
    fs.renameSync(path.join(pkg, 'dist'), path.join(pkg, 'dist-away'));
    try {
      const r = runBin(['train']);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^fake: .*dist\/cli\/fake\.js is missing \(build the package first: npx nx run fakeproj:build\)/);
    } finally {
      fs.renameSync(path.join(pkg, 'dist-away'), path.join(pkg, 'dist'));
    }
  });
});

describe('intArg / positiveArg / numberArg / numberListArg', () => {
  it('parse valid values and reject the rest with one message naming the flag and the value', async () => {
    const { intArg, numberArg, numberListArg, positiveArg } = await import('../src/cli_args.js');
    expect(intArg('--steps', 1)('12')).toBe(12);
    expect(intArg('--limit', 0)('0')).toBe(0);
    for (const bad of ['0', '1.5', 'x', '', ' ']) expect(() => intArg('--steps', 1)(bad)).toThrow(`--steps must be an integer ≥ 1; got '${bad}'`);
    expect(positiveArg('--lr')('2e-4')).toBe(2e-4);
    for (const bad of ['0', '-1', 'Infinity', 'nan', '']) expect(() => positiveArg('--lr')(bad)).toThrow(`--lr must be a positive number; got '${bad}'`);
    expect(numberArg('--alpha', -1)('-1')).toBe(-1);
    expect(numberArg('--alpha', -1)('0.5')).toBe(0.5);
    for (const bad of ['-1.5', '-Infinity', 'x', '']) expect(() => numberArg('--alpha', -1)(bad)).toThrow(`--alpha must be a number ≥ -1; got '${bad}'`);
    const temps = numberListArg('--temps', (t) => t > 0, 'numbers > 0');
    expect(temps('0.2,0.1')).toEqual([0.2, 0.1]);
    for (const bad of ['0.2,0', '0.2,x', 'Infinity']) expect(() => temps(bad)).toThrow(`--temps must be a comma-separated list of numbers > 0; got '${bad}'`);
  });
});
