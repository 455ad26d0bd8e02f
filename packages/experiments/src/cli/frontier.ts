/**
 * `nx run experiments:frontier -- --out frontier.png --series "v4=runs/a,runs/b" [--series …] [--color-share 0.6] [--title t]`
 *
 * The accuracy / color frontier of one or more models from `experiments:score` reports (each
 * folder holds a scores.json; a series' folders are one model scored at several `--anchor-rebalances`
 * α, all on the same photos). Writes the PNG, `<out>.json` (the points) and prints the table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { writeFileAtomic, writeJsonAtomic } from '@disco/runtime/node';
import { frontierPoints, frontierSpec, frontierTable, renderVegaLitePng } from '../node/frontier.js';
import type { HeldoutScores } from '../node/heldout.js';
import { resolveFromCaller as resolve } from './args.js';

/** `label=dir[,dir…]` → the label and the scores.json files. */
function parseSeries(v: string, previous: { label: string; dirs: string[] }[] = []): { label: string; dirs: string[] }[] {
  const eq = v.indexOf('=');
  const dirs = eq > 0 ? v.slice(eq + 1).split(',').map((d) => d.trim()).filter(Boolean) : [];
  if (eq <= 0 || dirs.length === 0) throw new InvalidArgumentError(`--series must be label=dir[,dir…]; got '${v}'`);
  return [...previous, { label: v.slice(0, eq), dirs }];
}

function readScores(dir: string): HeldoutScores {
  const file = path.join(resolve(dir), 'scores.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file (run experiments:score with --out ${dir} first)`);
  let j: { scores?: HeldoutScores };
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8')) as { scores?: HeldoutScores };
  } catch (e) {
    throw new Error(`${file}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!j.scores?.truth || !j.scores.methods) throw new Error(`${file}: not an experiments:score report (no scores.truth / scores.methods)`);
  return j.scores;
}

const program = new Command()
  .name('frontier')
  .description('accuracy / color frontier (ab error against colorfulness) of experiments:score reports')
  .requiredOption('--out <file>', 'PNG to write (the points go to <file>.json)')
  .requiredOption('--series <label=dir,…>', 'a model and its score folders (repeatable)', parseSeries)
  .option('--color-share <x>', "target colorfulness as a share of the photos'", (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !(n > 0 && n <= 1)) throw new InvalidArgumentError(`--color-share must be a number in (0, 1]; got '${v}'`);
    return n;
  }, 0.6)
  .option('--title <text>', 'plot title')
  .action(async (flags: { out: string; series: { label: string; dirs: string[] }[]; colorShare: number; title?: string }) => {
    const reports = flags.series.flatMap((s) => s.dirs.map((d) => ({ label: s.label, scores: readScores(d), source: path.join(d, 'scores.json') })));
    const f = frontierPoints(reports);
    const png = await renderVegaLitePng(frontierSpec(f, { colorShare: flags.colorShare, ...(flags.title ? { title: flags.title } : {}) }));
    const out = resolve(flags.out);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    writeFileAtomic(out, png);
    writeJsonAtomic(`${out}.json`, { command: 'experiments:frontier', series: flags.series, colorShare: flags.colorShare, ...f });
    process.stdout.write(`${frontierTable(f)}\n\nfrontier: ${f.points.length} points → ${out}\n`);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`frontier: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
});
