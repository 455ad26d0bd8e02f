import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The 313 ab bin centres (`test/fixtures/cielab-gamut-313.json`, a copy of `packages/colorize/data`'s). */
export function loadBins(): number[][] {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'cielab-gamut-313.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { points: number[][] }).points;
}

/** Index of the bin whose centre is exactly `[a, b]` (throws if absent). */
export function binOf(points: number[][], a: number, b: number): number {
  const i = points.findIndex((p) => p[0] === a && p[1] === b);
  if (i < 0) throw new Error(`no bin at [${a}, ${b}]`);
  return i;
}
