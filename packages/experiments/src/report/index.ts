/**
 * Writes an ablation grid's report files (Node): `results.json`, `report.md` and the
 * self-contained `report.html`, each atomically (temporary file, flush, rename), so an
 * interrupted write never leaves a half-written report.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { writeFileAtomic } from '@disco/runtime/node';
import type { GridResults } from '../ablation/types.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { gridStats, type IntervalOptions } from './stats.js';

/** Path of the tfjs-vis browser bundle (UMD, minified; it bundles tfjs-core, vega, vega-lite and vega-embed). */
export function tfvisBundlePath(): string {
  return createRequire(import.meta.url).resolve('@tensorflow/tfjs-vis/dist/tfjs-vis.umd.min.js');
}

let bundleCache: string | null = null;

/** The tfjs-vis browser bundle's text (read once per process). */
export function loadTfvisBundle(): string {
  bundleCache ??= fs.readFileSync(tfvisBundlePath(), 'utf8');
  return bundleCache;
}

const MIME: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif' };

/** Options of {@link writeReport}. */
export interface WriteReportOptions extends IntervalOptions {
  /** Images up to this many bytes are inlined as data URIs (default 262 144); larger ones, or once {@link WriteReportOptions.inlineTotalBytes} is spent, are linked relative to the report. 0: link all. */
  inlineImageBytes?: number;
  /** Budget of inlined image bytes for the whole page (default 16 MiB). */
  inlineTotalBytes?: number;
  /** Report title. */
  title?: string;
}

/**
 * An `<img src>` resolver for images under `dir`: a data URI for small existing files (within the
 * byte budget), else the path relative to `dir`, URL-encoded per segment (a missing file stays a
 * link, so the page shows a broken image rather than silently nothing).
 */
export function imageSourceResolver(dir: string, options: { inlineImageBytes?: number; inlineTotalBytes?: number } = {}): (relativePath: string) => string {
  const limit = options.inlineImageBytes ?? 256 * 1024;
  let budget = options.inlineTotalBytes ?? 16 * 1024 * 1024;
  const cache = new Map<string, string>();
  return (rel) => {
    const hit = cache.get(rel);
    if (hit) return hit;
    const link = rel.split(/[\\/]/).map(encodeURIComponent).join('/');
    let out = link;
    const mime = MIME[path.extname(rel).toLowerCase()];
    const file = path.resolve(dir, rel);
    if (mime && limit > 0) {
      try {
        const size = fs.statSync(file).size;
        if (size <= limit && size <= budget) {
          out = `data:${mime};base64,${fs.readFileSync(file).toString('base64')}`;
          budget -= size;
        }
      } catch {
        // missing or unreadable: keep the link
      }
    }
    cache.set(rel, out);
    return out;
  };
}

/**
 * Writes `results.json`, `report.md` and `report.html` into `outDir` (the grid folder: the
 * runs' sample paths are relative to it), each atomically, and returns their paths.
 *
 * @example
 * const files = writeReport('runs/ablation-all', results);
 * // files.html → open in a browser from file://, no network needed
 */
export function writeReport(outDir: string, results: GridResults, options: WriteReportOptions = {}): { json: string; md: string; html: string } {
  const stats = gridStats(results, options);
  const json = path.join(outDir, 'results.json');
  const md = path.join(outDir, 'report.md');
  const html = path.join(outDir, 'report.html');
  const title = options.title ? { title: options.title } : {};
  const page = renderHtml(results, { ...title, stats, tfvisScript: loadTfvisBundle(), imageSource: imageSourceResolver(outDir, options) });
  const text = renderMarkdown(results, { ...title, stats });
  writeFileAtomic(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileAtomic(md, text);
  writeFileAtomic(html, page);
  return { json, md, html };
}
