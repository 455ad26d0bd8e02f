// The one launcher of the project's command lines (`disco`, `spixnet`, `disco-experiments`): each
// package's bin is two lines that call `launchCli`. Plain JavaScript, shipped as is, so it runs
// before anything is built.
//
// An installed package runs its compiled CLI (dist/cli/<name>.js) with plain node. A workspace
// checkout (src/ beside the bin, outside node_modules, tsx installed) runs the TypeScript source
// through tsx with the `@disco/source` export condition, so an edit takes effect without a build.
// `--version` / `-V` print the package version without loading the CLI. Exit codes pass through;
// SIGTERM, SIGINT and SIGHUP are passed on to the CLI (so it is never left running on its own), and
// a CLI ended by a signal is reported in one line naming it, with exit status 128 + its number.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Runs a package's CLI and exits with its status.
 *
 * @param {string} binUrl `import.meta.url` of the bin file (in `<package>/bin/`).
 * @param {{ name: string, cli: string, project: string }} spec `name`: the command (for messages);
 *   `cli`: the CLI module's base name under `src/cli/` and `dist/cli/`; `project`: the Nx project
 *   that builds it.
 * @example
 * ```js
 * import { launchCli } from '@disco/runtime/launch';
 * launchCli(import.meta.url, { name: 'disco', cli: 'disco', project: 'colorize' });
 * ```
 */
export function launchCli(binUrl, spec) {
  const root = path.resolve(path.dirname(realpathSync(fileURLToPath(binUrl))), '..');
  const argv = process.argv.slice(2);
  if (argv[0] === '--version' || argv[0] === '-V') {
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    process.stdout.write(`${version}\n`);
    process.exit(0);
  }
  const source = path.join(root, 'src', 'cli', `${spec.cli}.ts`);
  const tsx = workspaceTsx(root, source, binUrl);
  const cli = tsx ? source : path.join(root, 'dist', 'cli', `${spec.cli}.js`);
  if (!existsSync(cli)) {
    process.stderr.write(`${spec.name}: ${cli} is missing (build the package first: npx nx run ${spec.project}:build)\n`);
    process.exit(1);
  }
  const args = tsx ? ['--conditions=@disco/source', '--import', tsx, cli, ...argv] : [cli, ...argv];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(sig, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    });
  }
  child.on('error', (e) => {
    process.stderr.write(`${spec.name}: cannot start ${cli}: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      const why = signal === 'SIGKILL' ? ' (kill -9, or the system ran out of memory)' : '';
      process.stderr.write(`${spec.name}: the command was ended by ${signal}${why}\n`);
      process.exit(128 + (constants.signals[signal] ?? 0));
    }
    process.exit(code ?? 1);
  });
}

/** The file URL of tsx when `root` is a workspace checkout with the TypeScript source, else null. */
function workspaceTsx(root, source, binUrl) {
  if (root.split(path.sep).includes('node_modules')) return null;
  if (!existsSync(source)) return null;
  try {
    return pathToFileURL(createRequire(binUrl).resolve('tsx')).href;
  } catch {
    return null;
  }
}
