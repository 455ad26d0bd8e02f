/**
 * Contact sheets: colorizations side by side, one row per image name, one column per folder
 * (images matched by base name), a caption row on top. Node only (sharp).
 */
import * as path from 'node:path';
import sharp from 'sharp';
import { listImages } from '@disco/images';

const stem = (f: string) => path.basename(f).replace(/\.[^.]+$/, '');

/** One column of a sheet: its caption and image name → file. */
export interface SheetColumn {
  /** Caption. */
  title: string;
  /** Base name (without extension) → image file. */
  files: Map<string, string>;
}

/**
 * Parses `title=folder` into a column (folder searched recursively; the first file of each base name wins).
 * A folder of `disco colorize --diverse` outputs (every base name ends in `_T0`, `_T1`, …) is read
 * by {@link sheetColumns} as one column per suffix.
 *
 * @example
 * ```ts
 * const col = sheetColumn('grey=out/grey');
 * ```
 */
export function sheetColumn(spec: string, resolve: (p: string) => string = path.resolve): SheetColumn {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`sheetColumn: '${spec}' must be title=folder`);
  const dir = resolve(spec.slice(eq + 1));
  const files = new Map<string, string>();
  for (const f of listImages(dir)) if (!files.has(stem(f))) files.set(stem(f), f);
  return { title: spec.slice(0, eq), files };
}

const DIVERSE = /^(.+)_T(\d+)$/;

/**
 * Parses `title=folder` into the sheet's columns: one ({@link sheetColumn}), or, when every base
 * name in the folder ends in `_T<n>` (the outputs of `disco colorize --diverse`), one column per
 * `n`, titled `title T<n>`, whose rows are the base names without the suffix.
 *
 * @example
 * ```ts
 * const cols = sheetColumns('diverse=out/diverse'); // titles 'diverse T0', 'diverse T1', 'diverse T2'
 * ```
 */
export function sheetColumns(spec: string, resolve: (p: string) => string = path.resolve): SheetColumn[] {
  const col = sheetColumn(spec, resolve);
  const names = [...col.files.keys()];
  if (names.length === 0 || !names.every((n) => DIVERSE.test(n))) return [col];
  const byT = new Map<number, Map<string, string>>();
  for (const [n, f] of col.files) {
    const [, base, t] = DIVERSE.exec(n)!;
    if (!byT.has(Number(t))) byT.set(Number(t), new Map());
    byT.get(Number(t))!.set(base!, f);
  }
  return [...byT.keys()].sort((a, b) => a - b).map((t) => ({ title: `${col.title} T${t}`, files: byT.get(t)! }));
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Renders the sheet as PNG bytes: rows `names`, each cell the column's image resized to
 * `height` px high (width from the first column that has the image), captions on top. A column
 * without an image of a row leaves that cell blank; a name that no column has is an error.
 *
 * @example
 * ```ts
 * const png = await renderSheet([sheetColumn('truth=photos'), sheetColumn('DISCO=out')], ['flower', 'china']);
 * ```
 */
export async function renderSheet(columns: readonly SheetColumn[], names: readonly string[], height = 160): Promise<Buffer> {
  if (columns.length === 0) throw new Error('renderSheet: no columns');
  if (names.length === 0) throw new Error('renderSheet: no image names');
  const gap = 4;
  const caption = 22;
  const widths: number[] = [];
  for (const n of names) {
    const f = columns.map((c) => c.files.get(n)).find((x) => x !== undefined);
    if (!f) throw new Error(`renderSheet: '${n}' is in no column (${columns.map((c) => c.title).join(', ')})`);
    const m = await sharp(f).metadata();
    widths.push(Math.max(1, Math.round((height * (m.width ?? 1)) / (m.height ?? 1))));
  }
  const cellW = Math.max(...widths);
  const W = columns.length * (cellW + gap) + gap;
  const H = caption + names.length * (height + gap) + gap;
  const layers: sharp.OverlayOptions[] = [];
  const text = columns
    .map((c, j) => `<text x="${gap + j * (cellW + gap) + cellW / 2}" y="16" font-family="sans-serif" font-size="14" text-anchor="middle" fill="#111">${escapeXml(c.title)}</text>`)
    .join('');
  layers.push({ input: Buffer.from(`<svg width="${W}" height="${caption}" xmlns="http://www.w3.org/2000/svg">${text}</svg>`), left: 0, top: 0 });
  for (const [i, n] of names.entries()) {
    for (const [j, c] of columns.entries()) {
      const f = c.files.get(n);
      if (!f) continue; // blank cell
      const img = await sharp(f).resize(widths[i]!, height, { fit: 'fill' }).removeAlpha().png().toBuffer();
      layers.push({ input: img, left: gap + j * (cellW + gap), top: caption + gap + i * (height + gap) });
    }
  }
  return sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } }).composite(layers).png().toBuffer();
}

