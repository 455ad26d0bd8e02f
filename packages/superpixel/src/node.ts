/**
 * `@disco/superpixel/node`: the Node-only half of `@disco/superpixel` — the one SPixNet loader
 * and saver for model folders (`model.json` + `weights.bin`), and the `spixnet` command line of
 * stage-1 training (Xia et al. 2022, §3.1), quality report and boundary pictures. It reads
 * images with `@disco/images` and selects backends with `@disco/runtime`, optional peer
 * dependencies that only this entry point needs.
 *
 * @packageDocumentation
 */
export { buildSpixnetProgram, loadSpixNet, runSpixnetCli, saveSpixNet, type CliIo } from './cli/spixnet.js';
import { loadSpixNet } from './cli/spixnet.js';

/**
 * The former name of {@link loadSpixNet}, kept for one version.
 *
 * @deprecated Use {@link loadSpixNet}.
 */
export const loadNet: typeof loadSpixNet = loadSpixNet;
