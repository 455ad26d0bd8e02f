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
export { buildSpixnetProgram, runSpixnetCli, type CliIo } from './cli/spixnet.js';
export { loadSpixNet, saveSpixNet } from './node/files.js';
export { trainSpixNetRun, type TrainSpixNetRunHooks, type TrainSpixNetRunResult, type TrainSpixNetRunSpec } from './node/run.js';
import { loadSpixNet } from './node/files.js';

/**
 * The former name of {@link loadSpixNet}, kept for one version.
 *
 * @deprecated Use {@link loadSpixNet}.
 */
export const loadNet: typeof loadSpixNet = loadSpixNet;
