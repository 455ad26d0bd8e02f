/**
 * `disco parity` and `disco convert`: the published DISCO checkpoints on the command line.
 *
 *   disco parity <fixture dir> [--weights <checkpoint.pth[.tar] | model dir>] [--json <file>] [--cases a,b]
 *   disco convert <checkpoint.pth[.tar]> -o <model dir>
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { collectRunInfo, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import type { CliIo } from '@disco/superpixel/node';
import { formatParityTable, parityModel, readParityFixture, runParity, type ParityRow } from '../io/parity.js';
import { loadDiscoModel, saveDiscoModel } from '../io/model_files.js';
import { readOfficialCheckpoint } from '../io/official_checkpoint.js';
import { asDiscoModel } from '../model/baseline.js';
import type { DiscoModel } from '../model/disco.js';
import { OFFICIAL_CONFIG } from '../model/official.js';
import { extensionsOf } from '../model/config.js';

interface ParityFlags {
  weights?: string;
  json?: string;
  cases?: string;
  backend?: string;
}

async function parity(dir: string, flags: ParityFlags, io: CliIo): Promise<number> {
  const backend = await setupBackendForCli(flags.backend, io.err);
  const fixtureDir = path.resolve(dir);
  const fixture = await readParityFixture(fixtureDir);
  if (flags.cases) {
    const wanted = flags.cases.split(',').map((s) => s.trim());
    const unknown = wanted.filter((w) => !fixture.cases.some((c) => c.name === w));
    if (unknown.length) throw new Error(`--cases: no case '${unknown[0]}' in ${fixtureDir}; valid: ${fixture.cases.map((c) => c.name).join(', ')}`);
    fixture.cases = fixture.cases.filter((c) => wanted.includes(c.name));
  }
  let model: DiscoModel;
  let weights: string;
  if (flags.weights === undefined) {
    model = await parityModel(fixtureDir);
    weights = `rule of ${path.join(fixtureDir, 'weights.json')}`;
  } else {
    const file = path.resolve(flags.weights);
    if (!fs.existsSync(file)) throw new Error(`--weights: '${file}' does not exist`);
    // A checkpoint file or a model folder, loaded exactly as `--model` loads it.
    let loaded;
    try {
      loaded = await loadDiscoModel(file);
    } catch (e) {
      throw new Error((e as Error).message.replace(/^--model: /, '--weights: '));
    }
    try {
      model = asDiscoModel(loaded, `--weights: ${file}`);
    } catch (e) {
      loaded.dispose();
      throw e;
    }
    weights = file;
  }
  io.err(`parity: ${fixture.cases.length} case(s) of ${fixtureDir}, weights: ${weights}`);
  let rows: ParityRow[];
  const t0 = performance.now();
  try {
    if (model.extensions.padding !== extensionsOf(OFFICIAL_CONFIG).padding || model.extensions.anchorRules !== extensionsOf(OFFICIAL_CONFIG).anchorRules) {
      io.err(`parity: note: the model pads '${model.extensions.padding}' and uses the '${model.extensions.anchorRules}' anchor rules; the published model pads 'symmetric' with the 'published' rules`);
    }
    let last = '';
    rows = await runParity(model, fixture, {
      onRow: (r) => {
        if (r.case !== last) io.err(`parity: ${r.case} …`);
        last = r.case;
      },
    });
  } finally {
    model.dispose();
  }
  const failed = rows.filter((r) => !r.pass);
  io.out(formatParityTable(rows));
  io.out(`\n${rows.length - failed.length} of ${rows.length} stages within tolerance${failed.length ? `; outside: ${failed.map((r) => `${r.case}/${r.stage}${r.variant !== null ? `/T${r.variant}` : ''} (${r.mode})`).join(', ')}` : ''} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  if (flags.json) {
    writeJsonAtomic(path.resolve(flags.json), { fixture: fixtureDir, weights, pass: failed.length === 0, backend: backend.name, run: collectRunInfo(), rows });
  }
  return failed.length === 0 ? 0 : 1;
}

async function convert(file: string, outDir: string, io: CliIo, backendFlag?: string): Promise<void> {
  await setupBackendForCli(backendFlag, io.err);
  const src = path.resolve(file);
  const out = path.resolve(outDir);
  if (!fs.existsSync(src)) throw new Error(`'${src}' does not exist`);
  if (!fs.statSync(src).isFile()) throw new Error(`'${src}' is not a file (a PyTorch checkpoint, e.g. disco-c0.2.pth.tar)`);
  const { model, sha256, bytes } = readOfficialCheckpoint(src, { build: true });
  try {
    await saveDiscoModel(model!, out, { convertedFrom: path.basename(src), sourceSha256: sha256, sourceBytes: bytes, format: 'the published DISCO checkpoint (Xia et al. 2022), converted by disco convert' });
  } finally {
    model!.dispose();
  }
  io.out(`converted ${src} (sha256 ${sha256.slice(0, 12)}…) to ${out}: the published model, 'paper' config with symmetric padding and the published anchor rules`);
}

/** Adds `parity` and `convert` to the `disco` program. */
export function addOfficialCommands(program: Command, io: CliIo): void {
  program
    .command('parity')
    .description('check this model against a fixture recorded from the published PyTorch DISCO, stage by stage (exit 0 only within its tolerances)')
    .argument('<fixture>', 'fixture folder (fixture.json, weights.json, explicit.bin, cases/)')
    .option('--weights <file|dir>', "a PyTorch checkpoint (.pth/.pth.tar) or a model folder, loaded as users load it (default: the fixture's weight rule)")
    .option('--json <file>', 'also write the rows as JSON')
    .option('--cases <names>', 'comma-separated case names (default: all)')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .action(async (dir: string, flags: ParityFlags) => {
      process.exitCode = await parity(dir, flags, io);
    });
  program
    .command('convert')
    .description('convert a published DISCO checkpoint (torch.save, zip or legacy) into a model folder')
    .argument('<checkpoint>', 'the .pth / .pth.tar file')
    .requiredOption('-o, --output <dir>', 'model folder to write (disco-model.json, weights.bin)')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .action(async (file: string, flags: { output: string; backend?: string }) => convert(file, flags.output, io, flags.backend));
}
