#!/usr/bin/env node
// `spixnet …`: stage-1 training of SPixNet, its quality report and boundary pictures. An installed
// package runs the compiled CLI in dist/ with plain node (no tsx). A workspace checkout (src/
// beside this file, outside node_modules, tsx installed) runs the TypeScript source through tsx
// and the `@disco/source` export condition instead, so an edit takes effect without a build.
// `--version` prints the package version. Exit codes are passed through.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(realpathSync(fileURLToPath(import.meta.url))), '..');
const argv = process.argv.slice(2);

if (argv[0] === '--version' || argv[0] === '-V') {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  process.stdout.write(`${version}\n`);
  process.exit(0);
}

/** The file URL of tsx when this is a workspace checkout with the TypeScript source, else null. */
function workspaceTsx() {
  if (root.split(path.sep).includes('node_modules')) return null;
  if (!existsSync(path.join(root, 'src', 'cli', 'spixnet.ts'))) return null;
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return null;
  }
}

const tsx = workspaceTsx();
if (tsx) {
  const cli = path.join(root, 'src', 'cli', 'spixnet.ts');
  const r = spawnSync(process.execPath, ['--conditions=@disco/source', '--import', tsx, cli, ...argv], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const compiled = path.join(root, 'dist', 'cli', 'spixnet.js');
if (!existsSync(compiled)) {
  process.stderr.write(`spixnet: ${compiled} is missing (build the package first: npx nx run superpixel:build)\n`);
  process.exit(1);
}
const { runSpixnetCli } = await import(pathToFileURL(compiled).href);
try {
  await runSpixnetCli(argv);
} catch (e) {
  const code = e?.exitCode;
  if (code === undefined) process.stderr.write(`spixnet: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(code ?? 1);
}
