/**
 * A `disco colorize --workers N` worker thread: selects its own tfjs backend, loads its own copy
 * of the model, then colorizes the jobs the main thread posts, one at a time, answering each with
 * its {@link JobResult}. Each image's result depends only on the image and the flags, so the
 * outputs equal those of one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ColorVariant } from '@disco/anchors';
import { nodeFileSystem, setupBackendForCli } from '@disco/runtime/node';
import { loadDiscoModel } from '../io/model_files.js';
import { oracleLookup, readHints, runColorizeJob, type ColorizeContext, type ColorizeJob, type ColorizeWorkerInit } from './disco.js';

const port = parentPort!;
const init = workerData as ColorizeWorkerInit;
await setupBackendForCli(init.flags.backend, () => {});
const model = await loadDiscoModel(init.modelDir);
const { flags } = init;
const ctx: ColorizeContext = {
  model,
  flags,
  hints: flags.anchorsFile ? readHints(flags.anchorsFile) : null,
  oracleFor: flags.oracle ? oracleLookup(flags.oracle, init.inputs) : null,
  variants: (flags.diverse ? [0, 1, 2] : [0]) as ColorVariant[],
  K: flags.anchors ?? model.config.anchors,
  files: nodeFileSystem,
};
let queue = Promise.resolve();
port.on('message', (job: ColorizeJob) => {
  queue = queue.then(async () => port.postMessage(await runColorizeJob(job, ctx)));
});
port.postMessage({ ready: true });
