/**
 * `nx run experiments:sheet -- --out sheet.png --columns "truth=<dir>" "grey=<dir>" … [--names a,b,c] [--height 160]`
 *
 * A contact sheet for looking at colorizations side by side: one row per image name, one column
 * per folder (images matched by base name, any extension; a folder of `--diverse` outputs,
 * `name_T0/T1/T2`, gives one column per suffix), a caption row on top; a missing image is a blank cell.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { intArg, writeFileAtomic } from '@disco/runtime/node';
import { renderSheet, sheetColumns } from '../node/sheet.js';
import { resolveFromCaller as resolve } from './args.js';

const program = new Command()
  .name('sheet')
  .description('contact sheet of images matched by name across folders')
  .requiredOption('--out <file>', 'PNG to write')
  .requiredOption('--columns <title=folder...>', 'one column per folder, in order')
  .option('--names <a,b,…>', 'image base names (rows); default: every name of any column, sorted')
  .option('--height <px>', 'cell height', intArg('--height', 16), 160)
  .action(async (flags: { out: string; columns: string[]; names?: string; height: number }) => {
    const cols = flags.columns.flatMap((c) => sheetColumns(c, resolve));
    const names = flags.names ? flags.names.split(',').map((s) => s.trim()).filter(Boolean) : [...new Set(cols.flatMap((c) => [...c.files.keys()]))].sort();
    const png = await renderSheet(cols, names, flags.height);
    fs.mkdirSync(path.dirname(resolve(flags.out)), { recursive: true });
    writeFileAtomic(resolve(flags.out), png);
    process.stdout.write(`sheet: ${names.length} rows × ${cols.length} columns → ${resolve(flags.out)}\n`);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`sheet: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
});
