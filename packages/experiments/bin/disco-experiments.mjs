#!/usr/bin/env node
// `disco-experiments …`: the paper's ablations (train, score, report). An installed package runs the
// compiled CLI in dist/ with plain node. A workspace checkout (src/ beside this file, outside
// node_modules, tsx installed) runs the TypeScript source through tsx and the `@disco/source`
// export condition. Exit codes are passed through.
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

function workspaceTsx() {
  if (root.split(path.sep).includes('node_modules')) return null;
  if (!existsSync(path.join(root, 'src', 'cli', 'experiments.ts'))) return null;
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return null;
  }
}

const tsx = workspaceTsx();
const cli = tsx ? path.join(root, 'src', 'cli', 'experiments.ts') : path.join(root, 'dist', 'cli', 'experiments.js');
if (!existsSync(cli)) {
  process.stderr.write(`disco-experiments: ${cli} is missing (build the package first: npx nx run experiments:build)\n`);
  process.exit(1);
}
const args = tsx ? ['--conditions=@disco/source', '--import', tsx, cli, ...argv] : [cli, ...argv];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
