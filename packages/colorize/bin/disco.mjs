#!/usr/bin/env node
// `npx disco …`: runs the TypeScript CLI from source (no build step) with the workspace's tsx and
// the `@disco/source` export condition. Exit codes are passed through.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tsx = pathToFileURL(require.resolve('tsx')).href;
const cli = path.join(here, '..', 'src', 'cli', 'disco.ts');
const r = spawnSync(process.execPath, ['--conditions=@disco/source', '--import', tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
