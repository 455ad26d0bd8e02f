/**
 * Packages as a user gets them, for tests: `npm pack` into a temporary folder, then an `npm
 * install` of the tarballs into a scratch project there, run with plain `node`. Needs the npm
 * registry or a populated npm cache (the install prefers the cache).
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * This process's environment without the npm run context (prefix, workspace, package and
 * lifecycle variables), so that a scratch install or script does not act on the workspace.
 */
export function scratchEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (/^npm_(package|lifecycle|command)|^npm_config_(local_prefix|prefix|workspaces?|include_workspace_root)$|^init_cwd$/i.test(k)) continue;
    e[k] = v;
  }
  return e;
}

/** Runs a command in `cwd` with {@link scratchEnv}; returns stdout, throws with stderr on failure. */
export function runScratch(cmd: string, args: readonly string[], cwd: string, timeoutMs = 80_000): string {
  try {
    return execFileSync(cmd, args, { cwd, env: scratchEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${err.message.split('\n')[0]}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/**
 * {@link runScratch} without blocking the event loop (a test runner's worker keeps answering
 * while npm installs).
 */
export function runScratchAsync(cmd: string, args: readonly string[], cwd: string, timeoutMs = 80_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: scratchEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${err.message.split('\n')[0]}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One packed package: its tarball and the paths it holds. */
export interface PackedPackage {
  /** Absolute path of the `.tgz`. */
  tarball: string;
  /** Paths inside the package (`dist/index.js`, `package.json`, …). */
  files: string[];
}

/**
 * `npm pack` of the package folders `dirs` into `dest`. With `ignoreScripts` the prepack build is
 * skipped (build them first, e.g. `nx run <project>:build`, which builds each package once).
 */
export async function packPackages(dirs: readonly string[], dest: string, options: { ignoreScripts?: boolean; timeoutMs?: number } = {}): Promise<PackedPackage[]> {
  const out: PackedPackage[] = [];
  for (const dir of dirs) {
    const args = ['pack', '--json', '--pack-destination', dest, ...(options.ignoreScripts ? ['--ignore-scripts'] : [])];
    const packed = JSON.parse(await runScratchAsync('npm', args, dir, options.timeoutMs)) as { filename: string; files: { path: string }[] }[];
    out.push({ tarball: path.join(dest, packed[0]!.filename), files: packed[0]!.files.map((f) => f.path) });
  }
  return out;
}

/**
 * Creates `<parent>/<name>` as an ESM project and installs `specs` (tarball paths and registry
 * specs such as `@tensorflow/tfjs-core@4.22.0`) into it, from the npm cache when it can, without
 * install scripts. Returns the project folder.
 */
export async function installScratch(parent: string, specs: readonly string[], options: { name?: string; timeoutMs?: number } = {}): Promise<string> {
  const dir = path.join(parent, options.name ?? 'consumer');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'scratch', version: '0.0.0', private: true, type: 'module' }, null, 2));
  await runScratchAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...specs], dir, options.timeoutMs);
  return dir;
}

/** A new temporary folder (`disco-pack-…`) for tarballs and scratch projects; the caller removes it. */
export function packTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'disco-pack-'));
}
