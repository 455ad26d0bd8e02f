/**
 * `@disco/superpixel/node`: the Node-only half of `@disco/superpixel` — the one SPixNet loader
 * and saver for model folders (`model.json` + `weights.bin`), stage-1 training as a resumable
 * run ({@link trainSpixNetRun}), and the `spixnet` command line of
 * stage-1 training (Xia et al. 2022, §3.1), quality report and boundary pictures. It reads
 * images with `@disco/images` and selects backends with `@disco/runtime`, optional peer
 * dependencies that only this entry point needs.
 *
 * @packageDocumentation
 */
import type { Command } from 'commander';
import type { CliIo } from './cli/spixnet.js';

export type { CliIo } from './cli/spixnet.js';

/** The CLI module, loaded on first use: `commander` (an optional peer) is needed only by the CLI. */
async function cliModule(): Promise<typeof import('./cli/spixnet.js')> {
  try {
    return await import('./cli/spixnet.js');
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    const missing = (x: unknown) => (x as { code?: string })?.code === 'ERR_MODULE_NOT_FOUND' && /'commander'/.test(String((x as Error).message));
    if (missing(e) || missing(cause)) {
      throw new Error("spixnet: the command line needs the optional peer 'commander' (npm i commander@^14)");
    }
    throw e;
  }
}

/**
 * Builds the `spixnet` command-line program (commander; loaded on first call, so importing this
 * entry point needs no `commander`).
 */
export async function buildSpixnetProgram(io?: CliIo): Promise<Command> {
  return (await cliModule()).buildSpixnetProgram(io);
}

/** Runs the `spixnet` command line on `argv` (without `node` and the script name). */
export async function runSpixnetCli(argv: string[], io?: CliIo): Promise<void> {
  return (await cliModule()).runSpixnetCli(argv, io);
}
export { loadSpixNet, saveSpixNet } from './node/files.js';
export { trainSpixNetRun, type TrainSpixNetRunHooks, type TrainSpixNetRunResult, type TrainSpixNetRunSpec } from './node/run.js';
