/**
 * The one way the project starts a worker thread on one of its own modules, wherever the main
 * process runs: compiled JavaScript runs as is; TypeScript sources (tests, a workspace checkout
 * run through tsx) are loaded through tsx, whose location is resolved here, from this package, so
 * a command started from any working folder (`npx --prefix <repo> disco …`) finds it.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The file URL of tsx's ESM API, resolved from this package (null when tsx is not installed). */
function tsxApiUrl(): string | null {
  try {
    const req = createRequire(import.meta.url);
    return pathToFileURL(req.resolve('tsx/package.json')).href.replace(/package\.json$/, 'dist/esm/api/index.mjs');
  } catch {
    return null;
  }
}

/**
 * Starts a worker thread running `moduleUrl` (a `.js` module, or a `.ts` one loaded through tsx
 * with the `@disco/source` export condition) with `workerData`.
 *
 * @example
 * ```ts
 * const worker = startModuleWorker(new URL('./colorize_worker.js', import.meta.url), { flags });
 * ```
 */
export function startModuleWorker(moduleUrl: URL, workerData: unknown, options: Omit<WorkerOptions, 'eval' | 'workerData'> = {}): Worker {
  if (!moduleUrl.href.endsWith('.ts')) return new Worker(moduleUrl, { ...options, workerData });
  const api = tsxApiUrl();
  if (api === null) throw new Error(`cannot start a worker on ${moduleUrl.href}: it is TypeScript and tsx is not installed (build the package and run its dist/)`);
  const href = JSON.stringify(moduleUrl.href);
  return new Worker(`import(${JSON.stringify(api)}).then((m) => m.tsImport(${href}, ${href}))`, { ...options, eval: true, workerData, execArgv: [...(options.execArgv ?? []), '--conditions=@disco/source'] });
}
